import { spawn, type ChildProcess } from 'node:child_process';

/** A server started under a supervising shell script (see influxdb.ts and marathon-lb.ts for the scripts). */
export interface Supervised {
  child: ChildProcess;
  /** The last characters the script and its server printed. */
  output(): string;
  exited: Promise<void>;
  hasExited(): boolean;
  /**
   * SIGTERM to the script, which stops its server; when it has not exited after `timeoutMs`, `whenStuck` ends what the
   * script started (by the pids it recorded) and the script gets SIGKILL.
   */
  stop(timeoutMs: number, whenStuck: () => Promise<void>): Promise<void>;
}

/** Runs `sh -c script name ...args`, keeping the tail of its output. */
export function superviseShell(script: string, name: string, args: readonly string[], options: { cwd?: string; env?: NodeJS.ProcessEnv; keepChars?: number } = {}): Supervised {
  const child = spawn('sh', ['-c', script, name, ...args], { cwd: options.cwd, env: options.env ?? process.env, stdio: ['ignore', 'pipe', 'pipe'] });
  const keepChars = options.keepChars ?? 4000;
  let output = '';
  const keepTail = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-keepChars);
  };
  child.stdout?.on('data', keepTail);
  child.stderr?.on('data', keepTail);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const hasExited = () => child.exitCode !== null || child.signalCode !== null;
  return {
    child,
    output: () => output,
    exited,
    hasExited,
    async stop(timeoutMs, whenStuck) {
      if (hasExited() || child.pid === undefined) return;
      process.kill(child.pid, 'SIGTERM');
      const stopped = await Promise.race([exited.then(() => true), new Promise<boolean>((resolve) => setTimeout(() => resolve(false), timeoutMs))]);
      if (stopped) return;
      await whenStuck();
      process.kill(child.pid, 'SIGKILL');
      await exited;
    },
  };
}

/**
 * The supervising script: $1 the temp dir, $2 the Node pid to outlive, then the server's command line. SIGTERM (stop())
 * stops the server and waits for it; a watchdog stops it when the Node process is gone (a crash, a killed worker, a
 * bench runner without hooks), and the temp dir then goes too. `afterExit` runs once the server is gone (e.g. to stop
 * what it started). Exits with the server's status, so an early failure shows at once. SIGPIPE is ignored: with Node
 * gone, the shell's own "Terminated" notice on the closed stderr would otherwise end it before it cleaned up.
 */
export function supervisorScript(pidFileName: string, afterExit = ''): string {
  return `
trap '' PIPE
dir=$1; parent=$2; shift 2
"$@" & child=$!
echo $child > "$dir/${pidFileName}"
( while kill -0 "$parent" 2>/dev/null; do sleep 1; done; kill -TERM $child 2>/dev/null ) & watchdog=$!
trap 'kill -TERM $child 2>/dev/null' TERM INT
wait $child; status=$?
if kill -0 $child 2>/dev/null; then wait $child; status=$?; fi
kill $watchdog 2>/dev/null
${afterExit}
kill -0 "$parent" 2>/dev/null || rm -rf "$dir"
exit $status
`;
}
