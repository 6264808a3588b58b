import { Command, Option } from 'commander';
import { formatDiff } from '../../deploy/diff.js';
import type { MarathonClient } from '../../marathon/client.js';
import { MarathonError } from '../../marathon/errors.js';
import { describeAutoscaler } from '../../status/drift.js';
import { conditionsHeld, FAIL_CONDITIONS, parseFailConditions, statusVerdict, type FailCondition, type StatusVerdict } from '../../status/gate.js';
import { selectDatacenters, splitList } from '../../status/selection.js';
import {
  buildStatusMatrix,
  datacenterKey,
  type ConfiguredApp,
  type DatacenterRef,
  type Health,
  type MarathonAnswer,
  type StatusCell,
  type StatusMatrix,
} from '../../status/matrix.js';
import type { EnvironmentConfig, DatacenterConfig } from '../../config/environments.js';
import { loadAppDefinition, resolveConfigDir } from '../../config/load.js';
import { appsOf, environmentNamed, environmentsOf, environmentsOfApp } from '../../config/for-command.js';
import { CliError } from '../../outcome/cli-error.js';
import { ExitCode, type ExitCodeValue } from '../../outcome/exit-codes.js';
import { marathonFor } from '../../marathon/for-datacenter.js';
import { colorEnabled, paint, type Style } from '../../terminal/output.js';
import { formatTable, outputWidth, shortTime, type Cell, type Column } from '../table.js';

interface StatusFlags {
  env?: string;
  dc?: string[];
  failOn?: string[];
  json?: boolean;
  configDir?: string;
}

export function register(program: Command): void {
  program
    .command('status')
    .description('Show which version of each app runs in which environment and datacenter, its health, deployments and drift')
    .argument('[app]', 'one app folder in the config dir (default: every app)')
    .option('-e, --env <env>', 'only this environment (default: every environment)')
    .option('--dc <dcs>', 'only these datacenters, comma-separated or repeated, or "all" (default: all)', collect)
    .option('--fail-on <conditions>', `exit ${ExitCode.failOnConditionHeld} if a shown row has one: ${FAIL_CONDITIONS.join(', ')} (comma-separated or repeated)`, collect)
    .option('--json', 'print one JSON document on stdout instead of the table')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR'))
    .addHelpText(
      'after',
      `
Examples:
  baton status                                       # every app, every environment and datacenter
  baton status shop-web --env prod                   # one app in prod
  baton status --env prod --dc AA,BB                 # two datacenters of prod; no other Marathon is asked
  baton status --env prod --fail-on drift,unhealthy  # CI gate after a deploy: exit ${ExitCode.failOnConditionHeld} if a row drifts or is unhealthy
  baton status --json | jq '.apps[] | select(.health != "healthy")'
  baton status --env prod --fail-on drift --json | jq '.apps[] | select(.failedConditions != [])'

Each Marathon is asked once (GET /v2/apps with tasks, counts, deployments; GET /v2/deployments), all in parallel.
TASKS is healthy/running/target ("-" for healthy when the app has no health checks).
DRIFT "config": the live app differs from deploy-configs (the image tag, and instances of autoscaled apps, do not count);
"versions": another datacenter of the same environment runs a different version. Details are printed below the table.
No colour when NO_COLOR is set or stdout is not a terminal; the table fits COLUMNS or the terminal width.

Only the environments the shown apps have a deploy-config for (or --env) are asked. Datacenters on the same Marathon
share one request only when they also name the same credentialsEnv/tokenEnv; one whose variable is unset is an error row.

--dc names datacenters of the shown environments (without --env: AA means AA in every environment that has one); a name
none of them has is an error listing those they have. Only the Marathons of the named datacenters are asked, so "versions"
drift then compares only the datacenters shown.

--fail-on, per row shown: unhealthy = HEALTH degraded (a running deployment counts as deploying, not unhealthy);
deploying = a deployment runs; not-deployed = configured but absent from that Marathon; drift = config-drift or
version-drift (the DRIFT column's "config" and "versions"). The failing rows are listed below the table, and with --json
each app row carries "failedConditions". A row of an unreachable datacenter, or drift of a broken config, is unknown:
it fails nothing, but the run cannot pass either (exit 1).

Exit codes: 0 every Marathon answered, every config loaded and no --fail-on condition holds · 1 some datacenter
  unreachable or not askable (unset credential variable), or an app config broken; the rest is still shown
  · 2 invalid input (unknown app, environment, datacenter or condition; broken environments.json)
  · ${ExitCode.failOnConditionHeld} a --fail-on condition holds for some row shown; it wins over 1 (a datacenter being down does not hide a
  failure seen elsewhere)`,
    )
    .action(async (app: string | undefined, flags: StatusFlags) => {
      process.exitCode = await runStatus(app, flags);
    });
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

async function runStatus(app: string | undefined, flags: StatusFlags): Promise<number> {
  const failOn = failConditionsOf(flags.failOn);
  const configDir = resolveConfigDir(flags.configDir);
  const environments = await environmentsOf(configDir);
  const envs = flags.env ? [environmentNamed(environments, flags.env, configDir)] : [...environments.values()];
  const known = await appsOf(configDir);
  if (app !== undefined && !known.includes(app)) {
    throw new CliError(`${app}: no such app in ${configDir} (known: ${known.join(', ') || 'none'})`, ExitCode.invalidInput, 'unknown-app', { app });
  }
  const apps = await configuredApps(configDir, app ? [app] : known, envs);
  if (app !== undefined && apps.length === 0) {
    throw new CliError(
      `${app} has no config for ${envs.map((e) => e.name).join(', ')}: expected <env>-deploy.json in ${configDir}/${app}`,
      ExitCode.invalidInput,
      'not-configured',
      { app },
    );
  }
  // Only environments something is shown for: another environment's Marathon being down is not this answer's business.
  const shown = onlyNamedDatacenters(flags.env ? envs : envs.filter((e) => apps.some((a) => a.env === e.name)), flags.dc);
  const datacenters: DatacenterRef[] = shown.flatMap((e) => e.datacenters.map((d) => ({ env: e.name, dc: d.name, marathon: d.marathon })));
  const answers = await askEveryMarathon(shown);
  const matrix = buildStatusMatrix({ apps, datacenters, answers });
  const gate = failOn ? { conditions: failOn, failed: matrix.cells.map((cell) => conditionsHeld(cell, failOn)) } : undefined;
  const verdict = statusVerdict({
    complete: matrix.complete,
    configBroken: matrix.cells.some((c) => c.configError !== undefined),
    conditionHeld: gate?.failed.some((held) => held.length > 0) ?? false,
  });

  if (flags.json) {
    process.stdout.write(`${JSON.stringify(jsonDocument(matrix, verdict, gate), null, 2)}\n`);
  } else {
    const options = { color: colorEnabled(process.stdout), width: outputWidth(process.stdout), datacentersNamed: flags.dc !== undefined };
    for (const line of renderStatus(matrix, options, gate && { ...gate, verdict })) process.stdout.write(`${line}\n`);
  }
  return VERDICT_EXIT_CODE[verdict];
}

const VERDICT_EXIT_CODE: Record<StatusVerdict, ExitCodeValue> = {
  ok: ExitCode.ok,
  incomplete: ExitCode.partial,
  'condition-held': ExitCode.failOnConditionHeld,
};

/** What a --fail-on run found: per cell of the matrix (same order), the listed conditions that hold. */
interface GateResult {
  conditions: FailCondition[];
  failed: FailCondition[][];
}

function failConditionsOf(values: string[] | undefined): FailCondition[] | undefined {
  if (values === undefined) return undefined;
  const parsed = parseFailConditions(splitList(values));
  const expected = `expected one or more of ${FAIL_CONDITIONS.join(', ')}, comma-separated`;
  if (!parsed.ok) {
    throw new CliError(`--fail-on ${parsed.unknown.join(',')}: no such condition (${expected})`, ExitCode.invalidInput, 'invalid-flag', {
      flag: '--fail-on',
      unknown: parsed.unknown,
    });
  }
  if (parsed.conditions.length === 0) throw new CliError(`--fail-on: ${expected}`, ExitCode.invalidInput, 'invalid-flag', { flag: '--fail-on' });
  return parsed.conditions;
}

function onlyNamedDatacenters(environments: EnvironmentConfig[], values: string[] | undefined): EnvironmentConfig[] {
  if (values === undefined) return environments;
  const names = splitList(values);
  if (names.length === 0) {
    throw new CliError('--dc: expected datacenter names, comma-separated, or all', ExitCode.invalidInput, 'invalid-flag', { flag: '--dc' });
  }
  const selection = selectDatacenters(environments, names);
  if (selection.ok) return selection.environments;
  const where = environments.length ? environments.map((e) => e.name).join(', ') : 'no environment shown';
  throw new CliError(
    `--dc ${selection.unknown.join(',')}: no such datacenter in ${where} (known: ${selection.known.join(', ') || 'none'}, or all)`,
    ExitCode.invalidInput,
    'unknown-datacenter',
    { flag: '--dc', unknown: selection.unknown, known: selection.known },
  );
}

/** Every (app, environment) that has a deploy-config; a config that does not load is kept with its error (status still shows live state). */
async function configuredApps(configDir: string, apps: string[], envs: EnvironmentConfig[]): Promise<ConfiguredApp[]> {
  const configured = await Promise.all(apps.map(async (app) => ({ app, envs: new Set(await environmentsOfApp(configDir, app)) })));
  const pairs = configured.flatMap(({ app, envs: has }) => envs.filter((e) => has.has(e.name)).map((e) => ({ app, env: e.name })));
  return Promise.all(
    pairs.map(async ({ app, env }): Promise<ConfiguredApp> => {
      try {
        const loaded = await loadAppDefinition(configDir, app, env);
        return { app, env, definition: loaded.definition };
      } catch (error) {
        return { app, env, definition: null, configError: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/**
 * One GET /v2/apps (with embeds) and one GET /v2/deployments per distinct Marathon and credentials, all at once. Datacenters
 * share a request only when they would send the same one: same URL, same credential variables. Answers by datacenterKey.
 */
async function askEveryMarathon(envs: EnvironmentConfig[]): Promise<Map<string, MarathonAnswer>> {
  const datacenters = envs.flatMap((e) => e.datacenters.map((dc) => ({ key: datacenterKey({ env: e.name, dc: dc.name }), dc })));
  const requests = new Map<string, Promise<MarathonAnswer>>();
  const answerFor = (dc: DatacenterConfig): Promise<MarathonAnswer> => {
    const connection = JSON.stringify([dc.marathon, dc.credentialsEnv ?? null, dc.tokenEnv ?? null]);
    let request = requests.get(connection);
    if (!request) {
      request = askMarathon(dc);
      requests.set(connection, request);
    }
    return request;
  };
  const answers = await Promise.all(datacenters.map(({ dc }) => answerFor(dc)));
  return new Map(datacenters.map(({ key }, index) => [key, answers[index]!]));
}

async function askMarathon(dc: DatacenterConfig): Promise<MarathonAnswer> {
  let client: MarathonClient;
  try {
    client = marathonFor(dc, process.env, { readRetries: 1, retryBaseDelayMs: 100 });
  } catch (error) {
    return { reachable: false, reason: reasonOf(error), notAsked: true };
  }
  try {
    // The deployment list only adds the step; without it the app's own embed still says a deployment runs.
    const [apps, deployments] = await Promise.all([client.listApps(), client.listDeployments().catch(() => [])]);
    return { reachable: true, apps, deployments };
  } catch (error) {
    return { reachable: false, reason: reasonOf(error) };
  }
}

function reasonOf(error: unknown): string {
  if (error instanceof MarathonError) {
    if (error.kind === 'unreachable') return error.message;
    const what = error.kind === 'unauthorized' || error.kind === 'forbidden' ? 'refused the credentials' : `answered ${error.kind}`;
    return `Marathon ${what}${error.status ? ` (${error.status})` : ''}: ${error.message}`;
  }
  return error instanceof Error ? error.message : String(error);
}

const COLUMNS: Column[] = [
  { header: 'APP', minWidth: 8 },
  { header: 'ENV' },
  { header: 'DC' },
  { header: 'VERSION', minWidth: 8 },
  { header: 'TASKS', dropPriority: 0 },
  { header: 'HEALTH' },
  { header: 'DEPLOYMENT', minWidth: 10, dropPriority: 3 },
  { header: 'CONFIG CHANGED', dropPriority: 2 },
  { header: 'AUTOSCALER', minWidth: 6, dropPriority: 1 },
  { header: 'DRIFT', dropPriority: 4 },
];

const HEALTH_STYLE: Record<Health, Style | undefined> = {
  healthy: 'green',
  deploying: 'yellow',
  degraded: 'red',
  suspended: 'gray',
  'not-deployed': 'gray',
  unknown: 'red',
};

/** The table, then what needs words: unreachable datacenters, drift details, broken configs. */
export function renderStatus(
  matrix: StatusMatrix,
  options: { color: boolean; width: number; datacentersNamed?: boolean },
  gate?: GateResult & { verdict: StatusVerdict },
): string[] {
  if (matrix.cells.length === 0) {
    const lines = [`No apps are configured for the selected environments${options.datacentersNamed ? ' and datacenters' : ''}.`];
    return gate ? [...lines, ...renderGate(matrix, gate, options.color)] : lines;
  }
  const rows: Cell[][] = matrix.cells.map((cell) => [
    cell.app,
    cell.env,
    cell.dc,
    versionCell(cell),
    tasksCell(cell),
    healthCell(cell),
    cell.deployment ? (cell.deployment.step ?? `in progress (${cell.deployment.id})`) : '-',
    cell.lastConfigChangeAt ? shortTime(cell.lastConfigChangeAt) : '-',
    cell.reachable ? describeAutoscaler(cell.autoscaler) : '?',
    driftCell(cell),
  ]);
  const lines = formatTable(COLUMNS, rows, options);

  const sections: [string, typeof matrix.datacenters][] = [
    ['Unreachable:', matrix.datacenters.filter((d) => !d.reachable && !d.notAsked)],
    ['Not asked (datacenter config):', matrix.datacenters.filter((d) => d.notAsked)],
  ];
  for (const [title, failing] of sections) {
    if (!failing.length) continue;
    lines.push('', paint(options.color, 'red', title));
    for (const d of failing) lines.push(`  ${d.env}/${d.dc} (${d.marathon}): ${d.reason ?? 'unknown reason'}`);
  }
  const drifted = matrix.cells.filter((c) => c.configDrift && c.configDrift.length > 0);
  if (drifted.length || matrix.versionDrift.length) {
    lines.push('', paint(options.color, 'yellow', 'Drift:'));
    for (const d of matrix.versionDrift) {
      const versions = Object.entries(d.versions).map(([dc, v]) => `${dc} ${v ?? 'not deployed'}`);
      lines.push(`  ${d.app} ${d.env}: versions differ between datacenters: ${versions.join(', ')}`);
    }
    for (const c of drifted) {
      lines.push(`  ${c.app} ${c.env}/${c.dc} (${c.appId}) differs from deploy-configs; a deploy would change:`);
      for (const line of formatDiff(c.configDrift ?? [], options.color)) lines.push(`  ${line}`);
    }
  }
  const coloured = matrix.cells.filter((c) => c.blueGreen);
  if (coloured.length) {
    lines.push('', 'Blue/green:');
    for (const c of coloured) {
      const colours = c.blueGreen!.colours.map((k) => {
        const healthy = k.tasks.hasHealthChecks ? `${k.tasks.healthy}` : '-';
        return `${k.colour} ${k.version ?? '?'} ${healthy}/${k.tasks.running}/${k.instances}${k.live ? ' (live: users reach it)' : k.instances === 0 ? ' (kept at 0 for baton rollback)' : ''}`;
      });
      lines.push(`  ${c.app} ${c.env}/${c.dc}: ${colours.join(' · ')}${c.blueGreen!.live ? '' : ' (no colour serves)'}`);
    }
  }
  const broken = uniqueBy(matrix.cells.filter((c) => c.configError), (c) => `${c.app}/${c.env}`);
  if (broken.length) {
    lines.push('', paint(options.color, 'red', 'Config errors (drift unknown):'));
    for (const c of broken) lines.push(`  ${c.app} ${c.env}: ${c.configError}`);
  }
  if (gate) lines.push(...renderGate(matrix, gate, options.color));
  return lines;
}

/** The --fail-on answer in words, last, so that a CI log ends with it. */
function renderGate(matrix: StatusMatrix, gate: GateResult & { verdict: StatusVerdict }, color: boolean): string[] {
  const flag = `--fail-on ${gate.conditions.join(',')}`;
  const failing = matrix.cells.flatMap((cell, index) => (gate.failed[index]?.length ? [{ cell, held: gate.failed[index]! }] : []));
  if (failing.length) {
    return [
      '',
      paint(color, 'red', `Failed ${flag} (exit ${ExitCode.failOnConditionHeld}):`),
      ...failing.map(({ cell, held }) => `  ${cell.app} ${cell.env}/${cell.dc}: ${held.join(', ')}`),
    ];
  }
  if (gate.verdict === 'incomplete') {
    return ['', paint(color, 'yellow', `${flag}: no row shown fails, but not every datacenter answered or config loaded (exit ${ExitCode.partial})`)];
  }
  return ['', `${flag}: passed (${matrix.cells.length} row${matrix.cells.length === 1 ? '' : 's'})`];
}

function versionCell(cell: StatusCell): Cell {
  if (!cell.reachable) return { text: cell.notAsked ? 'error' : 'unreachable', style: 'red' };
  if (!cell.deployed) return { text: 'not deployed', style: 'gray' };
  const version = `${cell.version ?? cell.image ?? '?'}${cell.blueGreen?.live ? ` (${cell.blueGreen.live})` : ''}`;
  return cell.digest ? `${version} @${shortDigest(cell.digest)}` : version;
}

function tasksCell(cell: StatusCell): string {
  if (!cell.tasks) return '-';
  const t = cell.tasks;
  return `${t.hasHealthChecks ? t.healthy : '-'}/${t.running}/${t.target}`;
}

function healthCell(cell: StatusCell): Cell {
  if (!cell.reachable) return { text: '?', style: 'red' };
  return { text: cell.health, style: HEALTH_STYLE[cell.health] };
}

function driftCell(cell: StatusCell): Cell {
  const kinds: string[] = [];
  if (cell.configError) kinds.push('config?');
  else if (cell.configDrift && cell.configDrift.length > 0) kinds.push(`config (${cell.configDrift.length})`);
  if (cell.versionDrift) kinds.push('versions');
  return kinds.length ? { text: kinds.join(', '), style: 'yellow' } : '-';
}

/** "sha256:0123…" → "sha256:01234567": enough to tell builds apart in a table. */
function shortDigest(digest: string): string {
  const [algorithm, hex] = digest.split(':');
  return hex ? `${algorithm}:${hex.slice(0, 12)}` : digest;
}

function uniqueBy<T>(items: T[], key: (item: T) => string): T[] {
  const seen = new Set<string>();
  return items.filter((item) => (seen.has(key(item)) ? false : (seen.add(key(item)), true)));
}

function jsonDocument(matrix: StatusMatrix, verdict: StatusVerdict, gate: GateResult | undefined) {
  return {
    ok: verdict === 'ok',
    complete: matrix.complete,
    ...(gate ? { failOn: { conditions: gate.conditions, result: GATE_RESULT[verdict] } } : {}),
    datacenters: matrix.datacenters,
    apps: gate ? matrix.cells.map((cell, index) => ({ ...cell, failedConditions: gate.failed[index] ?? [] })) : matrix.cells,
    versionDrift: matrix.versionDrift,
  };
}

const GATE_RESULT: Record<StatusVerdict, string> = { ok: 'passed', incomplete: 'incomplete', 'condition-held': 'failed' };
