// Marathon's event bus as seen through GET /v2/events: server-sent events, filtered per stream by event_type,
// plus the emulator's controls (drop every stream, mute to simulate a stall) and a log of every event emitted.
// Framing as Jetty 9.4's EventSourceServlet writes it: `Connection: close` and no chunking (the body runs until the
// connection closes), every line ending in CRLF, and a heartbeat of a bare CRLF every 10 s per stream.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { pushBounded } from './bounded.js';
import type { JsonObject } from './definition.js';

export interface LoggedEvent {
  /** Wall-clock time of emission, epoch ms. */
  emittedAt: number;
  eventType: string;
  data: JsonObject;
}

interface Stream {
  response: ServerResponse;
  eventTypes: Set<string>;
  heartbeat: NodeJS.Timeout;
}

const CRLF = '\r\n';

export class EventHub {
  private readonly streams = new Set<Stream>();
  private readonly emitted: LoggedEvent[] = [];
  private muted = false;

  /** `heartbeatMs`: EventSourceServlet's heartBeatPeriod (10 s), scheduled per stream from when it opens. */
  constructor(private readonly heartbeatMs: number) {}

  publish(eventType: string, data: JsonObject): void {
    this.record(eventType, data);
    if (this.muted) return;
    for (const stream of this.streams) this.send(stream, eventType, data);
  }

  /** Takes over the response as an event stream; `event_stream_attached` goes to this stream (if its filter allows). */
  attach(request: IncomingMessage, response: ServerResponse, eventTypes: string[]): void {
    // Neither Content-Length nor Transfer-Encoding: Node then writes the body raw and ends it by closing the connection.
    response.removeHeader('Transfer-Encoding');
    response.removeHeader('Content-Length');
    response.writeHead(200, {
      'Content-Type': 'text/event-stream;charset=utf-8',
      'Cache-Control': 'no-cache, no-store, must-revalidate',
      Pragma: 'no-cache',
      Expires: '0',
      Connection: 'close',
    });
    response.flushHeaders();
    // EventSourceEmitter.run writes '\r', flushes, then '\n': a reader may get the two bytes in separate chunks.
    const heartbeat = setInterval(() => {
      if (this.muted) return;
      response.write('\r');
      response.write('\n');
    }, this.heartbeatMs);
    heartbeat.unref();
    const stream: Stream = { response, eventTypes: new Set(eventTypes), heartbeat };
    const remoteAddress = request.socket.remoteAddress ?? '127.0.0.1';
    const attached = { remoteAddress, eventType: 'event_stream_attached', timestamp: new Date().toISOString() };
    this.record('event_stream_attached', attached);
    if (!this.muted) this.send(stream, 'event_stream_attached', attached);
    this.streams.add(stream);
    const detach = () => {
      clearInterval(heartbeat);
      if (!this.streams.delete(stream)) return;
      this.publish('event_stream_detached', {
        remoteAddress,
        eventType: 'event_stream_detached',
        timestamp: new Date().toISOString(),
      });
    };
    request.on('close', detach);
    response.on('close', detach);
  }

  /** Destroys every open stream without a proper end, like a proxy or leader failover would. */
  drop(): number {
    const count = this.streams.size;
    for (const stream of [...this.streams]) {
      this.streams.delete(stream);
      clearInterval(stream.heartbeat);
      stream.response.socket?.destroy();
    }
    return count;
  }

  setMuted(muted: boolean): void {
    this.muted = muted;
  }

  get openStreams(): number {
    return this.streams.size;
  }

  log(): LoggedEvent[] {
    return [...this.emitted];
  }

  clearLog(): void {
    this.emitted.length = 0;
  }

  close(): void {
    for (const stream of [...this.streams]) {
      this.streams.delete(stream);
      clearInterval(stream.heartbeat);
      stream.response.end();
    }
  }

  /** Bounded, so a crash loop left running for hours does not grow the log without end. */
  private record(eventType: string, data: JsonObject): void {
    pushBounded(this.emitted, { emittedAt: Date.now(), eventType, data });
  }

  private send(stream: Stream, eventType: string, data: JsonObject): void {
    if (stream.eventTypes.size > 0 && !stream.eventTypes.has(eventType)) return;
    // EventSourceServlet.data() writes one `data: ` line per line of the payload.
    const lines = JSON.stringify(data).split(/\r\n|\r|\n/).map((line) => `data: ${line}${CRLF}`);
    stream.response.write(`event: ${eventType}${CRLF}${lines.join('')}${CRLF}`);
  }
}
