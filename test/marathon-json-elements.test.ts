import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { MarathonClient } from '../src/marathon/client.js';
import { MarathonError } from '../src/marathon/errors.js';
import { JsonArrayElements } from '../src/marathon/json-elements.js';
import type { AppInfo } from '../src/marathon/types.js';
import { waitFor } from './support/autoscaler.js';
import { withEmulator } from './support/emulator.js';

class EnvelopeError extends Error {}

/** Feeds `text` cut at `cuts` (byte offsets) and returns the parsed elements. */
function elementsOf(text: string, cuts: number[] = []): unknown[] {
  const bytes = Buffer.from(text, 'utf8');
  const found: unknown[] = [];
  const splitter = new JsonArrayElements(
    'apps',
    (element, index) => {
      expect(index).toBe(found.length);
      found.push(JSON.parse(element));
    },
    (path, expected) => new EnvelopeError(`${path}: ${expected}`),
  );
  let from = 0;
  for (const cut of [...cuts, bytes.length]) {
    splitter.push(bytes.subarray(from, cut));
    from = cut;
  }
  expect(splitter.end()).toBe(found.length);
  return found;
}

const tricky = {
  apps: [
    { id: '/a', cmd: 'echo "}]{[" \\ done', env: { QUOTE: '\\"', BACKSLASHES: '\\\\', EMPTY: '' } },
    { id: '/b/é', labels: { note: 'zürich 中文 🚀 \u2028' }, tasks: [{ id: 't1', ports: [1, 2, [3, { x: [] }]] }, { id: 't2' }] },
    { id: '/c', nested: { apps: [{ not: 'these' }] }, n: -1.5e3, t: true, f: false, z: null },
    {},
  ],
};

const documents: Record<string, string> = {
  compact: JSON.stringify(tricky),
  indented: JSON.stringify(tricky, null, 2).replace(/\n/g, '\r\n'),
  'escaped keys that are not "apps"': '{"apps\\n":[{"id":"/no"}],"ap\\u0070s":[{"id":"/no"}],"apps":[{"id":"/yes"}]}',
  'other keys around': `{"name":"apps","count":4,"meta":{"apps":[1,2]},"apps":${JSON.stringify(tricky.apps)},"after":[{"x":"]"}]}`,
  empty: '{ "apps" : [ ] }',
};

describe('JsonArrayElements', () => {
  it.each(Object.entries(documents))('finds every element of %s, wherever the chunks are cut', (_, text) => {
    const expected = (JSON.parse(text) as { apps: unknown[] }).apps;
    const length = Buffer.byteLength(text);
    expect(elementsOf(text)).toEqual(expected);
    // One cut at every byte, including inside multi-byte characters, escapes and keys.
    for (let cut = 0; cut <= length; cut++) expect(elementsOf(text, [cut])).toEqual(expected);
    // A byte at a time.
    expect(elementsOf(text, Array.from({ length }, (_, i) => i))).toEqual(expected);
  });

  it('keeps escapes right when a run of backslashes is cut between chunks', () => {
    const text = JSON.stringify({ apps: [{ a: '\\\\\\"', b: '\\', c: '"\\"' }, { d: 'x' }] });
    for (let first = 0; first <= text.length; first++) {
      for (let second = first; second <= Math.min(text.length, first + 6); second++) {
        expect(elementsOf(text, [first, second])).toEqual(JSON.parse(text).apps);
      }
    }
  });

  it.each([
    ['[]', '(root): expected one JSON object'],
    ['"apps"', '(root): expected one JSON object'],
    ['{"apps":[]} {}', '(root): expected one JSON object'],
    ['{"items":[]}', 'apps: expected an array'],
    ['{"apps":{"id":"/a"}}', 'apps: expected an array'],
    ['{"apps":[{"id":"/a"},2]}', 'apps.1: expected an object'],
    ['{"apps":["/a"]}', 'apps.0: expected an object'],
    ['{"apps":[{"id":"/a"},{"id":"/b"', '(root): complete JSON (the answer ends early)'],
    ['{"apps":[{"id":"/a}]}', '(root): complete JSON (the answer ends early)'],
    ['', '(root): complete JSON (the answer ends early)'],
    ['{"apps":[]}]', '(root): expected one JSON object'],
    ['{"apps":[{"id":"/a"} {"id":"/b"}]}', 'apps.1: a comma before the next element'],
    ['{"apps":[{"id":"/a"},,{"id":"/b"}]}', 'apps.1: expected an object'],
    ['{"apps":[{"id":"/a"},]}', 'apps.1: expected an object (a comma ends the list)'],
    ['{"apps":[,]}', 'apps.0: expected an object'],
  ])('rejects %j: %s', (text, message) => {
    expect(() => elementsOf(text)).toThrow(message);
  });
});

/** Every app at its target count of running tasks, with no deployment. */
function settled(apps: AppInfo[]): boolean {
  return apps.every((app) => (app.deployments ?? []).length === 0 && (app.tasks ?? []).filter((t) => t.state === 'TASK_RUNNING').length === app.instances);
}

describe('MarathonClient.visitApps', () => {
  const marathon = withEmulator();

  it('hands over the same apps as listApps, one at a time', async () => {
    const client = marathon.client();
    for (const id of ['/visit/a', '/visit/b', '/visit/c']) {
      await client.putApp({ id, cmd: 'sleep 100', cpus: 0.1, mem: 32, instances: 2, labels: { note: 'ünïcode "quoted" }]' } });
    }
    // Compare once the tasks have settled: a task moving from staging to running between the two reads is not a difference.
    const listed = await waitFor('every task running', async () => {
      const apps = await client.listApps(['apps.tasks', 'apps.deployments']);
      return settled(apps) && apps;
    });
    expect(listed.map((app) => app.id)).toEqual(['/visit/a', '/visit/b', '/visit/c']);
    const visited: AppInfo[] = [];
    const count = await client.visitApps(['apps.tasks', 'apps.deployments'], (app) => visited.push(app));
    expect(count).toBe(3);
    expect(visited).toEqual(listed);
  });

  it('gives up on an answer that stops halfway, after the timeout without data, as unreachable', async () => {
    const server = http.createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.write('{"apps":[{"id":"/a"},');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new MarathonClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, timeoutMs: 300, readRetries: 0 });
      const visited: string[] = [];
      const started = Date.now();
      const failure = await client.visitApps(['apps.tasks'], (app) => visited.push(app.id)).catch((error: unknown) => error);
      expect(failure).toBeInstanceOf(MarathonError);
      expect(failure).toMatchObject({ kind: 'unreachable', message: expect.stringContaining('sent no data for') });
      expect(visited).toEqual(['/a']);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('reports a wrong or cut answer as a protocol error naming the JSON path, and a refused one with Marathon’s message', async () => {
    const answers: Array<[status: number, body: string]> = [
      [200, '{"apps":[{"id":"/a"},{"name":"no id"}]}'],
      [200, '{"apps":[{"id":"/a"},{"id":'],
      [200, '{"apps":[{"id":"/a"},{"id":"/b",}]}'],
      [403, '{"message":"Access denied"}'],
    ];
    const server = http.createServer((request, response) => {
      const [status, body] = answers.shift() ?? [500, ''];
      response.writeHead(status, { 'Content-Type': 'application/json' });
      response.end(body);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const client = new MarathonClient({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, readRetries: 0 });
      const visit = () => undefined;
      const failures = [];
      for (let i = 0; i < 4; i++) failures.push(await client.visitApps(['apps.tasks'], visit).catch((error: unknown) => error));
      expect(failures.map((f) => f instanceof MarathonError && [f.kind, f.message])).toEqual([
        ['protocol', 'unexpected answer to GET /v2/apps: apps.1.id: expected a string'],
        ['protocol', 'unexpected answer to GET /v2/apps: (root): complete JSON (the answer ends early)'],
        ['protocol', expect.stringMatching(/^unexpected answer to GET \/v2\/apps: apps\.1: valid JSON \(/)],
        ['forbidden', 'Access denied'],
      ]);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
