// GET /v2/events of the emulator through the real MarathonClient.streamEvents and SSE parser, plus the stream controls.
import { describe, expect, it, vi } from 'vitest';
import { MarathonClient } from '../src/marathon/client.js';
import { parseServerSentEvents } from '../src/marathon/sse.js';
import type { MarathonEvent } from '../src/marathon/types.js';
import { dockerApp, startEmulator, withEmulator } from './support/emulator.js';

const app = dockerApp;

async function* chunksOf(...chunks: string[]): AsyncGenerator<Buffer> {
  for (const chunk of chunks) yield Buffer.from(chunk);
}

async function collect(chunks: AsyncIterable<Buffer>) {
  const events = [];
  for await (const event of parseServerSentEvents(chunks)) events.push(event);
  return events;
}

describe('SSE parser', () => {
  it.each([
    ['LF', ['event: a\ndata: {"x":1}\n\n'], [{ event: 'a', data: '{"x":1}' }]],
    ['CRLF', ['event: a\r\ndata: 1\r\n\r\n'], [{ event: 'a', data: '1' }]],
    ['CRLF split between chunks', ['event: a\r', '\ndata: 1\r', '\n\r', '\n'], [{ event: 'a', data: '1' }]],
    ['comments and keep-alives', [': keep-alive\n\n', 'data: 2\n\n'], [{ data: '2' }]],
    ['multi-line data', ['data: a\ndata: b\n\n'], [{ data: 'a\nb' }]],
    ['a chunk split inside a field', ['ev', 'ent: b\nda', 'ta: 3\n', '\n'], [{ event: 'b', data: '3' }]],
  ])('%s', async (_name, chunks, expected) => {
    const events = await collect(chunksOf(...chunks));
    expect(events.map(({ event, data }) => (event === undefined ? { data } : { event, data }))).toEqual(expected);
  });

  it('decodes a UTF-8 character split between two chunks', async () => {
    const bytes = Buffer.from('data: {"name":"Zürich"}\n\n');
    async function* split() {
      yield bytes.subarray(0, 17);
      yield bytes.subarray(17);
    }
    expect((await collect(split()))[0]?.data).toBe('{"name":"Zürich"}');
  });
});

describe('Marathon emulator event stream', () => {
  const marathon = withEmulator({ keepAliveMs: 50 });

  function listen(eventTypes: string[] = []) {
    const events: MarathonEvent[] = [];
    const handle = marathon.client().streamEvents((event) => events.push(event), eventTypes);
    return { events, handle };
  }

  it('streams a deployment from deployment_info to deployment_success in order of causality', async () => {
    const { events, handle } = listen();
    try {
      await vi.waitFor(() => expect(events[0]?.eventType).toBe('event_stream_attached'), { timeout: 5_000, interval: 5 });
      const started = await marathon.client().putApp(app('/events/web'));
      await vi.waitFor(
        () => expect(events.some((e) => e.eventType === 'deployment_success' && e.data.id === started.deploymentId)).toBe(true),
        { timeout: 5_000, interval: 10 },
      );
      const position = (predicate: (e: MarathonEvent) => boolean) => events.findIndex(predicate);
      const ofApp = (e: MarathonEvent) => e.data.appId === '/events/web';
      const apiPost = position((e) => e.eventType === 'api_post_event');
      const info = position((e) => e.eventType === 'deployment_info');
      const staging = position((e) => ofApp(e) && e.data.taskStatus === 'TASK_STAGING');
      const running = position((e) => ofApp(e) && e.data.taskStatus === 'TASK_RUNNING');
      const healthy = position((e) => e.eventType === 'health_status_changed_event');
      const success = position((e) => e.eventType === 'deployment_success');
      expect([apiPost, info, staging, running, healthy, success]).toEqual([...[apiPost, info, staging, running, healthy, success]].sort((a, b) => a - b));
      expect(apiPost).toBeGreaterThan(0);

      expect(events[apiPost]?.data).toMatchObject({ uri: '/v2/apps/events/web', appDefinition: { id: '/events/web', version: started.version } });
      expect(events[info]?.data).toMatchObject({
        plan: { id: started.deploymentId, version: started.version, steps: [{ actions: [{ action: 'StartApplication', app: '/events/web' }] }, expect.anything()] },
        currentStep: { actions: [{ action: 'StartApplication', app: '/events/web' }] },
      });
      expect(events[running]?.data).toMatchObject({
        appId: '/events/web',
        taskId: expect.stringMatching(/^events_web\.instance-/),
        taskStatus: 'TASK_RUNNING',
        version: started.version,
        host: expect.stringMatching(/^agent-\d\.emulator$/),
        ports: expect.any(Array),
        slaveId: expect.any(String),
        timestamp: expect.any(String),
      });
      expect(events[healthy]?.data).toMatchObject({ appId: '/events/web', alive: true, version: started.version, instanceId: expect.any(String) });
      expect(events[success]?.data).toMatchObject({ id: started.deploymentId, plan: { id: started.deploymentId }, timestamp: expect.any(String) });
    } finally {
      handle.close();
    }
    await expect(handle.ended).resolves.toEqual({ reason: 'closed' });
  });

  it('sends only the event types asked for with repeated event_type', async () => {
    const { events, handle } = listen(['deployment_success', 'deployment_failed']);
    try {
      await vi.waitFor(async () => expect((await marathon.events()).filter((e) => e.eventType === 'event_stream_attached').length).toBeGreaterThan(0));
      const started = await marathon.client().putApp(app('/filter/web', 'shop/web:1.0.0-stuck'));
      await marathon.client().deleteDeployment(started.deploymentId, { force: true });
      await vi.waitFor(() => expect(events.map((e) => e.eventType)).toEqual(['deployment_failed']), { timeout: 5_000, interval: 10 });
      expect(events[0]?.data).toMatchObject({ id: started.deploymentId, plan: { id: started.deploymentId }, reason: expect.any(String) });
    } finally {
      handle.close();
    }
  });

  it('crash events: TASK_FAILED status updates with the new version and a message', async () => {
    const { events, handle } = listen(['status_update_event']);
    try {
      const started = await marathon.client().putApp(app('/events/crash', 'shop/web:2.0.0-crash'));
      await vi.waitFor(() => expect(events.some((e) => e.data.taskStatus === 'TASK_FAILED')).toBe(true), { timeout: 5_000, interval: 10 });
      const failed = events.find((e) => e.data.taskStatus === 'TASK_FAILED');
      expect(failed?.data).toMatchObject({ appId: '/events/crash', version: started.version, message: expect.stringContaining('exited') });
    } finally {
      handle.close();
    }
  });

  it('ends the client stream as dropped when the emulator drops every stream', async () => {
    const { events, handle } = listen(['event_stream_attached']);
    await vi.waitFor(() => expect(events).toHaveLength(1), { timeout: 5_000, interval: 5 });
    expect(await marathon.control('events/drop')).toEqual({ dropped: 1 });
    const ended = await handle.ended;
    expect(ended.reason).toBe('dropped');
  });

  it('mute keeps streams open but silent (a stalled stream); unmute resumes', async () => {
    const { events, handle } = listen(['deployment_success']);
    try {
      await vi.waitFor(async () => expect((await marathon.control('events/mute'))).toEqual({ muted: true }));
      const first = await marathon.client().putApp(app('/mute/web'));
      await vi.waitFor(async () => {
        const logged = await marathon.events();
        expect(logged.some((e) => e.eventType === 'deployment_success' && e.data.id === first.deploymentId)).toBe(true);
      }, { timeout: 5_000, interval: 10 });
      expect(events).toEqual([]);
      await marathon.control('events/unmute');
      const second = await marathon.client().scaleApp('/mute/web', 1);
      await vi.waitFor(() => expect(events.map((e) => e.data.id)).toEqual([second.deploymentId]), { timeout: 5_000, interval: 10 });
    } finally {
      await marathon.control('events/unmute');
      handle.close();
    }
  });

  it('logs every emitted event with its emission time', async () => {
    const before = Date.now();
    await marathon.client().putApp(app('/logged/web'));
    const logged = await marathon.events();
    const post = logged.find((e) => e.eventType === 'api_post_event' && (e.data.appDefinition as { id: string }).id === '/logged/web');
    expect(post?.emittedAt).toBeGreaterThanOrEqual(before);
    expect(post?.emittedAt).toBeLessThanOrEqual(Date.now());
  });

  it('answers 405 without Accept: text/event-stream, and sends heartbeats (a bare CRLF)', async () => {
    const refused = await fetch(`${marathon.url}/v2/events`, { headers: { Accept: 'application/json' } });
    expect(refused.status).toBe(405);
    expect(await refused.text()).toContain('HTTP ERROR: 405');

    const controller = new AbortController();
    const response = await fetch(`${marathon.url}/v2/events?event_type=nothing_ever`, {
      headers: { Accept: 'text/event-stream' },
      signal: controller.signal,
    });
    expect(response.headers.get('content-type')).toBe('text/event-stream;charset=utf-8');
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/^(\r\n)+$/);
    controller.abort();
  });

  it('a refused stream ends as an error carrying Marathon\'s message', async () => {
    const secured = await startEmulator({ credentials: { username: 'ops', password: 'right' } });
    try {
      const handle = new MarathonClient({ url: secured.url, auth: { basic: 'ops:wrong' } }).streamEvents(() => undefined);
      const ended = await handle.ended;
      expect(ended.reason).toBe('error');
      expect(ended.error).toMatchObject({ kind: 'unauthorized', status: 401, message: 'Invalid username or password.' });
    } finally {
      await secured.close();
    }
  });

  it('closes open streams when the emulator closes', async () => {
    const own = await startEmulator({ timings: { stagingMs: 5 } });
    const handle = new MarathonClient({ url: own.url }).streamEvents(() => undefined);
    await vi.waitFor(async () => {
      const log = (await (await fetch(`${own.url}/_emulator/events`)).json()) as { events: unknown[] };
      expect(log.events.length).toBeGreaterThan(0);
    });
    await own.close();
    expect((await handle.ended).reason).toBe('dropped');
  });
});
