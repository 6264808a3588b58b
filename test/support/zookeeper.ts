import type { ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { ensureInstalled } from './debian.js';
import { freePort, launchWithRetries, spawnSupervisor, stopSupervised, supervisorScript } from './server-process.js';

/** A throwaway standalone ZooKeeper (Debian's `zookeeper` package) on a loopback port, its data in a temp dir. */
export interface ZooKeeperServer {
  /** The connect string: `127.0.0.1:<port>`. */
  connect: string;
  port: number;
  /** SIGSTOP: the server stops answering while its connections stay open, as a hung or overloaded server does. */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** Debian's ZooKeeper: the server jar (its manifest names the rest of the classpath) and a Java runtime. */
const ZOOKEEPER_JAR = '/usr/share/java/zookeeper.jar';
const SLF4J_SIMPLE_JAR = '/usr/share/java/slf4j-simple.jar';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;

export function ensureZooKeeperInstalled(): Promise<void> {
  return ensureInstalled(`test -f ${ZOOKEEPER_JAR} && command -v java`, ['zookeeper']);
}

export interface ZooKeeperOptions {
  /** ZooKeeper's time unit (default 100 ms); sessions may last from 2 to 200 ticks. */
  tickTimeMs?: number;
}

export async function startZooKeeper(options: ZooKeeperOptions = {}): Promise<ZooKeeperServer> {
  await ensureZooKeeperInstalled();
  return launchWithRetries(() => launch(options));
}

async function launch(options: ZooKeeperOptions): Promise<ZooKeeperServer> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'baton-zookeeper-'));
  const port = await freePort();
  const tick = options.tickTimeMs ?? 100;
  const configPath = path.join(dir, 'zoo.cfg');
  await writeFile(
    configPath,
    [
      `tickTime=${tick}`,
      `dataDir=${path.join(dir, 'data')}`,
      `clientPort=${port}`,
      'clientPortAddress=127.0.0.1',
      // The admin server would bind 8080 on every interface.
      'admin.enableServer=false',
      `minSessionTimeout=${2 * tick}`,
      `maxSessionTimeout=${200 * tick}`,
      '4lw.commands.whitelist=ruok',
      'maxClientCnxns=100',
      '',
    ].join('\n'),
  );
  const { child, exited, output: printed } = spawnSupervisor(SUPERVISOR, 'zookeeper-supervisor', configPath, dir);
  const serverPid = async () => Number(await readFile(path.join(dir, 'zookeeper.pid'), 'utf8').catch(() => '0'));
  let paused = false;
  const signal = async (name: NodeJS.Signals) => {
    const pid = await serverPid();
    if (pid > 0) process.kill(pid, name);
  };
  const stop = async () => {
    if (paused) await signal('SIGCONT').catch(() => undefined);
    await stopSupervised(child, exited, serverPid, STOP_TIMEOUT_MS);
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(port, child, printed);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    connect: `127.0.0.1:${port}`,
    port,
    pause: async () => {
      await signal('SIGSTOP');
      paused = true;
    },
    resume: async () => {
      await signal('SIGCONT');
      paused = false;
    },
    stop,
  };
}

/** The JVM of Debian's ZooKeeper, its config in $1 (see supervisorScript). */
const SUPERVISOR = supervisorScript(
  'java -Xmx128m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Dorg.slf4j.simpleLogger.defaultLogLevel=warn ' +
    `-cp "${ZOOKEEPER_JAR}:${SLF4J_SIMPLE_JAR}" org.apache.zookeeper.server.ZooKeeperServerMain "$1"`,
  'zookeeper.pid',
);

/** ZooKeeper answers `ruok` with `imok` once it serves clients. */
async function waitUntilReady(port: number, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`ZooKeeper exited before it was ready (code ${child.exitCode}, signal ${child.signalCode}):\n${output()}`);
    }
    if ((await fourLetterWord(port, 'ruok').catch(() => '')) === 'imok') return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`ZooKeeper did not answer ruok on port ${port} within ${READY_TIMEOUT_MS} ms:\n${output()}`);
}

function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    socket.setTimeout(1000, () => socket.destroy(new Error('timeout')));
    socket.on('connect', () => socket.write(word));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
  });
}
