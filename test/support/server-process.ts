// What the real servers the tests start (InfluxDB, ZooKeeper) have in common: a free loopback port, a retry when
// another process took it first, and a stop by PID that does not wait for ever.
import { spawn, type ChildProcess } from 'node:child_process';
import net from 'node:net';

/** A free port can be taken by someone else between probing and binding: retries `launch` (with fresh ports). */
export async function launchWithRetries<T>(launch: () => Promise<T>, attempts = 3): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await launch();
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

/**
 * SIGTERM to the supervisor shell; after `timeoutMs` SIGKILL to the server (its pid as the supervisor wrote it) and to
 * the shell.
 */
export async function stopSupervised(child: ChildProcess, exited: Promise<void>, serverPid: () => Promise<number>, timeoutMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  process.kill(child.pid, 'SIGTERM');
  const stopped = await Promise.race([exited.then(() => true), delay(timeoutMs).then(() => false)]);
  if (!stopped) {
    const pid = await serverPid();
    if (pid > 0) process.kill(pid, 'SIGKILL');
    process.kill(child.pid, 'SIGKILL');
    await exited;
  }
}

export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export interface SupervisedServer {
  child: ChildProcess;
  exited: Promise<void>;
  /** The last 4,000 characters the server printed, for error messages. */
  output(): string;
}

/**
 * Runs `script` (a shell supervisor: $1 the server's config, $2 this Node process's pid, $3 the temp dir) so the server
 * also stops, and its temp dir goes, when a runner ends without calling stop (a crash, a killed worker, a bench runner).
 */
export function spawnSupervisor(script: string, name: string, configPath: string, dir: string): SupervisedServer {
  const child = spawn('sh', ['-c', script, name, configPath, String(process.pid), dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return { child, exited, output: () => output };
}

/**
 * The supervisor shell for `start` (a command line that starts the server in the background, reading its config from
 * "$1"): it writes the server's pid to "$3/<pidFile>", SIGTERM stops the server and waits for it, and a watchdog stops
 * it (resumed first, in case a test paused it) once the Node process "$2" is gone, then removes the temp dir "$3".
 * Exits with the server's status, so an early failure shows at once.
 */
export function supervisorScript(start: string, pidFile: string): string {
  return `
${start} & child=$!
echo $child > "$3/${pidFile}"
( while kill -0 "$2" 2>/dev/null; do sleep 1; done; kill -CONT $child 2>/dev/null; kill -TERM $child 2>/dev/null ) & watchdog=$!
trap 'kill -CONT $child 2>/dev/null; kill -TERM $child 2>/dev/null' TERM INT
wait $child; status=$?
if kill -0 $child 2>/dev/null; then wait $child; status=$?; fi
kill $watchdog 2>/dev/null
kill -0 "$2" 2>/dev/null || rm -rf "$3"
exit $status
`;
}
