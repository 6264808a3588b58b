/** One message of a text/event-stream (https://html.spec.whatwg.org/multipage/server-sent-events.html). */
export interface ServerSentEvent {
  event?: string;
  data: string;
  id?: string;
}

/** Parses a byte stream into server-sent events; tolerant of CRLF, comments and chunks split anywhere. */
export async function* parseServerSentEvents(chunks: AsyncIterable<Buffer | string>): AsyncGenerator<ServerSentEvent> {
  let buffer = '';
  let event: string | undefined;
  let id: string | undefined;
  let data: string[] = [];
  const decoder = new TextDecoder();

  /** Applies one line; returns the event a blank line completes. */
  const takeLine = (line: string): ServerSentEvent | undefined => {
    if (line === '') {
      const complete = data.length > 0 || event !== undefined ? { event, data: data.join('\n'), id } : undefined;
      event = undefined;
      data = [];
      return complete;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') event = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') id = value;
    return undefined;
  };

  for await (const chunk of chunks) {
    buffer += typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    let newline: number;
    while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
      // A CR at the very end may be the first half of a CRLF split between chunks: wait for the next chunk.
      if (buffer[newline] === '\r' && newline === buffer.length - 1) break;
      const line = buffer.slice(0, newline);
      const width = buffer.startsWith('\r\n', newline) ? 2 : 1;
      buffer = buffer.slice(newline + width);
      const complete = takeLine(line);
      if (complete) yield complete;
    }
  }
  if (buffer.endsWith('\r')) {
    const complete = takeLine(buffer.slice(0, -1));
    if (complete) yield complete;
  }
}
