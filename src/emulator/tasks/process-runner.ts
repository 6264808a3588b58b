// Tasks as real processes on 127.0.0.1, as a Mesos agent with the command executor runs them: free host ports, the
// environment Marathon sets (environment.ts), a sandbox directory with the task's stdout and stderr, health checks
// that really probe the task (probe.ts), SIGTERM to the process group on kill and SIGKILL after the grace period.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { isJsonObject, type JsonObject } from '../definition.js';
import { killGracePeriodMsOf, type TaskRecord } from '../task-record.js';
import { hostPortRequests, taskCommand, taskEnvironment } from './environment.js';
import { allocatePorts } from './ports.js';
import { probe } from './probe.js';
import type { TaskExit, TaskReports, TaskRunner, TaskRunnerFactory } from './runner.js';

export interface ProcessRunnerOptions {
  /** Stands in for `docker run <image>` (through `sh -c`, with MARATHON_APP_DOCKER_IMAGE set). */
  imageCommand?: string;
  /** PATH given to tasks (default: the emulator's own). No other variable of the emulator's environment is passed. */
  path?: string;
}

const HOST = '127.0.0.1';
/** HealthCheck.DefaultFirstHealthCheckAfter: the first check comes after min(interval, 5 s). */
const FIRST_HEALTH_CHECK_AFTER_MS = 5000;

/**
 * Runs each task under a small shell in its own process group. $1 the emulator's pid, $2 the kill grace in seconds,
 * the rest the task's argv (dash's kill takes `-PGID`, not `-- -PGID`). A watchdog stops the group (SIGTERM, SIGKILL after the grace) once the emulator is gone,
 * however it died, so no task outlives it. The shell exits with the task's status.
 */
const SUPERVISOR = `
emulator=$1; grace=$2; shift 2
"$@" & child=$!
trap : TERM
( trap '' TERM; while kill -0 "$emulator" 2>/dev/null; do sleep 0.5; done
  kill -TERM -$$ 2>/dev/null; sleep "$grace"; kill -KILL -$$ 2>/dev/null ) & watchdog=$!
while :; do wait $child; status=$?; kill -0 $child 2>/dev/null || break; done
kill -0 "$emulator" 2>/dev/null || kill -KILL -$$ 2>/dev/null
kill -KILL $watchdog 2>/dev/null
exit $status
`;

interface LiveTask {
  task: TaskRecord;
  definition: JsonObject;
  env: Record<string, string>;
  sandbox: string;
  child: ChildProcess | null;
  killRequested: boolean;
  /** Reports about it are no longer wanted (the model was reset or closed). */
  abandoned: boolean;
  timers: Set<NodeJS.Timeout>;
  exited: Promise<void>;
  markExited: () => void;
}

export function processRunner(options: ProcessRunnerOptions = {}): TaskRunnerFactory {
  return (reports) => new ProcessRunner(options, reports);
}

class ProcessRunner implements TaskRunner {
  readonly kind = 'processes';
  private readonly live = new Map<string, LiveTask>();
  private readonly dying = new Set<LiveTask>();
  private readonly root = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-emulator-tasks-'));

  constructor(
    private readonly options: ProcessRunnerOptions,
    private readonly reports: TaskReports,
  ) {}

  launch(task: TaskRecord, definition: JsonObject): void {
    let markExited = () => {};
    const exited = new Promise<void>((resolve) => (markExited = resolve));
    const sandbox = path.join(this.root, task.id);
    const entry: LiveTask = { task, definition, env: {}, sandbox, child: null, killRequested: false, abandoned: false, timers: new Set(), exited, markExited };
    this.live.set(task.id, entry);
    void this.start(entry).catch((error: unknown) => {
      this.reports.staging(task, { host: HOST, ipAddress: HOST, ports: [] });
      this.finish(entry, { code: 127, signal: null }, `cannot start the task: ${(error as Error).message}\n`);
    });
  }

  adopt(task: TaskRecord, definition: JsonObject): void {
    this.launch(task, definition);
  }

  running(task: TaskRecord, definition: JsonObject): void {
    const entry = this.live.get(task.id);
    const checks = definition.healthChecks;
    const check = Array.isArray(checks) && isJsonObject(checks[0]) ? checks[0] : undefined;
    if (!entry || !check) return;
    const intervalMs = (typeof check.intervalSeconds === 'number' ? check.intervalSeconds : 60) * 1000;
    const tick = () => {
      if (entry.killRequested || entry.abandoned) return;
      this.schedule(entry, intervalMs, tick);
      void probe(check, { host: HOST, ports: task.ports, env: entry.env, cwd: entry.sandbox }).then((result) => {
        if (!entry.killRequested && !entry.abandoned) this.reports.probed(task, result);
      });
    };
    this.schedule(entry, Math.min(intervalMs, FIRST_HEALTH_CHECK_AFTER_MS), tick);
  }

  ready(): void {}

  kill(task: TaskRecord, gracePeriodMs: number): void {
    const entry = this.live.get(task.id);
    if (!entry || entry.killRequested) return;
    entry.killRequested = true;
    this.clearTimers(entry);
    // Not spawned yet: start() sees the request and reports the task gone without running it.
    if (entry.child) this.terminate(entry, gracePeriodMs);
  }

  abandonAll(): void {
    for (const entry of this.live.values()) {
      entry.abandoned = true;
      entry.killRequested = true;
      this.clearTimers(entry);
      if (entry.child) this.terminate(entry, 2000);
      else entry.markExited();
    }
    this.live.clear();
  }

  async close(): Promise<void> {
    this.abandonAll();
    await Promise.all([...this.dying].map((entry) => entry.exited));
    fs.rmSync(this.root, { recursive: true, force: true });
  }

  private async start(entry: LiveTask): Promise<void> {
    const { task, definition } = entry;
    const ports = await allocatePorts(
      hostPortRequests(definition).map((port) => port ?? 0),
      new Set([...this.live.values()].flatMap((other) => other.task.ports)),
    );
    if (entry.abandoned) return entry.markExited();
    this.reports.staging(task, { host: HOST, ipAddress: HOST, ports });
    if (entry.killRequested) return this.finish(entry, { code: null, signal: 'SIGTERM' });
    fs.mkdirSync(entry.sandbox, { recursive: true });
    entry.env = {
      PATH: this.options.path ?? process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      MESOS_SANDBOX: entry.sandbox,
      ...taskEnvironment(definition, { taskId: task.id, version: task.version, host: HOST, hostPorts: ports }),
    };
    const command = taskCommand(definition, this.options.imageCommand);
    if ('error' in command) return this.finish(entry, { code: 127, signal: null }, `${command.error}\n`);
    const stdout = fs.openSync(path.join(entry.sandbox, 'stdout'), 'a');
    const stderr = fs.openSync(path.join(entry.sandbox, 'stderr'), 'a');
    const graceSeconds = String(Math.max(1, Math.ceil(killGracePeriodMsOf(definition) / 1000)));
    const child = spawn('sh', ['-c', SUPERVISOR, 'baton-task', String(process.pid), graceSeconds, ...command.argv], {
      cwd: entry.sandbox,
      env: entry.env,
      detached: true,
      stdio: ['ignore', stdout, stderr],
    });
    fs.closeSync(stdout);
    fs.closeSync(stderr);
    entry.child = child;
    this.dying.add(entry);
    child.once('error', (error) => this.finish(entry, { code: 127, signal: null }, `${error.message}\n`));
    child.once('spawn', () => {
      if (!entry.abandoned && !entry.killRequested) this.reports.running(task);
    });
    child.once('exit', (code, signal) => {
      // Whatever the task left behind in its group goes with it, as its container would.
      signalGroup(child, 'SIGKILL');
      this.finish(entry, signalFromStatus(code, signal));
    });
  }

  private terminate(entry: LiveTask, gracePeriodMs: number): void {
    const child = entry.child;
    if (!child) return;
    signalGroup(child, 'SIGTERM');
    const escalate = setTimeout(() => signalGroup(child, 'SIGKILL'), gracePeriodMs);
    escalate.unref();
    void entry.exited.then(() => clearTimeout(escalate));
  }

  private finish(entry: LiveTask, exit: TaskExit, note?: string): void {
    if (note) {
      fs.mkdirSync(entry.sandbox, { recursive: true });
      fs.appendFileSync(path.join(entry.sandbox, 'stderr'), note);
    }
    this.clearTimers(entry);
    this.dying.delete(entry);
    entry.markExited();
    if (this.live.get(entry.task.id) === entry) this.live.delete(entry.task.id);
    if (!entry.abandoned) this.reports.exited(entry.task, exit);
  }

  private schedule(entry: LiveTask, ms: number, run: () => void): void {
    const timer = setTimeout(() => {
      entry.timers.delete(timer);
      run();
    }, ms);
    timer.unref();
    entry.timers.add(timer);
  }

  private clearTimers(entry: LiveTask): void {
    for (const timer of entry.timers) clearTimeout(timer);
    entry.timers.clear();
  }
}

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // the group is gone already
  }
}

/** The supervising shell reports a task killed by signal N as status 128+N, as shells do. */
function signalFromStatus(code: number | null, signal: NodeJS.Signals | null): TaskExit {
  if (code !== null && code > 128 && code < 160) {
    const name = Object.entries(os.constants.signals).find(([, number]) => number === code - 128)?.[0];
    if (name) return { code: null, signal: name as NodeJS.Signals };
  }
  return { code, signal };
}
