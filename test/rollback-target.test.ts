import { describe, expect, it } from 'vitest';
import type { AppInfo } from '../src/marathon/types.js';
import type { HistoryEntry } from '../src/status/history.js';
import { parseRollbackTo, pickRollbackTarget, rollbackDefinition, type RollbackRequest } from '../src/status/rollback-target.js';

const T = (minute: number) => `2024-05-02T10:${String(minute).padStart(2, '0')}:00.000Z`;

function entry(minute: number, version: string, over: Partial<HistoryEntry> = {}): HistoryEntry {
  return { marathonVersion: T(minute), version, current: false, abandoned: false, change: 'config', ...over };
}
const failed = (user = 'bob') =>
  ({ user, command: 'deploy', outcome: 'failed-rolled-back', time: T(59), matchedBy: 'marathon-version' }) as const;

describe('parseRollbackTo', () => {
  const cases: { to: string | undefined; expected: RollbackRequest | 'invalid' }[] = [
    { to: undefined, expected: { kind: 'previous' } },
    { to: '1.4.1', expected: { kind: 'tag', tag: '1.4.1' } },
    { to: 'release_2024-05', expected: { kind: 'tag', tag: 'release_2024-05' } },
    { to: '2024-05-02T09:14:03.512Z', expected: { kind: 'marathon-version', marathonVersion: '2024-05-02T09:14:03.512Z' } },
    { to: '2024-05-02T09:14:03Z', expected: { kind: 'marathon-version', marathonVersion: '2024-05-02T09:14:03Z' } },
    { to: '-rf', expected: 'invalid' },
    { to: 'a b', expected: 'invalid' },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.to)}`, () => {
      const parsed = parseRollbackTo(c.to);
      if (c.expected === 'invalid') expect(parsed).toMatchObject({ kind: 'invalid', reason: expect.stringContaining('--to') });
      else expect(parsed).toEqual(c.expected);
    });
  }
});

describe('pickRollbackTarget', () => {
  const live = { marathonVersion: T(40), version: '1.3.0' };
  const history = [
    entry(50, '1.4.0', { abandoned: true, audit: failed() }),
    entry(40, '1.3.0', { current: true }),
    entry(35, '1.3.0', { change: 'scale' }),
    entry(30, '1.2.0', { audit: failed('carol') }),
    entry(20, '1.1.0'),
    entry(10, '1.0.0'),
  ];
  const cases: { name: string; request: RollbackRequest; entries?: HistoryEntry[]; expected: string; skipped?: string[]; warning?: boolean }[] = [
    {
      name: 'default: the newest older version with another tag that did not fail',
      request: { kind: 'previous' },
      expected: `target ${T(20)}`,
      skipped: ['1.2.0'],
    },
    {
      name: 'default: newer reverted versions and same-tag versions are not candidates',
      request: { kind: 'previous' },
      entries: [entry(50, '1.4.0', { abandoned: true }), entry(40, '1.3.0', { current: true }), entry(35, '1.3.0'), entry(30, '1.2.0')],
      expected: `target ${T(30)}`,
    },
    {
      name: 'default: nothing older with another tag',
      request: { kind: 'previous' },
      entries: [entry(40, '1.3.0', { current: true }), entry(35, '1.3.0')],
      expected: 'not-found',
    },
    { name: 'a tag: the newest version with it', request: { kind: 'tag', tag: '1.0.0' }, expected: `target ${T(10)}` },
    {
      name: 'a tag known only from a failed attempt: picked, with a warning',
      request: { kind: 'tag', tag: '1.2.0' },
      expected: `target ${T(30)}`,
      warning: true,
    },
    { name: 'the tag running now', request: { kind: 'tag', tag: '1.3.0' }, expected: 'already' },
    { name: 'a tag Marathon never ran', request: { kind: 'tag', tag: '0.9.0' }, expected: 'not-found' },
    { name: 'a Marathon version', request: { kind: 'marathon-version', marathonVersion: T(35) }, expected: `target ${T(35)}` },
    { name: 'the current Marathon version', request: { kind: 'marathon-version', marathonVersion: T(40) }, expected: 'already' },
    { name: 'an unknown Marathon version', request: { kind: 'marathon-version', marathonVersion: T(1) }, expected: 'not-found' },
    {
      name: 'an unreadable Marathon version',
      request: { kind: 'marathon-version', marathonVersion: T(20) },
      entries: [entry(40, '1.3.0', { current: true }), { ...entry(20, '1.1.0'), version: undefined, error: '500' }],
      expected: 'not-found',
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pick = pickRollbackTarget(c.entries ?? history, live, c.request);
      expect(pick.kind === 'target' ? `target ${pick.entry.marathonVersion}` : pick.kind).toBe(c.expected);
      if (c.skipped && pick.kind === 'target') expect(pick.skipped.map((s) => s.entry.version)).toEqual(c.skipped);
      if (pick.kind === 'target') expect(Boolean(pick.warning)).toBe(Boolean(c.warning));
    });
  }
});

describe('rollbackDefinition', () => {
  const stored = {
    id: '/shop/web',
    instances: 2,
    container: { docker: { image: 'registry.example.com/shop/web:1.1.0' } },
    labels: { BATON_VERSION: '1.1.0', team: 'shop' },
    version: T(20),
    versionInfo: { lastConfigChangeAt: T(20), lastScalingAt: T(20) },
    tasks: [],
    deployments: [],
  };
  const live = (over: Partial<AppInfo> = {}): AppInfo => ({ id: '/shop/web', instances: 2, version: T(40), ...over });

  it('PUTs the stored definition without read-only fields, labels (the version label) as they were', () => {
    const { definition, notes } = rollbackDefinition(stored, live());
    expect(definition).toEqual({
      id: '/shop/web',
      instances: 2,
      container: { docker: { image: 'registry.example.com/shop/web:1.1.0' } },
      labels: { BATON_VERSION: '1.1.0', team: 'shop' },
    });
    expect(notes).toEqual([]);
  });

  const instanceCases: { name: string; storedInstances: number; live: AppInfo; instances: number; note: boolean }[] = [
    { name: 'not autoscaled: the old count', storedInstances: 3, live: live({ instances: 5 }), instances: 3, note: false },
    {
      name: 'autoscaled: the live count',
      storedInstances: 3,
      live: live({ instances: 7, labels: { AUTOSCALE_MIN: '2', AUTOSCALE_MAX: '10' } }),
      instances: 7,
      note: true,
    },
    { name: 'never down to 0 from a running app', storedInstances: 0, live: live({ instances: 4 }), instances: 4, note: true },
  ];
  for (const c of instanceCases) {
    it(`instances — ${c.name}`, () => {
      const { definition, notes } = rollbackDefinition({ ...stored, instances: c.storedInstances }, c.live);
      expect(definition.instances).toBe(c.instances);
      expect(notes.length > 0).toBe(c.note);
    });
  }
});
