// The real load balancer Marathon users run, between a Marathon (the emulator) and real traffic: marathon-lb
// (../shared/marathon-lb, run as it is, never copied) following the event stream, and the HAProxy it configures and
// reloads. Both run on 127.0.0.1 with all their files in a temp dir, under a small shell that also stops them when the
// test process dies. Imports only node: modules and sibling helpers, so that scripts/ can load it (see
// scripts/bench-zero-downtime.mjs). How to use it: docs/testing-with-traffic.md.
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { ensureInstalled } from './debian.js';
import { freePort } from './free-port.js';
import { superviseShell, supervisorScript, type Supervised } from './supervised.js';

const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

/** The Debian packages RUNNING-IN-TESTS.md lists; Debian's python3, as a python3 earlier on PATH may not see them. */
export function ensureMarathonLbInstalled(): Promise<void> {
  return ensureInstalled(`command -v haproxy && ${PYTHON} -c 'import requests,six,dateutil,pycurl,cryptography,jwt'`, [
    'haproxy',
    'python3-requests',
    'python3-six',
    'python3-dateutil',
    'python3-pycurl',
    'python3-cryptography',
    'python3-jwt',
  ]);
}

/**
 * Where the copy of marathon-lb is: BATON_MARATHON_LB_DIR, else `../shared/marathon-lb` beside the repository — beside
 * the main checkout when this is a git worktree elsewhere (its `.git` file names the main checkout's .git).
 */
export function marathonLbDir(repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')): string {
  if (process.env.BATON_MARATHON_LB_DIR) return path.resolve(process.env.BATON_MARATHON_LB_DIR);
  const beside = (root: string) => path.resolve(root, '../shared/marathon-lb');
  if (existsSync(beside(repoRoot))) return beside(repoRoot);
  const gitFile = path.join(repoRoot, '.git');
  const worktreeOf = existsSync(gitFile) && statSync(gitFile).isFile() ? /^gitdir: (.+)\/\.git\/worktrees\//m.exec(readFileSync(gitFile, 'utf8'))?.[1] : undefined;
  if (worktreeOf && existsSync(beside(worktreeOf))) return beside(worktreeOf);
  throw new Error(`no marathon-lb at ${beside(repoRoot)}: set BATON_MARATHON_LB_DIR to the folder holding marathon_lb.py`);
}

export interface MarathonLbOptions {
  marathonUrl: string;
  /** `--group`: apps opt in with the label HAPROXY_GROUP=<group>. */
  group?: string;
  /** `--health-check`: only tasks Marathon reports healthy become servers (off: every running task, HAProxy's own checks guard them). */
  healthCheck?: boolean;
  /** The folder holding marathon_lb.py (default: marathonLbDir()). */
  marathonLbDir?: string;
  /** marathon_lb.py's --log-level (default INFO: reloads and errors; DEBUG prints every generated config). */
  logLevel?: 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
  /** More marathon_lb.py arguments. */
  extraArgs?: readonly string[];
}

/** HAProxy's view of one server (a task) of a backend, from its stats CSV. */
export interface BackendServer {
  backend: string;
  /** marathon-lb's server name: the task's host (and IP when it differs) and port, e.g. 127_0_0_1_31005. */
  name: string;
  /** The task port, from the name (the CSV's addr column is empty without `stats show-legends`). */
  port: number;
  /** HAProxy's status column as it is: "UP", "UP 1/3" (going down), "DOWN 1/2" (going up), "MAINT", "DRAIN", "no check", ... */
  status: string;
  /** Whether HAProxy sends new requests to it: UP and "no check" do; MAINT is marathon-lb's `disabled` (a draining task). */
  state: ServerState;
  /** Current sessions. */
  sessions: number;
}

export type ServerState = 'UP' | 'DOWN' | 'MAINT' | 'DRAIN' | 'NOLB' | 'no check' | 'other';

export interface RunningMarathonLb {
  /** Base URL of HAProxy's stats listener: zdd.py's --marathon-lb; the CSV is at `${statsUrl}/haproxy?stats;csv`. */
  statsUrl: string;
  /** The HAProxy process serving now (each reload starts a new one). */
  haproxyPid(): Promise<number>;
  /** Where an app's service port is served: http://127.0.0.1:<servicePort>. */
  frontendUrl(servicePort: number): string;
  /** The servers of the backend that serves `servicePort` (empty when marathon-lb has not configured it). */
  backends(servicePort: number): Promise<BackendServer[]>;
  /**
   * Polls the stats until the backend of `servicePort` satisfies `expected`: a number means at least that many servers
   * in state UP. Resolves with the servers; rejects after `timeoutMs` naming what it saw.
   */
  waitForBackends(servicePort: number, expected: number | ((servers: BackendServer[]) => boolean), timeoutMs?: number): Promise<BackendServer[]>;
  /** The HAProxy configuration marathon-lb generated last. */
  config(): Promise<string>;
  /** The last lines marathon_lb.py and HAProxy printed. */
  output(): string;
  stop(): Promise<void>;
}

export async function startMarathonLb(options: MarathonLbOptions): Promise<RunningMarathonLb> {
  await ensureMarathonLbInstalled();
  const mlbDir = options.marathonLbDir ?? marathonLbDir();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-marathon-lb-'));
  try {
    await mkdir(path.join(dir, 'state'));
    const [statsPort, appIdPort] = [await freePort(), await freePort()];
    const files = {
      config: path.join(dir, 'haproxy.cfg'),
      pid: path.join(dir, 'haproxy.pid'),
      socket: path.join(dir, 'haproxy.sock'),
      reload: path.join(dir, 'reload.sh'),
    };
    // marathon-lb skips the reload when the file already holds what it generated: start from an empty one.
    await writeFile(files.config, '');
    await writeFile(files.reload, reloadScript(dir), { mode: 0o755 });
    await chmod(files.reload, 0o755);
    const head = haproxyHead(await defaultHaproxyHead(mlbDir), { mlbDir, statsPort, dir });

    const args = [
      '-u',
      path.join(mlbDir, 'marathon_lb.py'),
      '--marathon', options.marathonUrl,
      '--sse',
      '--group', options.group ?? 'external',
      '--dont-bind-http-https',
      '--syslog-socket', '/dev/null',
      '--log-level', options.logLevel ?? 'INFO',
      '--haproxy-config', files.config,
      '--command', files.reload,
      ...(options.healthCheck ? ['--health-check'] : []),
      ...(options.extraArgs ?? []),
    ];
    const supervised = superviseShell(supervisorScript('marathon-lb.pid', STOP_HAPROXIES), 'marathon-lb-supervisor', [dir, String(process.pid), PYTHON, ...args], {
      cwd: mlbDir,
      env: { ...process.env, HAPROXY_HEAD: head, HAPROXY_HTTP_FRONTEND_APPID_HEAD: appIdFrontendHead(appIdPort) },
      keepChars: 20_000,
    });
    const output = supervised.output;
    const statsUrl = `http://127.0.0.1:${statsPort}`;
    const stop = async () => {
      await supervised.stop(STOP_TIMEOUT_MS, () => killRecorded(dir));
      await rm(dir, { recursive: true, force: true });
    };
    try {
      await waitForStats(statsUrl, supervised);
    } catch (error) {
      await stop();
      throw error;
    }

    const backends = async (servicePort: number) => serversOf(parseHaproxyStats(await fetchStats(statsUrl)), servicePort);
    return {
      statsUrl,
      haproxyPid: async () => Number((await readFile(files.pid, 'utf8')).trim()),
      frontendUrl: (servicePort) => `http://127.0.0.1:${servicePort}`,
      backends,
      async waitForBackends(servicePort, expected, timeoutMs = 30_000) {
        const satisfied = typeof expected === 'number' ? (servers: BackendServer[]) => servers.filter((s) => s.state === 'UP').length >= expected : expected;
        const deadline = Date.now() + timeoutMs;
        let last: BackendServer[] = [];
        for (;;) {
          try {
            last = await backends(servicePort);
            if (satisfied(last)) return last;
          } catch {
            // HAProxy between two processes: ask again
          }
          if (Date.now() > deadline) {
            const seen = last.map((s) => `${s.name} ${s.status}`).join(', ') || 'no servers';
            throw new Error(`the backend of service port ${servicePort} did not reach the expected state within ${timeoutMs} ms; last seen: ${seen}\n${output().slice(-3000)}`);
          }
          await delay(100);
        }
      },
      config: () => readFile(files.config, 'utf8'),
      output,
      stop,
    };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** One row of HAProxy's stats CSV (`/haproxy?stats;csv`), by column name. */
export type StatsRow = Record<string, string>;

/** Parses HAProxy's stats CSV: a `# pxname,svname,...` header, then one line per frontend, backend and server. */
export function parseHaproxyStats(csv: string): StatsRow[] {
  const [header, ...lines] = csv.split('\n');
  if (!header?.startsWith('# ')) throw new Error(`not HAProxy stats CSV: ${csv.slice(0, 200)}`);
  const columns = header.slice(2).split(',');
  return lines
    .filter((line) => line.length > 0 && !line.startsWith('#'))
    .map((line) => {
      const cells = line.split(',');
      return Object.fromEntries(columns.map((column, i) => [column, cells[i] ?? '']));
    });
}

/** The servers of the backend marathon-lb names `<app or deployment group>_<servicePort>`. */
export function serversOf(rows: readonly StatsRow[], servicePort: number): BackendServer[] {
  return rows
    .filter((row) => row.pxname?.endsWith(`_${servicePort}`) && row.svname !== 'FRONTEND' && row.svname !== 'BACKEND' && row.type === '2')
    .map((row) => ({
      backend: row.pxname ?? '',
      name: row.svname ?? '',
      port: Number(/_(\d+)$/.exec(row.svname ?? '')?.[1] ?? 0),
      status: row.status ?? '',
      state: serverState(row.status ?? ''),
      sessions: Number(row.scur ?? 0),
    }));
}

function serverState(status: string): ServerState {
  if (status === 'no check') return 'no check';
  const word = status.split(' ')[0];
  return word === 'UP' || word === 'DOWN' || word === 'MAINT' || word === 'DRAIN' || word === 'NOLB' ? word : 'other';
}

async function fetchStats(statsUrl: string): Promise<string> {
  const response = await fetch(`${statsUrl}/haproxy?stats;csv`, { signal: AbortSignal.timeout(2000) });
  if (!response.ok) throw new Error(`HAProxy stats answered ${response.status}`);
  return response.text();
}

async function defaultHaproxyHead(mlbDir: string): Promise<string> {
  const { stdout } = await run(PYTHON, ['-c', 'import config; print(config.ConfigTemplater().haproxy_head, end="")'], { cwd: mlbDir });
  return stdout;
}

/**
 * marathon-lb's own HAPROXY_HEAD made to run here, as RUNNING-IN-TESTS.md says: the Lua files from the copy, stats on
 * loopback, a maxconn a sandbox's file descriptors allow; and the stats socket and server-state files in the temp dir,
 * so that several instances do not share /var/run/haproxy.
 */
export function haproxyHead(defaultHead: string, at: { mlbDir: string; statsPort: number; dir: string }): string {
  const head = defaultHead
    .replaceAll('/marathon-lb/', `${at.mlbDir}/`)
    .replaceAll('0.0.0.0:9090', `127.0.0.1:${at.statsPort}`)
    .replace(/maxconn\s+\d+/g, 'maxconn 2000')
    .replaceAll('/var/run/haproxy/socket', path.join(at.dir, 'haproxy.sock'))
    .replaceAll('/var/state/haproxy/', `${path.join(at.dir, 'state')}/`);
  for (const expected of [`${at.mlbDir}/getpids.lua`, `127.0.0.1:${at.statsPort}`, path.join(at.dir, 'haproxy.sock')]) {
    if (!head.includes(expected)) throw new Error(`marathon-lb's HAPROXY_HEAD changed shape: no ${expected} after the replacements`);
  }
  return head;
}

/**
 * The frontend that routes by the X-Marathon-App-Id header binds *:9091 by default, which a second instance on the
 * machine could not bind: the same frontend on a free loopback port.
 */
function appIdFrontendHead(port: number): string {
  return `\nfrontend marathon_http_appid_in\n  bind 127.0.0.1:${port}\n  mode http\n`;
}

/**
 * Run by marathon_lb.py (--command, no shell) after each change, as marathon-lb's container reloads HAProxy: the
 * servers' check states saved for the new process (load-server-state-from-file), which takes the listening sockets
 * over from the old one (-x) — no refused connection at a reload — while the old one finishes its requests (-sf).
 * Every pid is recorded so that stop() finds old processes still finishing.
 */
function reloadScript(dir: string): string {
  const q = (p: string) => `'${p.replaceAll("'", "'\\''")}'`;
  const saveState = `import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.sendall(b"show servers state\\n")
out=b""
while True:
    chunk=s.recv(65536)
    if not chunk: break
    out+=chunk
sys.stdout.write(out.decode())`;
  return `#!/bin/sh
dir=${q(dir)}
old=$(cat "$dir/haproxy.pid" 2>/dev/null)
if [ -n "$old" ] && kill -0 "$old" 2>/dev/null; then
  ${PYTHON} -c '${saveState}' "$dir/haproxy.sock" > "$dir/state/global.new" && mv "$dir/state/global.new" "$dir/state/global"
  haproxy -f "$dir/haproxy.cfg" -p "$dir/haproxy.pid" -D -x "$dir/haproxy.sock" -sf "$old"
else
  haproxy -f "$dir/haproxy.cfg" -p "$dir/haproxy.pid" -D
fi
status=$?
cat "$dir/haproxy.pid" >> "$dir/haproxy.pids" 2>/dev/null
exit $status
`;
}

/**
 * After marathon_lb.py: every HAProxy the reload script started, checked to be one of ours by its command line (a pid
 * may have been reused), TERM, a moment to finish, then KILL.
 */
const STOP_HAPROXIES = `
ours() { tr '\\0' ' ' < /proc/$1/cmdline 2>/dev/null | grep -q -- "-f $dir/haproxy.cfg"; }
for pid in $(sort -u "$dir/haproxy.pids" 2>/dev/null); do ours $pid && kill -TERM $pid; done
for i in 1 2 3 4 5 6 7 8 9 10; do
  alive=""; for pid in $(sort -u "$dir/haproxy.pids" 2>/dev/null); do ours $pid && alive=1; done
  [ -z "$alive" ] && break; sleep 0.2
done
for pid in $(sort -u "$dir/haproxy.pids" 2>/dev/null); do ours $pid && kill -KILL $pid; done
`;

async function waitForStats(statsUrl: string, supervised: Supervised): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (supervised.hasExited()) {
      throw new Error(`marathon_lb.py exited before HAProxy answered (code ${supervised.child.exitCode}):\n${supervised.output().slice(-4000)}`);
    }
    try {
      parseHaproxyStats(await fetchStats(statsUrl));
      return;
    } catch {
      // no HAProxy yet: marathon-lb starts it after its first sync
    }
    await delay(100);
  }
  throw new Error(`HAProxy's stats did not answer at ${statsUrl} within ${READY_TIMEOUT_MS} ms:\n${supervised.output().slice(-4000)}`);
}

/** What the supervisor started, by the pids it recorded, for when it is stuck. */
async function killRecorded(dir: string): Promise<void> {
  const recorded = async (file: string) => (await readFile(path.join(dir, file), 'utf8').catch(() => '')).split(/\s+/).map(Number).filter((pid) => pid > 0);
  for (const pid of await recorded('marathon-lb.pid')) killQuietly(pid);
  for (const pid of await recorded('haproxy.pids')) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(path.join(dir, 'haproxy.cfg'))) killQuietly(pid);
  }
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * HAProxy 2.2 and later put a "-" column in the stats CSV, then the stats of its modules (ssl, h2, ...); zdd.py (2020,
 * written against HAProxy 1.x/2.0) makes a namedtuple of the header and fails on "-". This drops that column and those
 * after it, giving zdd.py the CSV it was written for; everything else is passed through unchanged.
 */
export function withoutModuleColumns(csv: string): string {
  const [header] = csv.split('\n');
  const cut = header?.split(',').indexOf('-') ?? -1;
  if (cut < 0) return csv;
  return csv
    .split('\n')
    .map((line) => (line.length === 0 ? line : `${line.split(',').slice(0, cut).join(',')},`))
    .join('\n');
}

/** A proxy in front of HAProxy's stats listener that serves the CSV without module columns (for zdd.py --marathon-lb). */
export async function startLegacyStatsProxy(statsUrl: string): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((request, response) => {
    void (async () => {
      try {
        const upstream = await fetch(`${statsUrl}${request.url ?? '/'}`, { signal: AbortSignal.timeout(5000) });
        const body = await upstream.text();
        response.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'text/plain' });
        response.end(request.url?.includes(';csv') ? withoutModuleColumns(body) : body);
      } catch (error) {
        response.writeHead(502).end((error as Error).message);
      }
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
