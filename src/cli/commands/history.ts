import { Command, Option } from 'commander';
import { auditLogPath, readAuditRecords, type AuditRecord } from '../../audit/log.js';
import type { DatacenterConfig } from '../../config/environments.js';
import { resolveConfigDir } from '../../config/load.js';
import { joinHistory, type HistoryEntry } from '../../status/history.js';
import { absoluteId } from '../../status/matrix.js';
import { readVersionDefinitions } from '../app-history.js';
import { appDefinitionOf, environmentNamed, environmentsOf } from '../config.js';
import { CliError } from '../errors.js';
import { ExitCode } from '../exit-codes.js';
import { marathonFor } from '../marathon.js';
import { colorEnabled, paint } from '../output.js';
import { formatTable, outputWidth, type Cell, type Column } from '../table.js';
import { marathonCliError, selectDatacenters } from '../deploy-run.js';

interface HistoryFlags {
  env: string;
  dc?: string;
  limit: string;
  json?: boolean;
  configDir?: string;
}

export interface DatacenterHistory {
  datacenter: string;
  marathon: string;
  appId: string;
  reachable: boolean;
  reason?: string;
  deployed: boolean;
  currentVersion?: string;
  /** How many versions Marathon stores; `entries` holds the newest `--limit` of them. */
  totalVersions: number;
  entries: HistoryEntry[];
}

export function register(program: Command): void {
  program
    .command('history')
    .description("List an app's versions in Marathon (newest first) with who deployed each and how it ended, from Baton's audit log")
    .argument('<app>', 'app folder in the config dir')
    .requiredOption('-e, --env <env>', 'environment from environments.json')
    .option('--dc <dc>', 'one datacenter, or "all" (default: all)')
    .option('--limit <n>', 'how many of the newest versions to show per datacenter', '20')
    .option('--json', 'print one JSON document on stdout')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR'))
    .addHelpText(
      'after',
      `
Examples:
  baton history shop-web --env prod
  baton history shop-web --env prod --dc AA --limit 5
  baton history shop-web --env qa --json

"*" marks the version running now; "reverted" marks a newer version that is no longer current (e.g. a failed deploy that
was rolled back). CHANGE says what a version changed: config, scale (instances only) or restart. DEPLOYED BY and OUTCOME
come from the audit log (BATON_AUDIT_LOG, default ~/.baton/audit.jsonl), matched by Marathon version, else by tag and time.

Exit codes: 0 every datacenter answered · 1 some datacenter unreachable (the others are shown) · 2 invalid input`,
    )
    .action(async (app: string, flags: HistoryFlags) => {
      process.exitCode = await runHistory(app, flags);
    });
}

async function runHistory(app: string, flags: HistoryFlags): Promise<number> {
  const limit = Number(flags.limit);
  if (!Number.isInteger(limit) || limit < 1) {
    throw new CliError(`--limit "${flags.limit}": expected a whole number of versions, at least 1`, ExitCode.invalidInput, 'invalid-flag', {
      flag: '--limit',
    });
  }
  const configDir = resolveConfigDir(flags.configDir);
  const env = environmentNamed(await environmentsOf(configDir), flags.env, configDir);
  const datacenters = selectDatacenters(env, flags.dc);
  const { definition } = await appDefinitionOf(configDir, app, env.name);
  const appId = absoluteId(definition.id);
  const audit = readAuditRecords(auditLogPath());

  const histories = await Promise.all(datacenters.map((dc) => historyIn(dc, { app, env: env.name, appId, limit, audit })));
  if (flags.json) {
    process.stdout.write(`${JSON.stringify({ app, env: env.name, appId, datacenters: histories }, null, 2)}\n`);
  } else {
    const color = colorEnabled(process.stdout);
    const width = outputWidth(process.stdout);
    for (const line of histories.flatMap((h) => renderHistory(app, env.name, h, { color, width }))) process.stdout.write(`${line}\n`);
  }
  return histories.every((h) => h.reachable) ? ExitCode.ok : ExitCode.partial;
}

async function historyIn(
  dc: DatacenterConfig,
  context: { app: string; env: string; appId: string; limit: number; audit: AuditRecord[] },
): Promise<DatacenterHistory> {
  const base: DatacenterHistory = {
    datacenter: dc.name,
    marathon: dc.marathon,
    appId: context.appId,
    reachable: true,
    deployed: false,
    totalVersions: 0,
    entries: [],
  };
  const client = marathonFor(dc);
  try {
    const live = await client.findApp(context.appId);
    if (!live) return base;
    const all = await client.listVersions(context.appId);
    // One more than shown, so the oldest shown version can still say what it changed.
    const versions = await readVersionDefinitions(client, context.appId, all.slice(0, context.limit + 1));
    const entries = joinHistory({
      app: context.app,
      env: context.env,
      dc: dc.name,
      currentVersion: live.version,
      versions,
      olderExist: all.length > versions.length,
      audit: context.audit,
    }).slice(0, context.limit);
    return { ...base, deployed: true, currentVersion: live.version, totalVersions: all.length, entries };
  } catch (error) {
    return { ...base, reachable: false, reason: marathonCliError(error, dc).message };
  }
}

const COLUMNS: Column[] = [
  { header: ' ' },
  { header: 'MARATHON VERSION' },
  { header: 'VERSION', minWidth: 8 },
  { header: 'CHANGE' },
  { header: 'DEPLOYED BY', minWidth: 8, dropPriority: 2 },
  { header: 'COMMAND', dropPriority: 1 },
  { header: 'OUTCOME', minWidth: 10 },
];

export function renderHistory(app: string, env: string, history: DatacenterHistory, options: { color: boolean; width: number }): string[] {
  const title = paint(options.color, 'bold', `${app} ${env}/${history.datacenter} (${history.appId} on ${history.marathon})`);
  if (!history.reachable) return [title, paint(options.color, 'red', `  ${history.reason ?? 'unreachable'}`), ''];
  if (!history.deployed) return [title, '  not deployed in this datacenter', ''];
  const rows: Cell[][] = history.entries.map((entry) => [
    entry.current ? '*' : '',
    entry.marathonVersion,
    entry.error ? { text: `unreadable: ${entry.error}`, style: 'red' } : versionText(entry),
    entry.abandoned ? { text: `${entry.change}, reverted`, style: 'gray' } : entry.change,
    entry.audit?.user ?? '-',
    entry.audit?.command ?? '-',
    outcomeCell(entry),
  ]);
  const shown = history.entries.length < history.totalVersions ? ` (newest ${history.entries.length} of ${history.totalVersions}; --limit for more)` : '';
  return [`${title}${shown}`, ...formatTable(COLUMNS, rows, options).map((line) => `  ${line}`), ''];
}

function versionText(entry: HistoryEntry): string {
  const version = entry.version ?? entry.image ?? '?';
  return entry.digest ? `${version} @${entry.digest.slice(0, 19)}` : version;
}

function outcomeCell(entry: HistoryEntry): Cell {
  const outcome = entry.audit?.outcome;
  if (!outcome) return '-';
  const style = outcome === 'succeeded' ? 'green' : outcome.startsWith('restored') ? 'yellow' : 'red';
  return { text: outcome, style };
}
