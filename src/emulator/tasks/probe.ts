// One health check of a task, as Marathon's HealthCheckWorker (HTTP/HTTPS/TCP) or a Mesos agent (MESOS_*, COMMAND)
// performs it: a GET answered 200-399 is healthy, a TCP connection that opens is healthy, a command that exits 0 is.
import { spawn } from 'node:child_process';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import { isJsonObject, type JsonObject } from '../definition.js';
import type { ProbeResult } from './runner.js';

export interface ProbeTarget {
  host: string;
  ports: number[];
  /** For COMMAND checks: the task's environment and sandbox. */
  env: Record<string, string>;
  cwd: string;
}

export function probe(check: JsonObject, target: ProbeTarget): Promise<ProbeResult> {
  const protocol = typeof check.protocol === 'string' ? check.protocol : 'HTTP';
  const timeoutMs = (typeof check.timeoutSeconds === 'number' ? check.timeoutSeconds : 20) * 1000;
  if (protocol === 'COMMAND') return commandProbe(check, target, timeoutMs);
  const port = typeof check.port === 'number' ? check.port : target.ports[typeof check.portIndex === 'number' ? check.portIndex : 0];
  if (port === undefined) return Promise.resolve({ kind: 'unhealthy', cause: "Health check failed: unable to get the task's effectivePort" });
  if (protocol === 'TCP' || protocol === 'MESOS_TCP') return tcpProbe(target.host, port, timeoutMs);
  const path = typeof check.path === 'string' ? check.path : '';
  const secure = protocol === 'HTTPS' || protocol === 'MESOS_HTTPS';
  return httpProbe(secure, target.host, port, path.startsWith('/') ? path : `/${path}`, timeoutMs, check.ignoreHttp1xx === true);
}

function httpProbe(secure: boolean, host: string, port: number, path: string, timeoutMs: number, ignore1xx: boolean): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const get = secure ? https.get : http.get;
    const request = get({ host, port, path, timeout: timeoutMs, rejectUnauthorized: false, agent: false }, (response) => {
      response.resume();
      const status = response.statusCode ?? 0;
      if (status >= 200 && status < 400) resolve({ kind: 'healthy' });
      else if (ignore1xx && status >= 100 && status < 200) resolve({ kind: 'ignored' });
      else resolve({ kind: 'unhealthy', cause: `${status} ${http.STATUS_CODES[status] ?? ''}`.trim() });
    });
    request.on('timeout', () => request.destroy(new Error(`The health check request timed out after ${timeoutMs} ms`)));
    request.on('error', (error) => resolve({ kind: 'unhealthy', cause: error.message }));
  });
}

function tcpProbe(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve({ kind: 'healthy' });
    });
    socket.once('timeout', () => socket.destroy(new Error(`connect timed out after ${timeoutMs} ms`)));
    socket.once('error', (error) => resolve({ kind: 'unhealthy', cause: `${error.name}: ${error.message}` }));
  });
}

function commandProbe(check: JsonObject, target: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const command = isJsonObject(check.command) && typeof check.command.value === 'string' ? check.command.value : undefined;
  if (command === undefined) return Promise.resolve({ kind: 'unhealthy', cause: 'COMMAND health check without command.value' });
  return new Promise((resolve) => {
    const child = spawn('sh', ['-c', command], { cwd: target.cwd, env: target.env, stdio: 'ignore', timeout: timeoutMs, killSignal: 'SIGKILL' });
    child.once('error', (error) => resolve({ kind: 'unhealthy', cause: error.message }));
    child.once('exit', (code, signal) =>
      resolve(code === 0 ? { kind: 'healthy' } : { kind: 'unhealthy', cause: signal ? `Command timed out or was killed (${signal})` : `Command exited with status ${code}` }),
    );
  });
}
