import { describe, expect, it } from 'vitest';
import type { AppInfo } from '../src/marathon/types.js';
import type { HistoryEntry } from '../src/status/history.js';
import type { AuditRecord } from '../src/audit/log.js';
import {
  healthierTargetMayBeOlder,
  parseRollbackTo,
  pickRollbackTarget,
  rollbackDefinition,
  tagVerdicts,
  type RollbackRequest,
} from '../src/status/rollback-target.js';

const T = (minute: number) => `2024-05-02T10:${String(minute).padStart(2, '0')}:00.000Z`;

function entry(minute: number, version: string, over: Partial<HistoryEntry> = {}): HistoryEntry {
  return { kind: 'version', marathonVersion: T(minute), version, current: false, abandoned: false, change: 'config', ...over };
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

describe('tagVerdicts', () => {
  const where = { app: 'shop-web', env: 'qa', dc: 'AA' };
  const record = (toVersion: string, outcome: string, minute: number, over: Partial<AuditRecord> = {}): AuditRecord =>
    ({ time: T(minute), user: 'bob', command: 'deploy', app: 'shop-web', env: 'qa', dc: 'AA', toVersion, outcome, ...over }) as AuditRecord;
  const cases: { name: string; records: AuditRecord[]; expected: Record<string, string> }[] = [
    { name: 'succeeded and unchanged ran healthy', records: [record('1.0.0', 'succeeded', 1), record('1.1.0', 'unchanged', 2)], expected: { '1.0.0': 'healthy', '1.1.0': 'healthy' } },
    {
      name: 'every never-healthy outcome counts against the tag',
      records: ['failed', 'failed-rolled-back', 'timeout', 'timeout-rolled-back', 'rollback-failed', 'superseded', 'interrupted'].map((o, i) =>
        record(`2.${i}.0`, o, i),
      ),
      expected: Object.fromEntries(Array.from({ length: 7 }, (_, i) => [`2.${i}.0`, 'failed'])),
    },
    { name: 'a tag that failed once and succeeded later has both', records: [record('3.0.0', 'timeout', 1), record('3.0.0', 'succeeded', 2, { command: 'rollback' })], expected: { '3.0.0': 'failed+healthy' } },
    {
      name: 'dry runs, refusals, other apps, environments and datacenters say nothing',
      records: [
        record('4.0.0', 'dry-run', 1),
        record('4.0.0', 'refused', 2),
        record('4.0.0', 'failed', 3, { app: 'other' }),
        record('4.0.0', 'failed', 4, { env: 'prod' }),
        record('4.0.0', 'failed', 5, { dc: 'BB' }),
        // Ctrl-C before anything was sent: a record about no one datacenter, aimed at this one.
        record('4.0.0', 'interrupted', 6, { dc: undefined, datacenters: ['AA'], exitCode: 130 }),
      ],
      expected: {},
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const verdicts = tagVerdicts(c.records, where);
      const summary = Object.fromEntries([...verdicts].map(([tag, v]) => [tag, [v.failed && 'failed', v.healthy && 'healthy'].filter(Boolean).join('+')]));
      expect(summary).toEqual(c.expected);
    });
  }
});

describe('pickRollbackTarget with what the audit log says about each tag', () => {
  const verdict = (outcome: string, minute: number, command = 'deploy') => ({ command, user: 'rita', outcome, time: T(minute) });
  // The reviewer's case: 1.1.0 ran healthy, 5.0.0-stuck was superseded by 9.9.9, a rollback to 5.0.0-stuck timed out
  // and Baton restored 9.9.9.
  const live = { marathonVersion: T(50), version: '9.9.9' };
  const history = [
    entry(50, '9.9.9', { current: true }),
    entry(40, '5.0.0-stuck', { audit: { ...verdict('timeout-rolled-back', 45, 'rollback'), matchedBy: 'marathon-version' } }),
    entry(30, '9.9.9'),
    entry(20, '5.0.0-stuck', { audit: { ...verdict('superseded', 31), matchedBy: 'marathon-version' } }),
    entry(10, '1.1.0'),
  ];
  const tags = new Map([
    ['1.1.0', { healthy: verdict('succeeded', 11) }],
    ['5.0.0-stuck', { failed: verdict('timeout-rolled-back', 45, 'rollback') }],
    ['9.9.9', { healthy: verdict('succeeded', 30) }],
  ]);
  const cases: {
    name: string;
    entries?: HistoryEntry[];
    tags?: Map<string, { healthy?: ReturnType<typeof verdict>; failed?: ReturnType<typeof verdict> }>;
    request?: RollbackRequest;
    expected: string;
    skipped?: string[];
    why?: RegExp;
    warning?: boolean;
  }[] = [
    {
      name: 'every stored version of a tag that never ran healthy is passed over, the healthy one before it is chosen',
      expected: `target ${T(10)}`,
      skipped: [`5.0.0-stuck ${T(40)}`, `5.0.0-stuck ${T(20)}`],
      // The newer one by its own audit record, the older (superseded, so not failed by itself) by its tag's.
      why: /the audit log says rollback by rita ended timeout-rolled-back/,
    },
    {
      name: 'superseded alone is enough to pass a tag over',
      entries: [entry(50, '9.9.9', { current: true }), entry(20, '5.0.0-stuck'), entry(10, '1.1.0')],
      tags: new Map([['5.0.0-stuck', { failed: verdict('superseded', 21) }]]),
      expected: `target ${T(10)}`,
      skipped: [`5.0.0-stuck ${T(20)}`],
      why: /ended superseded/,
    },
    {
      name: 'a tag that failed once but succeeded since is a candidate',
      tags: new Map([['5.0.0-stuck', { failed: verdict('timeout', 21), healthy: verdict('succeeded', 22) }]]),
      entries: [entry(50, '9.9.9', { current: true }), entry(20, '5.0.0-stuck'), entry(10, '1.1.0')],
      expected: `target ${T(20)}`,
      skipped: [],
    },
    {
      name: 'a version known to have run healthy is preferred over a newer one the log knows nothing about',
      entries: [entry(50, '9.9.9', { current: true }), entry(30, '2.0.0'), entry(10, '1.1.0')],
      expected: `target ${T(10)}`,
      skipped: [`2.0.0 ${T(30)}`],
      why: /^not known to have run healthy \(no succeeded deploy or rollback of 2\.0\.0 in the audit log\); 1\.1\.0 has$/,
    },
    {
      name: 'without any healthy record, the newest candidate that did not fail',
      entries: [entry(50, '9.9.9', { current: true }), entry(30, '2.0.0'), entry(10, '1.1.0')],
      tags: new Map(),
      expected: `target ${T(30)}`,
      skipped: [],
    },
    {
      name: 'only failed tags left: nothing to go back to',
      entries: [entry(50, '9.9.9', { current: true }), entry(20, '5.0.0-stuck')],
      expected: 'not-found',
    },
    {
      name: 'a named tag that never ran healthy is still taken, with a warning',
      request: { kind: 'tag', tag: '5.0.0-stuck' },
      entries: [entry(50, '9.9.9', { current: true }), entry(20, '5.0.0-stuck'), entry(10, '1.1.0')],
      expected: `target ${T(20)}`,
      warning: true,
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const pick = pickRollbackTarget(c.entries ?? history, live, c.request ?? { kind: 'previous' }, c.tags ?? tags);
      expect(pick.kind === 'target' ? `target ${pick.entry.marathonVersion}` : pick.kind).toBe(c.expected);
      if (pick.kind === 'target') {
        if (c.skipped) expect(pick.skipped.map((s) => `${s.entry.version} ${s.entry.marathonVersion}`)).toEqual(c.skipped);
        if (c.why) for (const s of pick.skipped) expect(s.why).toMatch(c.why);
        expect(Boolean(pick.warning)).toBe(Boolean(c.warning));
      }
    });
  }

  it('asks for older versions only while a healthy tag may still be among them', () => {
    const read = [entry(50, '9.9.9', { current: true }), entry(30, '2.0.0')];
    const pick = pickRollbackTarget(read, live, { kind: 'previous' }, tags);
    expect(pick.kind === 'target' && pick.entry.version).toBe('2.0.0');
    expect(healthierTargetMayBeOlder(pick, read, tags, '9.9.9')).toBe(true);
    expect(healthierTargetMayBeOlder(pick, read, new Map([['9.9.9', { healthy: verdict('succeeded', 30) }]]), '9.9.9')).toBe(false);
    const withOld = [...read, entry(10, '1.1.0')];
    expect(healthierTargetMayBeOlder(pickRollbackTarget(withOld, live, { kind: 'previous' }, tags), withOld, tags, '9.9.9')).toBe(false);
  });
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
