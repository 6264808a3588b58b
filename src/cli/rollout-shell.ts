import type { AuditTrail } from '../audit/trail.js';
import type { EnvironmentConfig } from '../config/environments.js';
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

/** The closing summary, and with --json the one document scripts read. */
export function printResults(
  results: ChangeResult[],
  document: Record<string, unknown>,
  json: boolean | undefined,
  say: (line: string) => void,
  terminal: Terminal,
): void {
  terminal.endProgress();
  for (const line of summaryLines(results, terminal.color)) say(line);
  if (json) process.stdout.write(`${JSON.stringify({ ok: allOk(results), ...document, datacenters: results }, null, 2)}\n`);
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
