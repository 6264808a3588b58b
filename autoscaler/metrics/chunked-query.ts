import http from 'node:http';
import https from 'node:https';

/** Why a streamed query failed before InfluxDB's JSON could be read: the source turns it into a MetricsError. */
export class QueryTransportError extends Error {
  override readonly name = 'QueryTransportError';
  constructor(
    message: string,
    /** The HTTP status when InfluxDB answered with an error status; undefined for network errors and timeouts. */
    readonly status: number | undefined,
    readonly statusText: string,
    readonly body: string,
  ) {
    super(message);
  }
}

export interface ChunkedQueryRequest {
  /** InfluxDB's base URL without credentials, e.g. http://influxdb:8086 or https://host/prefix. */
  endpoint: string;
  database: string;
  statements: string[];
  /** Rows per chunk: what is held in memory at once. */
  chunkSize: number;
  username?: string;
  password?: string;
  timeoutMs: number;
  /** Aborting it ends the request at once (the promise rejects with a QueryTransportError). */
  signal?: AbortSignal;
}

const ERROR_BODY_LIMIT = 4096;

/**
 * POST /query with chunked=true: InfluxDB writes one JSON document per line as it goes, and `onChunk` gets each one
 * parsed as soon as its line is complete, so only one chunk's bytes and objects are alive at a time whatever the
 * size of the answer. One request, no retry (the daemon holds and tries again next cycle). Credentials go in an
 * Authorization header, never in the URL. The timeout covers the whole answer.
 */
export function chunkedQuery(request: ChunkedQueryRequest, onChunk: (chunk: unknown) => void): Promise<void> {
  const url = new URL(`${request.endpoint}/query`);
  url.search = new URLSearchParams({ db: request.database, epoch: 'ms', chunked: 'true', chunk_size: String(request.chunkSize) }).toString();
  const body = new URLSearchParams({ q: request.statements.join(';') }).toString();
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'content-length': String(Buffer.byteLength(body)),
    accept: 'application/json',
  };
  if (request.username !== undefined) {
    headers.authorization = `Basic ${Buffer.from(`${request.username}:${request.password ?? ''}`).toString('base64')}`;
  }
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise<void>((resolve, reject) => {
    let settled = false;
    const fail = (error: Error) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener('abort', aborted);
      outgoing.destroy();
      reject(error);
    };
    const timer = setTimeout(() => fail(new QueryTransportError(`request timed out after ${request.timeoutMs} ms`, undefined, '', '')), request.timeoutMs);
    const aborted = () => fail(new QueryTransportError('request aborted', undefined, '', ''));
    const outgoing = transport.request(url, { method: 'POST', headers, agent: false }, (response) => {
      const status = response.statusCode ?? 0;
      if (status < 200 || status >= 300) {
        let text = '';
        response.setEncoding('utf8');
        response.on('data', (piece: string) => {
          if (text.length < ERROR_BODY_LIMIT) text += piece;
        });
        response.on('end', () => fail(new QueryTransportError(`HTTP ${status}`, status, response.statusMessage ?? '', text.slice(0, ERROR_BODY_LIMIT))));
        response.on('error', fail);
        return;
      }
      const lines = new LineSplitter((line) => onChunk(JSON.parse(line)));
      response.on('data', (piece: Buffer) => {
        try {
          lines.push(piece);
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
        }
      });
      response.on('end', () => {
        try {
          lines.end();
        } catch (error) {
          fail(error instanceof Error ? error : new Error(String(error)));
          return;
        }
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', aborted);
        resolve();
      });
      response.on('aborted', () => fail(new QueryTransportError('the answer ended early (connection closed)', undefined, '', '')));
      response.on('error', fail);
    });
    outgoing.on('error', fail);
    if (request.signal?.aborted) aborted();
    request.signal?.addEventListener('abort', aborted, { once: true });
    outgoing.end(body);
  });
}

/**
 * Splits a byte stream at "\n" (never inside a UTF-8 sequence) and hands over each non-empty line as a string. The
 * pieces of an unfinished line are kept as they came and joined once, when its end arrives.
 */
class LineSplitter {
  private pieces: Buffer[] = [];

  constructor(private readonly onLine: (line: string) => void) {}

  push(piece: Buffer): void {
    let start = 0;
    for (let newline = piece.indexOf(10); newline >= 0; newline = piece.indexOf(10, start)) {
      this.pieces.push(piece.subarray(start, newline));
      this.flush();
      start = newline + 1;
    }
    if (start < piece.length) this.pieces.push(piece.subarray(start));
  }

  end(): void {
    this.flush();
  }

  private flush(): void {
    const pieces = this.pieces;
    this.pieces = [];
    const line = pieces.length === 1 ? (pieces[0] as Buffer).toString('utf8') : Buffer.concat(pieces).toString('utf8');
    if (line.trim().length > 0) this.onLine(line);
  }
}
