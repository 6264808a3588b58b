import http from 'node:http';
import type net from 'node:net';

/**
 * A pass-through HTTP proxy in front of a real server (the emulator) that can hold reads: after `hold()`, GET requests other
 * than the event stream wait until `close()`. It pins a CLI inside a Marathon read, so a test can act in that window.
 */
export async function holdingProxy(target: string): Promise<{ url: string; hold(): Promise<void>; close(): Promise<void> }> {
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  let holding = false;
  let heldOne: (() => void) | undefined;
  const server = http.createServer((request, response) => {
    if (holding && request.method === 'GET' && !request.url?.startsWith('/v2/events')) {
      heldOne?.();
      return;
    }
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        response.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(response);
      },
    );
    forwarded.on('error', () => response.destroy());
    request.pipe(forwarded);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    /** Holds every read from now on; resolves once one is held. */
    hold: () =>
      new Promise<void>((resolve) => {
        holding = true;
        heldOne = resolve;
      }),
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
