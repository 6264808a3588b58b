import { spawn } from 'node:child_process';
import { expect } from 'vitest';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const batonBin = path.join(repoRoot, 'bin/baton');
export const autoscalerBin = path.join(repoRoot, 'bin/baton-autoscaler');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** Run the file itself (its `#!` line), as a shell would, instead of `node <file>`: for npm, installed bins. */
  direct?: boolean;
}

/** Runs the real `bin/baton` as a child process (no TTY: stdin/stdout/stderr are pipes), the way CI runs it. */
export function runBaton(args: string[], options: RunOptions = {}): Promise<CliResult> {
  return runProcess(batonBin, args, options);
}

export function runProcess(bin: string, args: string[], options: RunOptions = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(options.direct ? bin : process.execPath, options.direct ? args : [bin, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...baseEnv(), ...options.env } as NodeJS.ProcessEnv,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 60_000);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}

/** Fails when any of `secrets` appears in what the CLI printed, on stdout (also --json) or stderr. */
export function expectNoSecrets(result: CliResult, secrets: readonly string[]): void {
  for (const secret of secrets) {
    expect(result.stdout).not.toContain(secret);
    expect(result.stderr).not.toContain(secret);
  }
}

/**
 * A clean environment: no colour, CI-style plain output, no inherited Baton settings, and no docker config (a developer's
 * ~/.docker/config.json could name a credential helper that Baton would run).
 */
export function baseEnv(): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = {
    ...process.env,
    NO_COLOR: '1',
    CI: 'true',
    DOCKER_CONFIG: path.join(os.tmpdir(), 'baton-tests-without-docker-config'),
  };
  for (const key of Object.keys(env)) if (key.startsWith('BATON_')) delete env[key];
  return env;
}
