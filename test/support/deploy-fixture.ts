import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { baseEnv, batonBin, repoRoot } from './cli.js';

export interface FixtureDatacenter {
  url: string;
  credentialsEnv?: string;
  /** marathon-lb's base URL (blue/green post-integration tests). */
  loadBalancer?: string;
}

/** A throw-away deploy-configs directory whose environments point at emulators, plus an audit log path. */
export interface DeployFixture {
  dir: string;
  configDir: string;
  auditLog: string;
  env: Record<string, string>;
  writeApp(app: string, files: Record<string, unknown>): void;
  /** The outcome records, in order; the `started` record each changing run writes first, and notes, are left out (see `allAuditLines`). */
  auditLines(): Record<string, unknown>[];
  /** Every line of the audit log, `started` records included. */
  allAuditLines(): Record<string, unknown>[];
  cleanup(): void;
}

/** Environments skip the registry check unless `imageCheck: true`: most deploy tests use made-up image names. */
export function makeDeployFixture(
  environments: Record<
    string,
    { confirm?: boolean; imageCheck?: boolean; notify?: unknown[]; stableSeconds?: number; rollbackOnInterrupt?: boolean; datacenters: Record<string, FixtureDatacenter> }
  >,
  /** `audit`: environments.json's top-level audit key, e.g. {influx: {url, database, credentialsEnv}}. */
  options: { audit?: unknown } = {},
): DeployFixture {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-deploy-'));
  const configDir = path.join(dir, 'deploy-configs');
  fs.mkdirSync(configDir);
  const envFile = {
    ...(options.audit !== undefined ? { audit: options.audit } : {}),
    environments: Object.fromEntries(
      Object.entries(environments).map(([name, e]) => [
        name,
        {
          confirm: e.confirm ?? false,
          imageCheck: e.imageCheck ?? false,
          ...(e.notify ? { notify: e.notify } : {}),
          ...(e.stableSeconds !== undefined ? { stableSeconds: e.stableSeconds } : {}),
          ...(e.rollbackOnInterrupt !== undefined ? { rollbackOnInterrupt: e.rollbackOnInterrupt } : {}),
          datacenters: Object.fromEntries(
            Object.entries(e.datacenters).map(([dc, d]) => [
              dc,
              { marathon: d.url, ...(d.credentialsEnv ? { credentialsEnv: d.credentialsEnv } : {}), ...(d.loadBalancer ? { loadBalancer: d.loadBalancer } : {}) },
            ]),
          ),
        },
      ]),
    ),
  };
  fs.writeFileSync(path.join(configDir, 'environments.json'), JSON.stringify(envFile, null, 2));
  const auditLog = path.join(dir, 'audit.jsonl');
  return {
    dir,
    configDir,
    auditLog,
    env: { BATON_CONFIG_DIR: configDir, BATON_AUDIT_LOG: auditLog, BATON_USER: 'release-bot' },
    writeApp(app, files) {
      fs.mkdirSync(path.join(configDir, app), { recursive: true });
      for (const [name, content] of Object.entries(files)) {
        fs.writeFileSync(path.join(configDir, app, name), typeof content === 'string' ? content : JSON.stringify(content, null, 2));
      }
    },
    auditLines() {
      // Notes such as the shared audit trail's missed records ({auditSinkMissed}) have no outcome: not records.
      return this.allAuditLines().filter((record) => record.outcome !== undefined && record.outcome !== 'started');
    },
    allAuditLines() {
      if (!fs.existsSync(auditLog)) return [];
      return fs
        .readFileSync(auditLog, 'utf8')
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    },
    cleanup() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A small web app as a team would write it: Docker image, port mapping, HTTP health check, env per environment. */
export function webApp(id = '/shop/web', over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    id,
    instances: 2,
    cpus: 0.25,
    mem: 128,
    container: {
      type: 'DOCKER',
      docker: { image: 'registry.example.com/shop/web:latest' },
      portMappings: [{ containerPort: 8080, hostPort: 0, name: 'http' }],
    },
    networks: [{ mode: 'container/bridge' }],
    healthChecks: [{ protocol: 'MESOS_HTTP', path: '/health', portIndex: 0, gracePeriodSeconds: 30, intervalSeconds: 5, maxConsecutiveFailures: 3 }],
    upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
    env: { LOG_LEVEL: 'info' },
    ...over,
  };
}

/** Starts `bin/baton` without waiting, for tests that interact with it while it runs (Ctrl-C). */
export function startBaton(args: string[], env: Record<string, string | undefined>): {
  child: ChildProcessWithoutNullStreams;
  output: () => { stdout: string; stderr: string };
  exited: Promise<number | null>;
  waitFor: (pattern: RegExp, timeoutMs?: number) => Promise<void>;
} {
  const child = spawn(process.execPath, [batonBin, ...args], { cwd: repoRoot, env: { ...baseEnv(), ...env } as NodeJS.ProcessEnv });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  child.stdin.end();
  return {
    child,
    output: () => ({ stdout, stderr }),
    exited,
    waitFor: async (pattern, timeoutMs = 20_000) => {
      const until = Date.now() + timeoutMs;
      while (!pattern.test(stdout + stderr)) {
        if (Date.now() > until) throw new Error(`timed out waiting for ${pattern}; output so far:\n${stdout}\n${stderr}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
  };
}
