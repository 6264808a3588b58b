import { spawn } from 'node:child_process';
import type { IntegrationTest } from '../config/deploy-strategy.js';

// The shell around an integration test: a command run by `sh -c` in its own process group, so a time limit (or Ctrl-C)
// ends everything it started (a `docker run`, a test runner's children), not only the shell.

export interface TestRun {
  passed: boolean;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  interrupted: boolean;
  durationMs: number;
  /** The last lines it printed (stdout and stderr interleaved), for the audit record. */
  tail: string;
}

const TAIL_LINES = 10;
const TAIL_CHARS = 1000;
/** After SIGTERM, how long the group gets before SIGKILL. */
const KILL_GRACE_MS = 2000;

export function runTestCommand(
  test: IntegrationTest,
  env: Record<string, string>,
  options: { onLine: (line: string) => void; signal?: AbortSignal; now?: () => number },
): Promise<TestRun> {
  const now = options.now ?? Date.now;
  const began = now();
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', test.command], { detached: true, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    let timedOut = false;
    let interrupted = false;
    const partial = { stdout: '', stderr: '' };
    const take = (stream: 'stdout' | 'stderr') => (chunk: Buffer) => {
      const text = partial[stream] + chunk.toString('utf8');
      const parts = text.split('\n');
      partial[stream] = parts.pop() ?? '';
      for (const line of parts) emit(line);
    };
    const emit = (line: string) => {
      lines.push(line);
      if (lines.length > TAIL_LINES) lines.shift();
      options.onLine(line);
    };
    child.stdout.on('data', take('stdout'));
    child.stderr.on('data', take('stderr'));
    let killTimer: NodeJS.Timeout | undefined;
    const stop = () => {
      killGroup(child.pid, 'SIGTERM');
      killTimer = setTimeout(() => killGroup(child.pid, 'SIGKILL'), KILL_GRACE_MS);
    };
    const limit = setTimeout(() => {
      timedOut = true;
      stop();
    }, test.timeoutSeconds * 1000);
    const onAbort = () => {
      interrupted = true;
      stop();
    };
    options.signal?.addEventListener('abort', onAbort);
    if (options.signal?.aborted) onAbort();
    const finish = (exitCode: number | null, signal: NodeJS.Signals | null) => {
      clearTimeout(limit);
      if (killTimer) clearTimeout(killTimer);
      options.signal?.removeEventListener('abort', onAbort);
      // Whatever the group left behind (a child that ignored SIGTERM) goes with the test.
      killGroup(child.pid, 'SIGKILL');
      for (const rest of [partial.stdout, partial.stderr]) if (rest !== '') emit(rest);
      const tail = lines.join('\n');
      resolve({
        passed: exitCode === 0 && !timedOut && !interrupted,
        exitCode,
        signal,
        timedOut,
        interrupted,
        durationMs: now() - began,
        tail: tail.length > TAIL_CHARS ? `…${tail.slice(-TAIL_CHARS)}` : tail,
      });
    };
    child.on('error', (error) => {
      emit(`could not start the test: ${error.message}`);
      finish(null, null);
    });
    // A background child of the test may hold its output open after the shell exited: the group goes at the shell's exit.
    let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      killGroup(child.pid, 'SIGKILL');
    });
    child.on('close', (code, signal) => finish(exited?.code ?? code, exited?.signal ?? signal));
  });
}

function killGroup(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** "exit 3", "timed out after 60s", ... */
export function describeTestRun(run: TestRun, test: IntegrationTest): string {
  if (run.interrupted) return 'interrupted';
  if (run.timedOut) return `timed out after ${test.timeoutSeconds}s (its process group was killed)`;
  if (run.passed) return 'passed';
  return run.exitCode !== null ? `failed (exit ${run.exitCode})` : `failed (${run.signal ?? 'did not start'})`;
}
