// A Marathon that is not the leader, as LeaderProxyFilter and AsyncUrlConnectionRequestForwarder make it behave:
// every request (before authentication: the filter runs first) goes to the leader — /v2/events* by a 302 redirect,
// everything else proxied — except the emulator's own /_emulator control routes.
import http from 'node:http';
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface LeaderProxy {
  /** The leader; only its scheme, host and port are used (LeaderProxyFilter builds scheme://host:port + URI + query). */
  leader: URL;
  /** host:port of this (non-leading) emulator, for X-Marathon-Via. */
  self(): string;
}

const VIA = 'x-marathon-via';
const REFUSED = 'Connection to leader refused.';
const LOOP = 'Detected proxying loop.';
/** Hop-by-hop headers neither side passes on (the forwarder drops connection and host; Node frames the body itself). */
const HOP_BY_HOP = new Set(['connection', 'host', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** Jetty 9.4's ErrorHandler page, as `response.sendError(status, reason)` renders it. */
export function jettyErrorPage(status: number, path: string, reason: string): string {
  return `<html>
<head>
<meta http-equiv="Content-Type" content="text/html;charset=ISO-8859-1"/>
<title>Error ${status} ${reason}</title>
</head>
<body><h2>HTTP ERROR ${status}</h2>
<p>Problem accessing ${path}. Reason:
<pre>    ${reason}</pre></p><hr><a href="http://eclipse.org/jetty">Powered by Jetty:// 9.4.z-SNAPSHOT</a><hr/>

</body>
</html>
`;
}

function sendError(response: ServerResponse, status: number, path: string, reason: string): number {
  response.writeHead(status, { 'Content-Type': 'text/html;charset=iso-8859-1', 'Cache-Control': 'must-revalidate,no-cache,no-store' });
  response.end(jettyErrorPage(status, path, reason));
  return status;
}

/** Answers the request as a non-leader does; resolves with the status sent (for the request log). */
export function forwardToLeader(proxy: LeaderProxy, request: IncomingMessage, response: ServerResponse, url: URL): Promise<number> {
  const target = new URL(`${url.pathname}${url.search}`, `${proxy.leader.protocol}//${proxy.leader.host}`);
  if (url.pathname.startsWith('/v2/events')) {
    // HttpServletResponse.sendRedirect: 302, an absolute Location, an empty body.
    response.writeHead(302, { Location: target.toString(), 'Content-Length': '0' }).end();
    return Promise.resolve(302);
  }
  const via = `1.1 ${proxy.self()}`;
  const incomingVia = request.headersDistinct[VIA] ?? [];
  if (incomingVia.includes(via)) return Promise.resolve(sendError(response, 502, url.pathname, LOOP));

  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, values] of Object.entries(request.headersDistinct)) {
    if (values && !HOP_BY_HOP.has(name) && name !== VIA && name !== 'x-forwarded-for') headers[name] = values;
  }
  headers[VIA] = [...incomingVia, via];
  headers['x-forwarded-for'] = [request.headers['x-forwarded-for'], request.socket.remoteAddress].filter(Boolean).join(',');

  return new Promise((resolve) => {
    const client = target.protocol === 'https:' ? https : http;
    const outgoing = client.request(target, { method: request.method, headers }, (answer) => {
      const copied: http.OutgoingHttpHeaders = {};
      for (const [name, values] of Object.entries(answer.headersDistinct)) {
        if (values && !HOP_BY_HOP.has(name)) copied[name] = values;
      }
      copied[VIA] = via;
      response.writeHead(answer.statusCode ?? 502, copied);
      answer.pipe(response);
      answer.on('end', () => resolve(answer.statusCode ?? 502));
      answer.on('error', () => {
        response.destroy();
        resolve(answer.statusCode ?? 502);
      });
    });
    outgoing.on('error', (error: NodeJS.ErrnoException) => {
      if (response.headersSent) {
        response.destroy();
        resolve(502);
        return;
      }
      // Akka reports a refused and a silent TCP connection alike (StreamTcpException): 502; anything else is 500.
      const tcp = ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(error.code ?? '');
      resolve(tcp ? sendError(response, 502, url.pathname, REFUSED) : sendError(response, 500, url.pathname, 'Server Error'));
    });
    request.pipe(outgoing);
  });
}
