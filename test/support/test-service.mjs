#!/usr/bin/env node
// A tiny HTTP service for tests of the emulator's real task processes (plain Node, no dependencies).
// Its version is the image tag (after the last ':' of MARATHON_APP_DOCKER_IMAGE), else TEST_SERVICE_VERSION; words in
// the version choose a failure mode, longest first, as the emulator's simulated image tags do:
//   crash-after-healthy  healthy, then exits 1 CRASH_AFTER_MS (default 1500) after its first healthy /health answer
//   slow-start           listens only after SLOW_START_MS (default 2000)
//   unhealthy            serves / but /health answers 500
//   crash                exits 1 CRASH_MS (default 300) after it started, never listening
// Routes: GET / → "<version>\n"; GET /health → 200 "ok" (500 when unhealthy, 503 while draining); GET /env → JSON
// {pid, env} (this process's id and environment, for tests of what the agent set).
// On SIGTERM it keeps serving for DRAIN_MS (default 500) before it stops accepting connections, then exits 0: a load
// balancer learns of the kill (TASK_KILLING, or a failing /health) a moment after the signal, and requests it still
// sends in that moment must be answered for a deploy to have zero downtime.
import http from 'node:http';

const env = process.env;
const image = env.MARATHON_APP_DOCKER_IMAGE ?? '';
const lastSegment = image.slice(image.lastIndexOf('/') + 1);
const version = lastSegment.includes(':') ? lastSegment.slice(lastSegment.lastIndexOf(':') + 1) : (env.TEST_SERVICE_VERSION ?? 'unversioned');
const mode = ['crash-after-healthy', 'slow-start', 'unhealthy', 'crash'].find((word) => version.includes(word)) ?? 'normal';
const port = Number(env.PORT0 ?? env.PORT ?? 8080);
const ms = (name, fallback) => (env[name] !== undefined && /^\d+$/.test(env[name]) ? Number(env[name]) : fallback);

let draining = false;
let crashTimer;

if (mode === 'crash') {
  setTimeout(() => {
    process.stderr.write(`test-service ${version}: crashing as its version says\n`);
    process.exit(1);
  }, ms('CRASH_MS', 300));
} else {
  const server = http.createServer((request, response) => {
    if (draining) response.setHeader('Connection', 'close');
    const path = (request.url ?? '/').split('?')[0];
    if (path === '/health') {
      const status = draining ? 503 : mode === 'unhealthy' ? 500 : 200;
      if (status === 200 && mode === 'crash-after-healthy' && !crashTimer) {
        crashTimer = setTimeout(() => {
          process.stderr.write(`test-service ${version}: crashing after it was healthy\n`);
          process.exit(1);
        }, ms('CRASH_AFTER_MS', 1500));
      }
      response.writeHead(status, { 'Content-Type': 'text/plain' }).end(status === 200 ? 'ok\n' : 'not ok\n');
    } else if (path === '/env') {
      response.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ pid: process.pid, env }));
    } else if (path === '/') {
      response.writeHead(200, { 'Content-Type': 'text/plain' }).end(`${version}\n`);
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found\n');
    }
  });
  server.keepAliveTimeout = 2000;
  setTimeout(() => server.listen(port, '127.0.0.1'), mode === 'slow-start' ? ms('SLOW_START_MS', 2000) : 0);

  process.on('SIGTERM', () => {
    if (draining) return;
    draining = true;
    setTimeout(() => {
      server.close(() => process.exit(0));
      server.closeIdleConnections();
      // Connections still busy after a further drain are cut: the process must end within the kill grace period.
      setTimeout(() => process.exit(0), ms('DRAIN_MS', 500)).unref();
    }, ms('DRAIN_MS', 500));
  });
}
