import http from 'node:http';

/** Forwards one request to `upstream` and pipes the answer back as it comes (long-lived streams included). */
export function pipeThrough(upstream: URL, request: http.IncomingMessage, response: http.ServerResponse): void {
  const forwarded = http.request(
    { host: upstream.hostname, port: upstream.port, method: request.method, path: request.url, headers: request.headers },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  forwarded.on('error', () => response.destroy());
  if (request.readableEnded) forwarded.end();
  else request.pipe(forwarded);
}
