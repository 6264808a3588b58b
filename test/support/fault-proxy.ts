import http from 'node:http';
import type net from 'node:net';
import { pipeThrough } from './pipe-through.js';

/** What the proxy does to one request that a rule matches. */
export type Fault =
  /** The request reaches Marathon, its answer never reaches the client: the connection is reset. */
  | { kind: 'lose-answer' }
  /** The connection is reset before the request is forwarded: Marathon never hears of it. */
  | { kind: 'reset' }
  /** The request reaches Marathon; the client gets this status and body instead of Marathon's answer. */
  | { kind: 'replace-answer'; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  /** Marathon is not asked; the client gets this answer (a gateway's 503, a 401 from a proxy, a redirect). */
  | { kind: 'answer'; status: number; body: string; contentType?: string; headers?: Record<string, string> }
  /** Forwarded; the client gets Marathon's status and the first half of its body, then the connection ends. */
  | { kind: 'truncate' }
  /** Forwarded after `ms`. */
  | { kind: 'delay'; ms: number };

export interface FaultRule {
  method?: string;
  path: RegExp;
  fault: Fault;
  /** How many matching requests get the fault (default 1); then the rule is spent. */
  times?: number;
}

export interface FaultProxy {
  url: string;
  /** Adds a rule; rules are tried in the order added. */
  inject(rule: FaultRule): void;
  /** Requests a rule was applied to, as "METHOD path". */
  readonly faulted: string[];
  close(): Promise<void>;
}

/**
 * A proxy in front of a real or emulated server that injects the faults a network and a gateway cause: lost answers,
 * resets, replaced or truncated bodies, slow answers. Everything else passes through unchanged.
 */
export async function faultProxy(target: string): Promise<FaultProxy> {
  const upstream = new URL(target);
  const sockets = new Set<net.Socket>();
  const rules: (FaultRule & { left: number })[] = [];
  const faulted: string[] = [];
  const take = (request: http.IncomingMessage): Fault | undefined => {
    const rule = rules.find((r) => r.left > 0 && (!r.method || r.method === request.method) && r.path.test(request.url ?? ''));
    if (!rule) return undefined;
    rule.left -= 1;
    faulted.push(`${request.method} ${request.url}`);
    return rule.fault;
  };
  const forward = (request: http.IncomingMessage, body: Buffer, onAnswer: (answer: http.IncomingMessage, body: Buffer) => void, onError: () => void) => {
    const forwarded = http.request(
      { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
      (answer) => {
        const chunks: Buffer[] = [];
        answer.on('data', (c: Buffer) => chunks.push(c));
        answer.on('end', () => onAnswer(answer, Buffer.concat(chunks)));
        answer.on('error', onError);
      },
    );
    forwarded.on('error', onError);
    forwarded.end(body);
  };
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (c: Buffer) => chunks.push(c));
    request.on('end', () => {
      const body = Buffer.concat(chunks);
      const fault = take(request);
      const fail = () => response.destroy();
      if (!fault) {
        if (request.url?.startsWith('/v2/events')) return stream(request, response);
        return forward(request, body, (answer, data) => {
          response.writeHead(answer.statusCode ?? 502, answer.headers);
          response.end(data);
        }, fail);
      }
      switch (fault.kind) {
        case 'reset':
          return response.socket?.destroy();
        case 'lose-answer':
          return forward(request, body, () => response.socket?.destroy(), fail);
        case 'answer':
          response.writeHead(fault.status, { 'content-type': fault.contentType ?? 'application/json', ...fault.headers });
          return response.end(fault.body);
        case 'replace-answer':
          return forward(request, body, () => {
            response.writeHead(fault.status, { 'content-type': fault.contentType ?? 'application/json', ...fault.headers });
            response.end(fault.body);
          }, fail);
        case 'truncate':
          return forward(request, body, (answer, data) => {
            const headers = { ...answer.headers, 'content-length': String(data.length) };
            response.writeHead(answer.statusCode ?? 502, headers);
            response.write(data.subarray(0, Math.floor(data.length / 2)));
            setTimeout(() => response.socket?.destroy(), 20);
          }, fail);
        case 'delay':
          return void setTimeout(
            () =>
              forward(request, body, (answer, data) => {
                response.writeHead(answer.statusCode ?? 502, answer.headers);
                response.end(data);
              }, fail),
            fault.ms,
          );
      }
    });
  });
  // The event stream is long-lived: piped through as it comes.
  const stream = (request: http.IncomingMessage, response: http.ServerResponse) => pipeThrough(upstream, request, response);
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    inject: (rule) => rules.push({ ...rule, left: rule.times ?? 1 }),
    faulted,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
