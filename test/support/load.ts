// Steady HTTP traffic that counts what a user would see during a deploy: every GET is checked for a connection
// error, a timeout, a 5xx, another status, or a body that is not one of the versions expected right now. Imports only
// node: modules, so that scripts/ can load it (scripts/bench-zero-downtime.mjs).
//
// An own bounded loop rather than autocannon: autocannon counts statuses and errors but cannot check each body
// against a set of versions that changes during the run (old and new both fine mid-deploy, then only the new one), and
// it paces by connections rather than by a fixed request rate. Open-loop pacing: requests are due at a fixed rate from
// the start, whatever earlier ones take, so a stall shows as latency and failures instead of as fewer requests; at
// most `maxInFlight` are outstanding, and a due request that finds them all busy is counted as `skipped`, not hidden.
import http from 'node:http';

export interface LoadOptions {
  url: string;
  /** Requests per second (default 200). */
  rate?: number;
  /** Outstanding requests at most (default 64). */
  maxInFlight?: number;
  /** A request without a full answer after this long fails as a timeout (default 2000 ms). */
  timeoutMs?: number;
  /** The bodies (trimmed) that count as right; change them while running with `expect()`. */
  expected: Iterable<string>;
  /**
   * Reuse connections (default false: a new TCP connection per request). With keep-alive, a pooled connection that
   * HAProxy closes at a reload (the old process closes its idle connections) races the client's next request on it —
   * a reset every HTTP client has to retry, about the client's pool rather than about the deploy. A new connection
   * per request measures what a deploy changes: whether the proxy accepts it and has a server that answers right.
   */
  keepAlive?: boolean;
  /** How many failures to keep with their time and detail (default 50). */
  keepFailures?: number;
}

export type FailureKind = 'connection' | 'timeout' | 'status5xx' | 'otherStatus' | 'wrongBody';

export interface Failure {
  /** ms since start. */
  at: number;
  kind: FailureKind;
  detail: string;
}

export interface LoadCounts {
  /** Requests sent. */
  sent: number;
  /** Answered 200 with an expected body. */
  ok: number;
  /** Sum of `failedBy`. */
  failed: number;
  failedBy: Record<FailureKind, number>;
  /** Due but not sent, as `maxInFlight` were outstanding. */
  skipped: number;
  /** Right answers per body (version). */
  bodies: Record<string, number>;
  /** ms since start of the first right answer per body. */
  firstSeen: Record<string, number>;
  /** Latency of every answered request (any status), ms. */
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  durationMs: number;
  /** The first `keepFailures` failures. */
  failures: Failure[];
}

export interface RunningLoad {
  /** Replaces the set of right bodies from now on. */
  expect(bodies: Iterable<string>): void;
  /** The counts so far (the run goes on). */
  snapshot(): LoadCounts;
  /** Stops sending, waits for the outstanding requests, and returns the counts. */
  stop(): Promise<LoadCounts>;
}

const TICK_MS = 5;

export function startLoad(options: LoadOptions): RunningLoad {
  const rate = options.rate ?? 200;
  const maxInFlight = options.maxInFlight ?? 64;
  const timeoutMs = options.timeoutMs ?? 2000;
  const keepFailures = options.keepFailures ?? 50;
  const agent = options.keepAlive ? new http.Agent({ keepAlive: true, maxSockets: maxInFlight }) : undefined;
  let expected = new Set([...options.expected].map((body) => body.trim()));
  const started = performance.now();
  const latencies: number[] = [];
  const counts = {
    sent: 0,
    ok: 0,
    skipped: 0,
    failedBy: { connection: 0, timeout: 0, status5xx: 0, otherStatus: 0, wrongBody: 0 } as Record<FailureKind, number>,
    bodies: {} as Record<string, number>,
    firstSeen: {} as Record<string, number>,
    failures: [] as Failure[],
  };
  let due = 0;
  let inFlight = 0;
  let stopped = false;
  const outstanding = new Set<Promise<void>>();

  const fail = (kind: FailureKind, detail: string) => {
    counts.failedBy[kind] += 1;
    if (counts.failures.length < keepFailures) counts.failures.push({ at: Math.round(performance.now() - started), kind, detail });
  };

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      let settled = false;
      const settle = (record: () => void) => {
        if (settled) return;
        settled = true;
        record();
        resolve();
      };
      const request = http.get(options.url, { agent: agent ?? false, headers: agent ? {} : { connection: 'close' } }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('error', (error) => settle(() => fail('connection', `${error.message} while reading the answer`)));
        response.on('end', () =>
          settle(() => {
            latencies.push(performance.now() - sentAt);
            const status = response.statusCode ?? 0;
            const body = Buffer.concat(chunks).toString('utf8').trim();
            if (status >= 500) return fail('status5xx', `${status} ${body.slice(0, 120)}`);
            if (status !== 200) return fail('otherStatus', `${status} ${body.slice(0, 120)}`);
            if (!expected.has(body)) return fail('wrongBody', body.slice(0, 120));
            counts.ok += 1;
            counts.bodies[body] = (counts.bodies[body] ?? 0) + 1;
            counts.firstSeen[body] ??= Math.round(performance.now() - started);
          }),
        );
      });
      request.setTimeout(timeoutMs, () => {
        settle(() => fail('timeout', `no answer within ${timeoutMs} ms`));
        request.destroy();
      });
      request.on('error', (error: NodeJS.ErrnoException) => settle(() => fail('connection', error.code ?? error.message)));
    });

  const tick = () => {
    if (stopped) return;
    const shouldHaveSent = Math.floor(((performance.now() - started) * rate) / 1000);
    for (; due < shouldHaveSent; due++) {
      if (inFlight >= maxInFlight) {
        counts.skipped += 1;
        continue;
      }
      inFlight += 1;
      counts.sent += 1;
      const done = one().finally(() => {
        inFlight -= 1;
        outstanding.delete(done);
      });
      outstanding.add(done);
    }
    timer = setTimeout(tick, TICK_MS);
  };
  let timer = setTimeout(tick, 0);

  const snapshot = (): LoadCounts => {
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? 0 : round(sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0));
    const failed = Object.values(counts.failedBy).reduce((sum, n) => sum + n, 0);
    return {
      sent: counts.sent,
      ok: counts.ok,
      failed,
      failedBy: { ...counts.failedBy },
      skipped: counts.skipped,
      bodies: { ...counts.bodies },
      firstSeen: { ...counts.firstSeen },
      p50Ms: at(0.5),
      p99Ms: at(0.99),
      maxMs: round(sorted[sorted.length - 1] ?? 0),
      durationMs: Math.round(performance.now() - started),
      failures: [...counts.failures],
    };
  };

  return {
    expect(bodies) {
      expected = new Set([...bodies].map((body) => body.trim()));
    },
    snapshot,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await Promise.all([...outstanding]);
      agent?.destroy();
      return snapshot();
    },
  };
}

/** One line for a test's or a bench's log: sent, failed by kind, latency. */
export function describeLoad(counts: LoadCounts): string {
  const kinds = Object.entries(counts.failedBy)
    .filter(([, n]) => n > 0)
    .map(([kind, n]) => `${kind} ${n}`)
    .join(', ');
  const versions = Object.entries(counts.bodies)
    .map(([body, n]) => `${body} ${n}`)
    .join(', ');
  return `${counts.sent} sent in ${(counts.durationMs / 1000).toFixed(1)} s, ${counts.failed} failed${kinds ? ` (${kinds})` : ''}${counts.skipped ? `, ${counts.skipped} skipped` : ''}; p50 ${counts.p50Ms} ms, p99 ${counts.p99Ms} ms; answers: ${versions || 'none'}`;
}

function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}
