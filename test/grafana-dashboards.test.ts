import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import {
  ensurePromtoolInstalled,
  makeTempDir,
  startDaemon,
  testConfig,
  waitFor,
  type DaemonProcess,
} from './support/autoscaler.js';
import { cadvisorLines, lineProtocolTag, startInfluxDb, type InfluxDbServer } from './support/influxdb.js';

/**
 * Every dashboard in grafana/: its JSON shape, every InfluxQL query (panels, template variables, annotations) run
 * against a real InfluxDB seeded with cAdvisor-shaped points and baton_audit records after Grafana's macro and
 * variable interpolation, and every PromQL expression checked against what a running baton-autoscaler exports.
 */

const GRAFANA_DIR = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'grafana');
const MIB = 1024 * 1024;
const STEP_SECONDS = 10;

type Json = any;
interface Dashboard { file: string; json: Json }
interface Query {
  dashboard: string;
  /** 'panel "CPU cores per task" A', 'variable task', 'annotation Baton deploys'. */
  where: string;
  kind: 'panel' | 'variable' | 'annotation';
  language: 'influxql' | 'promql';
  text: string;
  /** The Grafana object it came from (target, variable, annotation). */
  source: Json;
  /** The panel of a target. */
  panel?: Json;
}

async function loadDashboards(): Promise<Dashboard[]> {
  const files = (await readdir(GRAFANA_DIR)).filter((f) => f.endsWith('.json')).sort();
  return Promise.all(files.map(async (file) => ({ file, json: JSON.parse(await readFile(path.join(GRAFANA_DIR, file), 'utf8')) })));
}

/** The datasource plugin a panel, target, variable or annotation uses: `${DS_X}` resolves through __inputs. */
function pluginOf(dashboard: Json, datasource: unknown): string | undefined {
  if (datasource === undefined || datasource === null) return undefined;
  if (typeof datasource === 'object') return (datasource as { type?: string }).type;
  const input = /^\$\{(\w+)\}$/.exec(String(datasource));
  if (!input) return undefined;
  return (dashboard.__inputs ?? []).find((i: Json) => i.name === input[1])?.pluginId;
}

const LANGUAGE: Record<string, Query['language']> = { influxdb: 'influxql', prometheus: 'promql' };

function queriesOf(dashboard: Dashboard): Query[] {
  const json = dashboard.json;
  const out: Query[] = [];
  const languageOf = (datasource: unknown, where: string): Query['language'] => {
    const plugin = pluginOf(json, datasource);
    const language = plugin ? LANGUAGE[plugin] : undefined;
    if (!language) throw new Error(`${dashboard.file}: ${where} has datasource ${JSON.stringify(datasource)}, not an InfluxDB or Prometheus input`);
    return language;
  };
  const panels = (json.panels as Json[]).flatMap((p) => (p.type === 'row' ? (p.panels ?? []) : [p]));
  for (const panel of panels) {
    for (const target of panel.targets ?? []) {
      const where = `panel "${panel.title}" ${target.refId}`;
      const language = languageOf(target.datasource ?? panel.datasource, where);
      const text = language === 'influxql' ? target.query : target.expr;
      out.push({ dashboard: dashboard.file, where, kind: 'panel', language, text, source: target, panel });
    }
  }
  for (const variable of json.templating?.list ?? []) {
    if (variable.type !== 'query') continue;
    const where = `variable ${variable.name}`;
    const text = typeof variable.query === 'string' ? variable.query : variable.query?.query;
    out.push({ dashboard: dashboard.file, where, kind: 'variable', language: languageOf(variable.datasource, where), text, source: variable });
  }
  for (const annotation of json.annotations?.list ?? []) {
    if (annotation.builtIn) continue;
    const where = `annotation ${annotation.name}`;
    out.push({ dashboard: dashboard.file, where, kind: 'annotation', language: languageOf(annotation.datasource, where), text: annotation.query ?? annotation.expr, source: annotation });
  }
  return out;
}

/** Grafana's kbn.regexEscape, which it applies to multi-value and include-all variables in InfluxDB and Prometheus queries. */
function regexEscape(value: string): string {
  return value.replace(/[\\^$*+?.()|[\]{}/]/g, '\\$&');
}

const ALL = '$__all';

/**
 * Grafana's interpolation of a query: built-in macros, then `$var`, `${var}` and `[[var]]` as its InfluxDB and Prometheus
 * datasources format them (a variable that is multi or include-all is regex-escaped, several values become `(a|b)`,
 * All becomes the variable's allValue as is). An unknown variable fails the test instead of reaching the server as `$x`.
 */
function interpolate(text: string, dashboard: Json, values: Record<string, string | string[]>, macros: Record<string, string>): string {
  const variables = new Map<string, Json>((dashboard.templating?.list ?? []).map((v: Json) => [v.name, v]));
  return text.replace(/\$(\w+)|\$\{(\w+)\}|\[\[(\w+)\]\]/g, (whole, a, b, c) => {
    const name = (a ?? b ?? c) as string;
    if (name in macros) return macros[name]!;
    const variable = variables.get(name);
    if (!variable) throw new Error(`unknown variable ${whole} in ${text}`);
    const value = values[name];
    if (value === undefined) throw new Error(`no test value for $${name} in ${text}`);
    if (value === ALL || (Array.isArray(value) && value.includes(ALL))) {
      if (typeof variable.allValue === 'string' && variable.allValue !== '') return variable.allValue;
      throw new Error(`$${name} has no allValue`);
    }
    if (!variable.multi && !variable.includeAll) return Array.isArray(value) ? value.join(',') : value;
    const escaped = (Array.isArray(value) ? value : [value]).map(regexEscape);
    return escaped.length === 1 ? escaped[0]! : `(${escaped.join('|')})`;
  });
}

/** What Grafana makes of a query variable's answer: each value through the variable's regex (its first group), deduplicated. */
function variableOptions(variable: Json, rawValues: string[]): string[] {
  const spec = /^\/(.*)\/([gimsuy]*)$/.exec(variable.regex ?? '');
  const regex = spec ? new RegExp(spec[1]!, spec[2]) : undefined;
  const options = new Set<string>();
  for (const raw of rawValues) {
    if (!regex) {
      options.add(raw);
      continue;
    }
    const match = regex.exec(raw);
    if (match) options.add(match.length > 1 ? match[1]! : match[0]);
  }
  return [...options].sort();
}

// ---------- the seeded InfluxDB ----------

/** Marathon task ids in both formats: 1.4-1.5 `<app>.<uuid>` and 1.6+ `<app>.instance-<uuid>._app.<n>`. */
const TASKS = {
  webNew: { app: 'shop_web', id: 'shop_web.instance-8c2d1f0e-7a3b-11ee-b962-0242ac120002._app.1', containers: [{ cores: 0.5, memory: 200 * MIB }] },
  webOld: { app: 'shop_web', id: 'shop_web.1d8a4c52-7a3b-11ee-b962-0242ac120002', containers: [{ cores: 1.5, memory: 300 * MIB }] },
  // An app whose id is a prefix of another's: its tasks must not show under shop_web, nor shop_web's under it.
  shop: { app: 'shop', id: 'shop.instance-2f4e6a80-7a3b-11ee-b962-0242ac120002._app.1', containers: [{ cores: 0.25, memory: 50 * MIB }] },
  // A pod: one task, two containers; per-task panels sum them.
  worker: { app: 'order_worker', id: 'order_worker.instance-5a6b7c8d-7a3b-11ee-b962-0242ac120002._app.2', containers: [{ cores: 0.2, memory: 100 * MIB }, { cores: 0.3, memory: 60 * MIB }] },
} as const;
const ALL_TASK_IDS = Object.values(TASKS).map((t) => t.id);

const AUDIT = [
  { app: 'shop-web', env: 'prod', dc: 'dc1', outcome: 'succeeded', command: 'deploy', user: 'alice', text: 'deploy shop-web 1.4.2 to prod/dc1: succeeded', agoSeconds: 600 },
  { app: 'shop-web', env: 'prod', dc: 'dc2', outcome: 'failed', command: 'rollback', user: 'bob', text: 'rollback shop-web to 1.4.1 in prod/dc2: failed', agoSeconds: 300 },
  { app: 'order-worker', env: 'qa', dc: 'dc1', outcome: 'succeeded', command: 'deploy', user: 'carol', text: 'deploy order-worker 2.0.0 to qa/dc1: succeeded', agoSeconds: 900 },
  // Outside the dashboard's time range ($timeFilter: the last hour).
  { app: 'shop-web', env: 'qa', dc: 'dc1', outcome: 'succeeded', command: 'deploy', user: 'alice', text: 'an old deploy', agoSeconds: 2 * 3600 },
];

function lineProtocolString(value: string): string {
  return `"${value.replace(/[\\"]/g, '\\$&')}"`;
}

function seedLines(now: number): string {
  const from = Math.floor((now - 30 * 60_000) / (STEP_SECONDS * 1000)) * STEP_SECONDS * 1000;
  const to = from + 29 * 60_000;
  const lines: string[] = [];
  for (const task of Object.values(TASKS)) {
    task.containers.forEach((container, index) => {
      const cadvisor = cadvisorLines({
        taskId: task.id, containerName: `mesos-${task.id.slice(-12)}-${index}`, machine: 'agent-1',
        cpuCoresUsed: container.cores, memoryBytes: container.memory, from, to, stepSeconds: STEP_SECONDS,
      });
      lines.push(cadvisor);
      // memory_usage (page cache included) alongside the working set: here twice the working set.
      lines.push(cadvisor.split('\n').filter((l) => l.startsWith('memory_working_set,'))
        .map((l) => l.replace('memory_working_set,', 'memory_usage,').replace(/ value=(\d+)i /, (_, v) => ` value=${Number(v) * 2}i `)).join('\n') + '\n');
    });
  }
  // A container Marathon did not start (cAdvisor itself): no MESOS_TASK_ID tag; no variable or panel may show it.
  for (let at = from; at <= to; at += STEP_SECONDS * 1000) {
    lines.push(`cpu_usage_total,container_name=cadvisor,machine=agent-1 value=${Math.round((at - from) * 1e6 * 0.1)}i ${at}000000\n`);
  }
  for (const record of AUDIT) {
    const tags = (['app', 'command', 'dc', 'env', 'outcome', 'user'] as const).map((k) => `${k}=${lineProtocolTag(record[k])}`).join(',');
    lines.push(`baton_audit,${tags} text=${lineProtocolString(record.text)} ${now - record.agoSeconds * 1000}000000\n`);
  }
  return lines.join('');
}

interface Series { name: string; tags?: Record<string, string>; columns: string[]; values: unknown[][] }

let influx: InfluxDbServer;
const DATABASE = 'cadvisor';

async function influxQuery(q: string): Promise<Series[]> {
  const url = `${influx.url}/query?${new URLSearchParams({ db: DATABASE, q, epoch: 'ms' })}`;
  const response = await fetch(url);
  const body = (await response.json()) as { results?: { error?: string; series?: Series[] }[]; error?: string };
  if (!response.ok || body.error) throw new Error(`InfluxDB answered ${response.status} ${body.error ?? ''} to ${q}`);
  const results = body.results ?? [];
  expect(results, `one statement: ${q}`).toHaveLength(1);
  if (results[0]!.error) throw new Error(`InfluxDB: ${results[0]!.error}\n  in ${q}`);
  return results[0]!.series ?? [];
}

const INFLUX_MACROS = { timeFilter: 'time > now() - 1h', __interval: `${STEP_SECONDS}s`, interval: `${STEP_SECONDS}s` };

function tagValues(series: Series[]): string[] {
  return series.flatMap((s) => s.values.map((row) => String(row[s.columns.indexOf('value')]))).sort();
}

/** Non-null values of `column` in each series, by the series' MESOS_TASK_ID tag. */
function valuesByTask(series: Series[], column: string): Map<string, number[]> {
  return new Map(series.map((s) => [s.tags?.MESOS_TASK_ID ?? '', s.values.map((row) => row[s.columns.indexOf(column)]).filter((v): v is number => typeof v === 'number')]));
}

let dashboards: Dashboard[];
let influxQueries: Query[];
let promQueries: Query[];

beforeAll(async () => {
  dashboards = await loadDashboards();
  const all = dashboards.flatMap(queriesOf);
  influxQueries = all.filter((q) => q.language === 'influxql');
  promQueries = all.filter((q) => q.language === 'promql');
  influx = await startInfluxDb();
  await influx.writePoints(seedLines(Date.now()), DATABASE);
});
afterAll(async () => {
  await influx?.stop();
});

describe('grafana/ dashboards', () => {
  test('each is an importable Grafana 7+ dashboard: title, uid, schemaVersion, datasource inputs, panels with targets', () => {
    expect(dashboards.map((d) => d.file)).toEqual(['app-resources.json', 'autoscaler.json']);
    const uids = new Set<string>();
    for (const { file, json } of dashboards) {
      expect(typeof json.title, file).toBe('string');
      expect(json.uid, file).toMatch(/^[a-zA-Z0-9_-]{1,40}$/);
      expect(uids.has(json.uid), `${file}: uid ${json.uid} is unique`).toBe(false);
      uids.add(json.uid);
      expect(json.schemaVersion, file).toBeGreaterThanOrEqual(25);
      expect(json.id ?? null, `${file}: no instance id (import assigns one)`).toBeNull();
      for (const input of json.__inputs) {
        expect(input, file).toMatchObject({ type: 'datasource', pluginId: expect.stringMatching(/^(influxdb|prometheus)$/) });
        expect(JSON.stringify(json), `${file} uses \${${input.name}}`).toContain(`\${${input.name}}`);
      }
      expect(json.panels.length, file).toBeGreaterThan(0);
      const ids = new Set<number>();
      for (const panel of json.panels) {
        expect(panel, `${file}: ${panel.title}`).toMatchObject({ type: expect.any(String), title: expect.any(String), gridPos: { h: expect.any(Number), w: expect.any(Number), x: expect.any(Number), y: expect.any(Number) } });
        expect(panel.gridPos.x + panel.gridPos.w, `${file}: ${panel.title} fits 24 columns`).toBeLessThanOrEqual(24);
        expect(ids.has(panel.id), `${file}: panel id ${panel.id} is unique`).toBe(false);
        ids.add(panel.id);
        expect(panel.targets.length, `${file}: ${panel.title} has targets`).toBeGreaterThan(0);
        for (const target of panel.targets) {
          expect(target.refId).toMatch(/^[A-Z]$/);
          if (pluginOf(json, target.datasource ?? panel.datasource) === 'influxdb') expect(target.rawQuery, `${panel.title}: raw InfluxQL, as tested`).toBe(true);
        }
      }
    }
  });

  test('InfluxQL: the app variable lists Marathon apps from MESOS_TASK_ID, through its regex, and nothing else', async () => {
    const dashboard = dashboards.find((d) => d.file === 'app-resources.json')!.json;
    const query = influxQueries.find((q) => q.where === 'variable app')!;
    const raw = tagValues(await influxQuery(interpolate(query.text, dashboard, {}, INFLUX_MACROS)));
    expect(raw).toEqual([...ALL_TASK_IDS].sort());
    expect(variableOptions(query.source, raw)).toEqual(['order_worker', 'shop', 'shop_web']);
  });

  test('InfluxQL: the task variable lists the tasks of the chosen apps only (shop is a prefix of shop_web)', async () => {
    const dashboard = dashboards.find((d) => d.file === 'app-resources.json')!.json;
    const query = influxQueries.find((q) => q.where === 'variable task')!;
    const tasks = async (app: string | string[]) => variableOptions(query.source, tagValues(await influxQuery(interpolate(query.text, dashboard, { app }, INFLUX_MACROS))));
    expect(await tasks('shop_web')).toEqual([TASKS.webNew.id, TASKS.webOld.id].sort());
    expect(await tasks('shop')).toEqual([TASKS.shop.id]);
    expect(await tasks(['shop', 'order_worker'])).toEqual([TASKS.shop.id, TASKS.worker.id].sort());
    expect(await tasks(ALL)).toEqual([...ALL_TASK_IDS].sort());
  });

  test('InfluxQL: CPU cores per task is the rate of cpu_usage_total in cores, summed over a task\'s containers', async () => {
    const cpu = await panelRunner('CPU cores per task');
    const web = valuesByTask(await cpu({ app: 'shop_web', task: ALL }), 'cores');
    expect([...web.keys()].sort()).toEqual([TASKS.webNew.id, TASKS.webOld.id].sort());
    expectAllClose(web.get(TASKS.webNew.id)!, 0.5);
    expectAllClose(web.get(TASKS.webOld.id)!, 1.5);
    const worker = valuesByTask(await cpu({ app: 'order_worker', task: ALL }), 'cores');
    expect([...worker.keys()]).toEqual([TASKS.worker.id]);
    expectAllClose(worker.get(TASKS.worker.id)!, 0.5);
    const one = valuesByTask(await cpu({ app: 'shop_web', task: [TASKS.webOld.id] }), 'cores');
    expect([...one.keys()]).toEqual([TASKS.webOld.id]);
    const everything = valuesByTask(await cpu({ app: ALL, task: ALL }), 'cores');
    expect([...everything.keys()].sort(), 'every Marathon task, not the cAdvisor container').toEqual([...ALL_TASK_IDS].sort());
  });

  test('InfluxQL: memory per task is the working set (and usage), summed over a task\'s containers', async () => {
    const workingSet = await panelRunner('Memory working set per task');
    const web = valuesByTask(await workingSet({ app: 'shop_web', task: ALL }), 'bytes');
    expect([...web.keys()].sort()).toEqual([TASKS.webNew.id, TASKS.webOld.id].sort());
    expectAllClose(web.get(TASKS.webNew.id)!, 200 * MIB);
    expectAllClose(web.get(TASKS.webOld.id)!, 300 * MIB);
    expectAllClose(valuesByTask(await workingSet({ app: 'order_worker', task: ALL }), 'bytes').get(TASKS.worker.id)!, 160 * MIB);
    const usage = await panelRunner('Memory usage per task');
    expectAllClose(valuesByTask(await usage({ app: 'order_worker', task: ALL }), 'bytes').get(TASKS.worker.id)!, 320 * MIB);
  });

  test('InfluxQL: tasks reporting counts the chosen apps\' tasks with samples', async () => {
    const count = await panelRunner('Tasks reporting');
    const maxOf = (series: Series[]) => {
      expect(series).toHaveLength(1);
      expect(series[0]!.columns).toEqual(['time', 'tasks']);
      return Math.max(...series[0]!.values.map((row) => Number(row[1])));
    };
    expect(maxOf(await count({ app: 'shop_web', task: ALL }))).toBe(2);
    expect(maxOf(await count({ app: 'order_worker', task: ALL })), 'a pod of two containers is one task').toBe(1);
    expect(maxOf(await count({ app: ALL, task: ALL }))).toBe(4);
    const perMinute = await panelRunner('Tasks reporting', { ...INFLUX_MACROS, __interval: '1m' });
    expect(maxOf(await perMinute({ app: 'shop_web', task: ALL })), 'six samples a minute are still two tasks').toBe(2);
  });

  test('InfluxQL: the deploy annotation shows baton_audit records of the chosen apps in the time range, with text and tags', async () => {
    const dashboard = dashboards.find((d) => d.file === 'app-resources.json')!.json;
    const annotation = influxQueries.find((q) => q.kind === 'annotation')!;
    const run = async (deployApp: string | string[]) => {
      const series = await influxQuery(interpolate(annotation.text, dashboard, { deploy_app: deployApp }, INFLUX_MACROS));
      expect(series.map((s) => s.name)).toEqual(['baton_audit']);
      const columns = series[0]!.columns;
      expect(columns).toContain(annotation.source.textColumn);
      for (const tag of String(annotation.source.tagsColumn).split(',')) expect(columns).toContain(tag);
      return series[0]!.values.map((row) => Object.fromEntries(columns.map((c, i) => [c, row[i]])));
    };
    const web = await run('shop-web');
    expect(web.map((r) => r.text).sort()).toEqual(AUDIT.filter((a) => a.app === 'shop-web' && a.agoSeconds < 3600).map((a) => a.text).sort());
    expect(web.find((r) => r.command === 'rollback')).toMatchObject({ env: 'prod', dc: 'dc2', outcome: 'failed', user: 'bob' });
    expect((await run(ALL)).length).toBe(3);
    const variable = influxQueries.find((q) => q.where === 'variable deploy_app')!;
    expect(variableOptions(variable.source, tagValues(await influxQuery(interpolate(variable.text, dashboard, {}, INFLUX_MACROS))))).toEqual(['order-worker', 'shop-web']);
  });

  test('InfluxQL: every query of every dashboard runs and returns series (app shop_web, all tasks, deploys of shop-web), also with Grafana\'s own time filter and a 1m interval', async () => {
    expect(influxQueries.length).toBeGreaterThanOrEqual(8);
    const now = Date.now();
    // What Grafana itself sends for "last 1 hour": epoch milliseconds.
    const grafanaTimeFilter = `time >= ${now - 3_600_000}ms and time <= ${now}ms`;
    const macroSets = [INFLUX_MACROS, { ...INFLUX_MACROS, timeFilter: grafanaTimeFilter, __interval: '1m', interval: '1m' }];
    for (const [query, macros] of influxQueries.flatMap((q) => macroSets.map((m) => [q, m] as const))) {
      const dashboard = dashboards.find((d) => d.file === query.dashboard)!.json;
      const values = { app: 'shop_web', task: ALL, deploy_app: 'shop-web' };
      const series = await influxQuery(interpolate(query.text, dashboard, values, macros));
      expect(series.length, `${query.dashboard} ${query.where} (${macros.timeFilter}, ${macros.__interval}): series`).toBeGreaterThan(0);
      for (const s of series) {
        expect(s.values.length, `${query.where}: rows`).toBeGreaterThan(0);
        if (query.kind === 'variable') expect(s.columns).toEqual(['key', 'value']);
        else expect(s.columns[0]).toBe('time');
      }
      if (query.kind === 'panel') {
        // The legend names series by task: every series must carry the tags the alias refers to.
        for (const tag of [...String(query.source.alias ?? '').matchAll(/\$tag_(\w+)/g)].map((m) => m[1]!)) {
          for (const s of series) expect(s.tags?.[tag], `${query.where}: series tagged ${tag}`).toBeTruthy();
        }
      }
    }
  });
});

async function panelRunner(title: string, macros: Record<string, string> = INFLUX_MACROS): Promise<(values: Record<string, string | string[]>) => Promise<Series[]>> {
  const query = influxQueries.find((q) => q.kind === 'panel' && q.panel.title === title);
  if (!query) throw new Error(`no InfluxQL panel titled ${title}`);
  const dashboard = dashboards.find((d) => d.file === query.dashboard)!.json;
  return (values) => influxQuery(interpolate(query.text, dashboard, values, macros));
}

function expectAllClose(values: number[], expected: number): void {
  expect(values.length, 'points in the range').toBeGreaterThan(100);
  for (const value of values) expect(Math.abs(value - expected)).toBeLessThan(Math.max(1e-6, expected * 1e-6));
}

// ---------- PromQL against what the daemon exports ----------

/** Metric names and the label names seen on each, from a /metrics answer. */
function exported(text: string): Map<string, Set<string>> {
  const metrics = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!match) continue;
    const labels = metrics.get(match[1]!) ?? new Set<string>();
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_]\w*)="/g)) labels.add(label[1]!);
    metrics.set(match[1]!, labels);
  }
  return metrics;
}

/** Labels Prometheus adds when it scrapes: never in /metrics, always on the stored series. */
const TARGET_LABELS = ['instance', 'job'];
const PROM_VALUES = { instance: ALL, app_id: ALL };
const PROM_MACROS = { __rate_interval: '1m', __interval: '15s', __range: '1h' };

describe('grafana/ dashboards against a running baton-autoscaler', () => {
  let emulator: RunningEmulator;
  let daemon: DaemonProcess;
  let temp: { dir: string; remove(): Promise<void> };
  let metrics: Map<string, Set<string>>;

  beforeAll(async () => {
    temp = await makeTempDir('baton-grafana-test-');
    emulator = await startEmulator({ apps: [{ id: '/shop/web', instances: 2, cpus: 1, mem: 256, cmd: 'sleep 1000' }], timings: { stagingMs: 30, healthyMs: 30, killMs: 20, crashMs: 50, backoffMs: 50 } });
    const marathon = new MarathonClient({ url: emulator.url, readRetries: 0 });
    const tasks = await waitFor('/shop/web running 2 tasks', async () => {
      const running = ((await marathon.getApp('/shop/web')).tasks ?? []).filter((t) => t.state === 'TASK_RUNNING');
      return running.length === 2 ? running : undefined;
    });
    // The app variable's regex on task ids as the emulator (Marathon 1.10) makes them.
    const appVariable = dashboards.find((d) => d.file === 'app-resources.json')!.json.templating.list.find((v: Json) => v.name === 'app');
    expect(variableOptions(appVariable, tasks.map((t) => t.id))).toEqual(['shop_web']);
    const database = 'cadvisor_daemon';
    const now = Date.now();
    await influx.writePoints(tasks.map((task, i) => cadvisorLines({
      taskId: task.id, containerName: `mesos-${i}`, machine: 'agent-1', cpuCoresUsed: 0.5, memoryBytes: 64 * MIB, from: now - 50_000, to: now, stepSeconds: 5,
    })).join(''), database);
    const config = testConfig({ marathonUrl: emulator.url, influxUrl: influx.url, stateFile: path.join(temp.dir, 'state.json') });
    daemon = await startDaemon({ ...config, influx: { url: influx.url, database } }, { dir: temp.dir, name: 'grafana' });
    const registered = await daemon.request('POST', '/apps', { body: { appId: '/shop/web', minInstances: 1, maxInstances: 4, targetCpu: 0.5 } });
    expect(registered.status, registered.text).toBe(201);
    // An app Marathon does not have: its cycles skip it (reason app-not-found), so baton_autoscaler_skipped_total has samples.
    const missing = await daemon.request('POST', '/apps', { body: { appId: '/not/deployed', minInstances: 1, maxInstances: 2, targetCpu: 0.5 } });
    expect(missing.status, missing.text).toBe(201);
    const text = await waitFor('per-app gauges and a finished cycle in /metrics', async () => {
      const body = (await daemon.request('GET', '/metrics')).text;
      return /^baton_autoscaler_app_desired_instances\{app_id="\/shop\/web"\}/m.test(body) && /^baton_autoscaler_cycle_duration_seconds_count [1-9]/m.test(body) && /^baton_autoscaler_skipped_total\{reason=/m.test(body) ? body : undefined;
    });
    metrics = exported(text);
  });
  afterAll(async () => {
    await daemon?.stop();
    await emulator?.close();
    await temp?.remove();
  });

  test('every metric a PromQL panel or variable names is exported, with the labels it selects, groups by and shows', () => {
    expect(promQueries.length).toBeGreaterThanOrEqual(10);
    const covered = new Set<string>();
    for (const query of promQueries) {
      const expr = query.text;
      const names = [...new Set([...expr.matchAll(/\b(baton_autoscaler_[a-zA-Z0-9_:]+)/g)].map((m) => m[1]!))];
      expect(names.length, `${query.where} names a baton_autoscaler metric`).toBeGreaterThan(0);
      for (const name of names) {
        expect(metrics.has(name), `${query.dashboard} ${query.where}: ${name} is in /metrics`).toBe(true);
        covered.add(name);
      }
      const labelsOnMetrics = new Set([...names.flatMap((n) => [...(metrics.get(n) ?? [])]), ...TARGET_LABELS]);
      const used = [
        ...[...expr.matchAll(/\{([^}]*)\}/g)].flatMap((m) => [...m[1]!.matchAll(/([a-zA-Z_]\w*)\s*(?:=~|!~|!=|=)/g)].map((l) => l[1]!)),
        ...[...expr.matchAll(/\b(?:by|without)\s*\(([^)]*)\)/g)].flatMap((m) => m[1]!.split(',').map((l) => l.trim()).filter(Boolean)),
        ...[...String(query.source.legendFormat ?? '').matchAll(/\{\{\s*(\w+)\s*\}\}/g)].map((m) => m[1]!),
        ...(query.kind === 'variable' ? [/,\s*(\w+)\)\s*$/.exec(expr)?.[1] ?? ''] : []),
      ];
      for (const label of used) expect(labelsOnMetrics.has(label), `${query.where}: label ${label} on ${names.join(', ')}`).toBe(true);
    }
    for (const required of ['app_current_instances', 'app_desired_instances', 'app_min_instances', 'app_max_instances', 'cycle_duration_seconds_bucket', 'errors_total', 'scale_actions_total', 'skipped_total']) {
      expect(covered.has(`baton_autoscaler_${required}`), `a panel shows baton_autoscaler_${required}`).toBe(true);
    }
  });

  test('every PromQL expression parses (promtool check rules on them as recording rules)', async () => {
    await ensurePromtoolInstalled();
    const rules = promQueries.map((query, index) => {
      const dashboard = dashboards.find((d) => d.file === query.dashboard)!.json;
      let expr = interpolate(query.text, dashboard, PROM_VALUES, PROM_MACROS);
      // A label_values(selector, label) variable: its selector is PromQL.
      const labelValues = /^label_values\((.*),\s*\w+\)$/.exec(expr);
      if (labelValues) expr = labelValues[1]!;
      return { record: `grafana:check_${index}`, expr };
    });
    const file = path.join(temp.dir, 'dashboard-rules.json');
    await writeFile(file, JSON.stringify({ groups: [{ name: 'grafana-dashboards', rules }] }));
    const { code, output } = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn('promtool', ['check', 'rules', file], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      child.stdout.on('data', (c: Buffer) => (text += c.toString()));
      child.stderr.on('data', (c: Buffer) => (text += c.toString()));
      child.once('error', reject);
      child.once('exit', (exitCode) => resolve({ code: exitCode, output: text }));
    });
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(code, output).toBe(0);
  });
});
