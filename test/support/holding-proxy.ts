import http from 'node:http';
import type net from 'node:net';
import { pipeThrough } from './pipe-through.js';

/**
 * A pass-through HTTP proxy in front of a real server (the emulator) that can hold reads: after `hold()`, GET requests other
 * than the event stream wait until `release()` (then they are forwarded) or `close()` (then they fail). It pins a CLI inside a
 * Marathon read, so a test can act in that window.
 */
export async function holdingProxy(
  target: string,
): Promise<{ url: string; hold(): Promise<void>; holdAfterNextWrite(): Promise<void>; release(): void; close(): Promise<void> }> {
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  let holding = false;
  let heldOne: (() => void) | undefined;
  let held: (() => void)[] = [];
  let holdAfterWrite = false;
  const server = http.createServer((request, response) => {
    if (holding && request.method === 'GET' && !request.url?.startsWith('/v2/events')) {
      held.push(() => forward(request, response));
      heldOne?.();
      return;
    }
    if (holdAfterWrite && request.method !== 'GET') {
      holdAfterWrite = false;
      holding = true;
    }
    forward(request, response);
  });
  const forward = (request: http.IncomingMessage, response: http.ServerResponse) => pipeThrough(upstream, request, response);
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
    /** Holds every read once a change (a non-GET) has passed; resolves once a read is held. */
    holdAfterNextWrite: () =>
      new Promise<void>((resolve) => {
        holdAfterWrite = true;
        heldOne = resolve;
      }),
    /** Stops holding and forwards the reads held so far. */
    release: () => {
      holding = false;
      heldOne = undefined;
      const waiting = held;
      held = [];
      for (const go of waiting) go();
    },
    close: () => {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
