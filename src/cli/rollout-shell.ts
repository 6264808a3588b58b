import type { AuditTrail } from '../audit/trail.js';
import type { EnvironmentConfig } from '../config/environments.js';
import { axiosPost, notificationBody, notifyWebhooks, shouldNotify, type RunDocument, type Webhook } from '../notify/webhook.js';
import type { ChangeResult } from '../rollout/change.js';
import { allOk, type RolloutIo, type RolloutRun } from '../rollout/engine.js';
import { createTerminal, type Terminal } from '../terminal/output.js';
import { confirmByTyping } from './confirm.js';
import { summaryLines } from './datacenter-summary.js';

// What deploy and rollback share as commands: how they print and how the engine reaches the terminal and the prompt.

/** Human output goes to stdout, or to stderr when --json owns stdout. */
export function linesStream(json: boolean | undefined): NodeJS.WriteStream {
  return json ? process.stderr : process.stdout;
}

export function lineWriter(json: boolean | undefined): (line: string) => void {
  const stream = linesStream(json);
  return (line) => void stream.write(`${line}\n`);
}

/** Progress on stderr; colour as the stream the command's lines go to allows. */
export function commandTerminal(json: boolean | undefined): Terminal {
  return createTerminal({ stream: process.stderr, linesStream: linesStream(json) });
}

/** The engine's way out to this process: the terminal, the prompt, the audit trail, the Ctrl-C stages. */
export function rolloutIo(
  trail: AuditTrail,
  say: (line: string) => void,
  terminal: Terminal,
  stages: { set(stage: string): void; changesBegin(): void },
): RolloutIo {
  return { trail, say, terminal, confirm: confirmByTyping, setStage: stages.set, changesBegin: stages.changesBegin };
}

/** The closing summary, and with --json the one document scripts read (returned: webhooks get it too). */
export function printResults(
  results: ChangeResult[],
  document: Omit<RunDocument, 'ok' | 'datacenters'>,
  json: boolean | undefined,
  say: (line: string) => void,
  terminal: Terminal,
): RunDocument {
  terminal.endProgress();
  for (const line of summaryLines(results, terminal.color)) say(line);
  const run: RunDocument = { ok: allOk(results), ...document, datacenters: results };
  if (json) process.stdout.write(`${JSON.stringify(run, null, 2)}\n`);
  return run;
}

/**
 * Once the result is known: one POST of it to each of the environment's webhooks, unless the run changed nothing (a dry
 * run, every datacenter already there). Never throws and never changes the exit code: a failure is a warning on stderr.
 */
export async function notifyRun(
  webhooks: Webhook[],
  run: { command: 'deploy' | 'rollback'; user: string; document: RunDocument; dryRun: boolean },
): Promise<void> {
  if (webhooks.length === 0 || !shouldNotify(run.document, run.dryRun)) return;
  try {
    await notifyWebhooks(webhooks, notificationBody(run.command, run.user, run.document), {
      post: axiosPost,
      warn: (line) => void process.stderr.write(`${line}\n`),
    });
  } catch {
    process.stderr.write('baton: warning: the webhooks could not be notified; the result and exit code are unaffected\n');
  }
}

/** How the engine waits and reverts, from the flags and, where a flag is not given, the environment's defaults. */
export function waitingRules(
  flags: { force?: boolean; rollback: boolean; rollbackOnInterrupt?: boolean },
  env: EnvironmentConfig,
  parsed: { stableSeconds: number | undefined; timeoutSeconds: number | undefined },
): Pick<RolloutRun, 'force' | 'rollbackOnFailure' | 'rollbackOnInterrupt' | 'stableSeconds' | 'timeoutSeconds'> {
  return {
    force: Boolean(flags.force),
    rollbackOnFailure: flags.rollback,
    rollbackOnInterrupt: flags.rollbackOnInterrupt ?? env.rollbackOnInterrupt,
    stableSeconds: parsed.stableSeconds ?? env.stableSeconds,
    timeoutSeconds: parsed.timeoutSeconds,
  };
}
