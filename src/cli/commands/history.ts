import { Command, Option } from 'commander';
import { datacenterOption } from '../dc-option.js';
import type { AuditRecord } from '../../audit/log.js';
import { readSharedAuditRecords } from '../../audit/shared.js';
import type { DatacenterConfig } from '../../config/environments.js';
import { resolveConfigDir } from '../../config/load.js';
import {
  auditOnlyTimeline,
  historyTimeline,
  type AttemptEntry,
  type AuditedVersionEntry,
  type HistoryEntry,
  type MarathonVersion,
  type TimelineEntry,
  versionsNewestFirst,
} from '../../status/history.js';
import { absoluteId } from '../../status/matrix.js';
import { readVersionDefinitions } from '../../marathon/version-definitions.js';
import { appDefinitionOf, environmentNamed, environmentsOf } from '../../config/for-command.js';
import { CliError } from '../../outcome/cli-error.js';
import { ExitCode } from '../../outcome/exit-codes.js';
import { marathonFor } from '../../marathon/for-datacenter.js';
import type { MarathonClient } from '../../marathon/client.js';
import { colorEnabled, paint, type Style } from '../../terminal/output.js';
import { formatTable, outputWidth, shortTime, type Cell, type Column } from '../table.js';
import { selectDatacenters } from '../../config/for-command.js';
import { marathonCliError } from '../../rollout/marathon-errors.js';

interface HistoryFlags {
  env: string;
  dc?: string;
  limit: string;
  json?: boolean;
  configDir?: string;
}

export type DatacenterHistory =
  | {
      datacenter: string;
      marathon: string;
      appId: string;
      /** Marathon's versions joined with the audit log. */
      source: 'marathon-and-audit-log';
      reachable: true;
      deployed: boolean;
      currentVersion?: string;
      /** How many versions Marathon stores. */
      totalVersions: number;
      /** How many audited attempts created no Marathon version. `entries` holds the newest `--limit` of versions and attempts. */
      totalAttempts: number;
      entries: TimelineEntry[];
    }
  | {
      datacenter: string;
      marathon: string;
      appId: string;
      /** Marathon could not be asked (`reason` says why): every entry is an audit record, Marathon's fields are null. */
      source: 'audit-log-only';
      reachable: false;
      reason: string;
      /** No request was sent: the datacenter's config cannot be used (its credential variable is unset), as in baton status. */
      notAsked?: true;
      deployed: null;
      currentVersion: null;
      totalVersions: null;
      /** How many audit records say Baton created a Marathon version there. */
      auditedVersions: number;
      totalAttempts: number;
      entries: (AttemptEntry | AuditedVersionEntry)[];
    };

export function register(program: Command): void {
  program
    .command('history')
    .description(
      "List an app's versions in Marathon and the audited attempts that created none (newest first): who deployed what, when, and how it ended",
    )
    .argument('<app>', 'app folder in the config dir')
    .requiredOption('-e, --env <env>', 'environment from environments.json')
    .addOption(datacenterOption())
    .option('--limit <n>', 'how many of the newest entries (versions and attempts) to show per datacenter', '20')
    .option('--json', 'print one JSON document on stdout')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR'))
    .addHelpText(
      'after',
      `
Examples:
  baton history shop-web --env prod
  baton history shop-web --env prod --dc AA --limit 5
  baton history shop-web --env qa --json
  baton history shop-web --env prod --json | jq '.datacenters[].entries[] | select(.kind == "attempt")'
  baton history shop-web --env prod --json | jq '.datacenters[] | select(.source == "audit-log-only") | .reason'

"*" marks the version running now (what the app says, not the newest timestamp); "reverted" marks a version that ran
and was undone (e.g. a failed deploy that was rolled back); "never ran" a version Marathon stored for a change it refused
(409, app locked). CHANGE says what a version changed: config, scale (instances only) or restart. DEPLOYED BY and OUTCOME
come from the audit log (BATON_AUDIT_LOG, default ~/.baton/audit.jsonl), matched by Marathon version, else by tag and time;
with "audit": {"influx": …} in environments.json merged with the shared audit trail in InfluxDB (unreadable: a warning line,
the local log alone).

A row whose MARATHON VERSION is "- (<time>)" is an audited deploy or rollback that created no Marathon version: refused
by Marathon (409 locked, 400/422, 401/403), stopped before it (invalid config, image missing in the registry, not
confirmed, unreachable), interrupted before anything was sent, or a dry run. It shows when it was recorded, the tag it
was for, CHANGE "none", and OUTCOME as recorded: outcome (exit code): message. With --json such entries have
"kind": "attempt" and "marathonVersion": null; versions have "kind": "version".

A datacenter whose Marathon could not be asked (unreachable, credentials refused, an answer Baton could not read) still
lists what the audit log holds for it, under "from the audit log only; Marathon <url> could not be asked: <reason>":
attempts as above, and deploys that created a Marathon version with the version recorded (or "? (<time>)" for old
records) and CHANGE "?", since only Marathon could say what runs now. With --json such a datacenter has "source":
"audit-log-only", "reachable": false, "reason", and deployed, currentVersion, totalVersions and each version's current,
abandoned and change null ("auditedVersions" counts the versions the audit log records); otherwise "source":
"marathon-and-audit-log".

A datacenter whose credential variable (credentialsEnv/tokenEnv in environments.json) is unset is not asked at all and
is listed the same way, under "from the audit log only; Marathon <url> not asked (datacenter config): <reason>" (the
reason names the variable; with --json also "notAsked": true), as baton status shows it; the others are asked.

Exit codes: 0 every datacenter answered · 1 some Marathon could not be asked, or not asked (unset credential variable);
  its audit log entries and the other datacenters are shown · 2 invalid input (unknown app, environment or datacenter, bad flag)`,
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
  const audit = await readSharedAuditRecords(env.audit, { app, env: env.name });

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
  const base = {
    datacenter: dc.name,
    marathon: dc.marathon,
    appId: context.appId,
    source: 'marathon-and-audit-log',
    reachable: true,
    deployed: false,
    totalVersions: 0,
    totalAttempts: 0,
    entries: [],
  } as const;
  // The audit log is local: while Marathon cannot be asked it still says who deployed what there, when, and how it ended.
  const fromAuditLogOnly = (reason: string, notAsked: boolean): DatacenterHistory => {
    const { entries, attempts, versions } = auditOnlyTimeline({ app: context.app, env: context.env, dc: dc.name, audit: context.audit, limit: context.limit });
    return {
      ...base,
      source: 'audit-log-only',
      reachable: false,
      reason,
      ...(notAsked ? { notAsked: true as const } : {}),
      deployed: null,
      currentVersion: null,
      totalVersions: null,
      auditedVersions: versions,
      totalAttempts: attempts,
      entries,
    };
  };
  let client: MarathonClient;
  try {
    client = marathonFor(dc);
  } catch (error) {
    // An unset credential variable spoils only this datacenter's request, not the question about the others.
    return fromAuditLogOnly(marathonCliError(error, dc).message, true);
  }
  const timeline = (live: { version?: string } | null, versions: MarathonVersion[], olderExist: boolean) =>
    historyTimeline({
      app: context.app,
      env: context.env,
      dc: dc.name,
      currentVersion: live?.version,
      versions,
      olderExist,
      audit: context.audit,
      limit: context.limit,
    });
  try {
    const live = await client.findApp(context.appId);
    // Not there (never created, e.g. its first deploy was refused, or deleted): the attempts may still say why.
    if (!live) {
      const { entries, attempts } = timeline(null, [], false);
      return { ...base, totalAttempts: attempts, entries };
    }
    const all = versionsNewestFirst(await client.listVersions(context.appId), context.audit, { app: context.app, env: context.env, dc: dc.name });
    // One more than shown, so the oldest shown version can still say what it changed.
    const versions = await readVersionDefinitions(client, context.appId, all.slice(0, context.limit + 1));
    const { entries, attempts } = timeline(live, versions, all.length > versions.length);
    return { ...base, deployed: true, currentVersion: live.version, totalVersions: all.length, totalAttempts: attempts, entries };
  } catch (error) {
    return fromAuditLogOnly(marathonCliError(error, dc).message, false);
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
  const total = (history.totalVersions ?? history.auditedVersions) + history.totalAttempts;
  const shown = history.entries.length < total ? ` (newest ${history.entries.length} of ${total}; --limit for more)` : '';
  // Indented under the datacenter's title: the indent counts toward the width.
  const table = (rows: Cell[][]) => (rows.length ? formatTable(COLUMNS, rows, { ...options, width: options.width - 2 }).map((line) => `  ${line}`) : []);
  if (history.source === 'audit-log-only') {
    const why = history.notAsked ? 'not asked (datacenter config)' : 'could not be asked';
    const note = `  from the audit log only; Marathon ${history.marathon} ${why}: ${history.reason}`;
    const none = history.entries.length ? [] : ['  no audited deploys or rollbacks here'];
    const rows = history.entries.map((entry) => (entry.kind === 'version' ? auditedVersionRow(entry) : attemptRow(entry)));
    return [`${title}${shown}`, paint(options.color, 'red', note), ...none, ...table(rows), ''];
  }
  const notDeployed = history.deployed ? [] : ['  not deployed in this datacenter'];
  const rows = history.entries.map((entry) =>
    entry.kind === 'attempt' ? attemptRow(entry) : entry.current === null ? auditedVersionRow(entry) : versionRow(entry),
  );
  return [`${title}${shown}`, ...notDeployed, ...table(rows), ''];
}

function versionRow(entry: HistoryEntry): Cell[] {
  return [
    entry.current ? '*' : '',
    entry.marathonVersion,
    entry.error ? { text: `unreadable: ${entry.error}`, style: 'red' } : versionText(entry),
    entry.neverRan
      ? { text: `${entry.change}, never ran`, style: 'gray' }
      : entry.abandoned
        ? { text: `${entry.change}, reverted`, style: 'gray' }
        : entry.change,
    entry.audit?.user ?? '-',
    entry.audit?.command ?? '-',
    outcomeCell(entry),
  ];
}

/** What Baton recorded; whether it runs now, or what it changed, only Marathon could say ("?"). */
function auditedVersionRow(entry: AuditedVersionEntry): Cell[] {
  return [
    '',
    entry.marathonVersion ?? `? (${shortTime(entry.time)})`,
    entry.version ?? entry.image ?? '?',
    '?',
    entry.audit.user,
    entry.audit.command,
    recordedOutcome(entry.audit),
  ];
}

function attemptRow(entry: AttemptEntry): Cell[] {
  return ['', `- (${shortTime(entry.time)})`, entry.version ?? '-', 'none', entry.audit.user, entry.audit.command, recordedOutcome(entry.audit)];
}

/** outcome (exit N): message, on one line. */
function recordedOutcome({ outcome, exitCode, message }: AttemptEntry['audit']): Cell {
  const code = exitCode === undefined ? '' : ` (exit ${exitCode})`;
  // Multi-line messages (Marathon's details, one per line) become one line of the table.
  const said = message ? `: ${message.split('\n').map((line) => line.trim()).filter(Boolean).join(' ')}` : '';
  return { text: `${outcome}${code}${said}`, style: ATTEMPT_STYLES[outcome] ?? 'red' };
}

/** Attempts that did what was asked, or stopped on purpose, are not shown as failures. */
const ATTEMPT_STYLES: Record<string, Style> = {
  succeeded: 'green',
  'dry-run': 'gray',
  unchanged: 'gray',
  refused: 'yellow',
  interrupted: 'yellow',
  skipped: 'yellow',
};

function versionText(entry: HistoryEntry): string {
  const version = entry.version ?? entry.image ?? '?';
  return entry.digest ? `${version} @${entry.digest.slice(0, 19)}` : version;
}

function outcomeCell(entry: HistoryEntry): Cell {
  const outcome = entry.audit?.outcome;
  if (!outcome) return '-';
  // A version that never ran is told by its refused attempt, as attempts are.
  if (entry.neverRan && entry.audit) return recordedOutcome(entry.audit);
  const style = outcome === 'succeeded' ? 'green' : outcome.startsWith('restored') ? 'yellow' : 'red';
  return { text: outcome, style };
}
