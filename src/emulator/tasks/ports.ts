// Host ports for tasks run as processes: free 127.0.0.1 ports, as a Mesos agent offers ports nobody uses.
import net from 'node:net';

/**
 * Resolves each request to a port: 0 becomes a free port (all bound at once, so they differ), a fixed port stays.
 * `taken` are ports this emulator already gave to live tasks; the kernel may hand one out again once the task's
 * process has not bound it yet, so those are drawn again.
 */
export async function allocatePorts(requests: number[], taken: ReadonlySet<number>): Promise<number[]> {
  const dynamic = requests.filter((port) => port === 0).length;
  const free: number[] = [];
  const held: net.Server[] = [];
  try {
    for (let attempts = 0; free.length < dynamic && attempts < dynamic + 50; attempts++) {
      const server = await listenAnywhere();
      held.push(server);
      const port = (server.address() as net.AddressInfo).port;
      if (!taken.has(port)) free.push(port);
    }
  } finally {
    await Promise.all(held.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
  }
  if (free.length < dynamic) throw new Error(`no ${dynamic} free ports on 127.0.0.1`);
  return requests.map((port) => (port === 0 ? (free.shift() as number) : port));
}

function listenAnywhere(): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve(server));
  });
}
