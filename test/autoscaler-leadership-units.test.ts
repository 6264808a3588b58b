// The pure parts of leader election and of the memory shared between leaders, table-tested; the config key.
import { describe, expect, test } from 'vitest';
import { parseConfig } from '../autoscaler/config/load.js';
import { ownNodeOf, sequenceOf, standing } from '../autoscaler/leadership/election.js';
import { fromStored, needsWrite, toStored, type StoredMemory } from '../autoscaler/leadership/shared-memory.js';
import { appIdOfNode, nodeNameOf } from '../autoscaler/leadership/zookeeper-session.js';

const node = (tag: string, sequence: number) => `n_${tag}_${String(sequence).padStart(10, '0')}`;

describe('election standing (lowest sequence leads, each watches its predecessor)', () => {
  const a = node('aaa', 7);
  const b = node('bbb', 12);
  const c = node('ccc', 9);
  test.each([
    ['alone', [a], a, { kind: 'leads' }],
    ['lowest of three, whatever the listing order', [b, c, a], a, { kind: 'leads' }],
    ['second watches the leader', [b, c, a], c, { kind: 'follows', leader: a, predecessor: a }],
    ['third watches the second, not the leader (no herd)', [a, b, c], b, { kind: 'follows', leader: a, predecessor: c }],
    ['own node gone (session ended)', [a, c], b, { kind: 'absent' }],
    ['foreign names are ignored', ['lock', 'n_x_12', b, c], b, { kind: 'follows', leader: c, predecessor: c }],
    ['sequence, not tag, orders', [node('zzz', 1), node('aaa', 2)], node('aaa', 2), { kind: 'follows', leader: node('zzz', 1), predecessor: node('zzz', 1) }],
  ])('%s', (_name, children, own, expected) => {
    expect(standing(children, own)).toEqual(expected);
  });

  test('sequence numbers and own nodes are found by name', () => {
    expect(sequenceOf(node('t', 42))).toBe(42);
    expect(sequenceOf('n_t_42')).toBeNull();
    expect(sequenceOf('x_0000000001')).toBeNull();
    expect(ownNodeOf([node('other', 1), node('mine', 2)], 'mine')).toBe(node('mine', 2));
    expect(ownNodeOf([node('other', 1)], 'mine')).toBeUndefined();
  });
});

describe('the stabilization history in ZooKeeper', () => {
  const base: StoredMemory = { version: 1, recommendations: [{ at: 1000, desired: 6 }, { at: 5000, desired: 3 }], baseline: 4 };
  test.each([
    ['never written', undefined, base, true],
    ['unchanged', base, base, false],
    ['newest time moved less than the refresh', base, { ...base, recommendations: [{ at: 1000, desired: 6 }, { at: 9000, desired: 3 }] }, false],
    ['newest time moved by the refresh', base, { ...base, recommendations: [{ at: 1000, desired: 6 }, { at: 15_000, desired: 3 }] }, true],
    ['a recommended count changed', base, { ...base, recommendations: [{ at: 1000, desired: 6 }, { at: 5000, desired: 2 }] }, true],
    ['one more recommendation', base, { ...base, recommendations: [...base.recommendations, { at: 6000, desired: 1 }] }, true],
    ['the baseline changed', base, { ...base, baseline: 6 }, true],
    ['a scale event', base, { ...base, scaleEvents: [{ at: 5000, change: 2 }] }, true],
  ])('%s: write = %s', (_name, previous, next, expected) => {
    expect(needsWrite(previous, next, 10_000)).toBe(expected);
  });

  test('what is stored and read back is what the cycle remembers, without its log-only fields', () => {
    const memory = { recommendations: [{ at: 1, desired: 2 }], baseline: 2, scaleEvents: [{ at: 1, change: 1 }], skippedFor: 'deployment-in-progress' };
    const stored = toStored(memory);
    expect(stored).toEqual({ version: 1, recommendations: [{ at: 1, desired: 2 }], baseline: 2, scaleEvents: [{ at: 1, change: 1 }] });
    expect(fromStored(stored)).toEqual({ recommendations: [{ at: 1, desired: 2 }], baseline: 2, scaleEvents: [{ at: 1, change: 1 }] });
    expect(toStored({ recommendations: [] })).toEqual({ version: 1, recommendations: [] });
  });

  test('app ids become single node names and come back', () => {
    expect(nodeNameOf('/shop/web')).toBe('%2Fshop%2Fweb');
    expect(appIdOfNode(nodeNameOf('/shop/web.v2'))).toBe('/shop/web.v2');
    expect(appIdOfNode('n_0000000001')).toBeNull();
    expect(appIdOfNode('%E0%A4%A')).toBeNull();
  });
});

describe('the zookeeper config key', () => {
  const minimal = { marathon: { url: 'http://m:8080' }, influx: { url: 'http://i:8086' } };
  const env = { BATON_AUTOSCALER_TOKEN: 't' };
  test('defaults, and absent without the key', () => {
    expect(parseConfig(minimal, env).config.zookeeper).toBeUndefined();
    expect(parseConfig({ ...minimal, zookeeper: { connect: 'zk1:2181,zk2:2181' } }, env).config.zookeeper).toEqual({
      connect: 'zk1:2181,zk2:2181',
      path: '/baton-autoscaler',
      sessionTimeoutMs: 10_000,
    });
  });
  test.each([
    [{ connect: 'zk1' }, 'zookeeper.connect: expected a connect string like "zk1:2181,zk2:2181,zk3:2181"'],
    [{ connect: 'zk1:2181', path: 'baton' }, 'zookeeper.path: expected an absolute ZooKeeper path like "/baton-autoscaler"'],
    [{ connect: 'zk1:2181', path: '/baton/' }, 'zookeeper.path: expected an absolute ZooKeeper path'],
    [{ connect: 'zk1:2181', sessionTimeoutMs: 500 }, 'zookeeper.sessionTimeoutMs: expected at least 1000 ms'],
    [{ connect: 'zk1:2181', advertiseUrl: 'host:8470' }, 'zookeeper.advertiseUrl: expected a URL'],
    [{ connect: 'zk1:2181', sesionTimeoutMs: 5000 }, 'zookeeper: unknown key(s) "sesionTimeoutMs"'],
    [{}, 'zookeeper.connect: is required'],
  ])('%j is refused', (zookeeper, message) => {
    expect(() => parseConfig({ ...minimal, zookeeper }, env, 'autoscaler.json')).toThrow(message);
  });
});
