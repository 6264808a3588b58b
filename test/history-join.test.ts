import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/audit/log.js';
import { auditOnlyTimeline, historyTimeline, joinHistory, type MarathonVersion, type TimelineEntry } from '../src/status/history.js';

const T = (minute: number, second = 0) => `2024-05-02T10:${String(minute).padStart(2, '0')}:${String(second).padStart(2, '0')}.000Z`;

function stored(marathonVersion: string, tag: string, over: Record<string, unknown> = {}): MarathonVersion {
  return {
    marathonVersion,
    definition: {
      id: '/shop/web',
      instances: 2,
      container: { type: 'DOCKER', docker: { image: `registry.example.com/shop/web:${tag}` } },
      labels: { BATON_VERSION: tag },
      version: marathonVersion,
      ...over,
    },
  };
}

function record(over: Partial<AuditRecord>): AuditRecord {
  return { time: T(0), user: 'alice', command: 'deploy', app: 'shop-web', env: 'prod', dc: 'AA', outcome: 'succeeded', ...over };
}

const base = { app: 'shop-web', env: 'prod', dc: 'AA', olderExist: false };

describe('joinHistory', () => {
  it('matches audit records by Marathon version first, marks the current version, and says what each version changed', () => {
    const entries = joinHistory({
      ...base,
      currentVersion: T(30),
      versions: [stored(T(30), '1.2.0', { instances: 4 }), stored(T(20), '1.2.0'), stored(T(10), '1.1.0')],
      audit: [
        record({ time: T(20, 40), marathonVersion: T(20), toVersion: '1.2.0', user: 'bob', durationMs: 40_000 }),
        record({ time: T(10, 30), marathonVersion: T(10), toVersion: '1.1.0', user: 'alice', durationMs: 30_000 }),
      ],
    });
    expect(entries.map((e) => [e.marathonVersion, e.version, e.change, e.current, e.audit?.user ?? null, e.audit?.matchedBy ?? null])).toEqual([
      [T(30), '1.2.0', 'scale', true, null, null],
      [T(20), '1.2.0', 'config', false, 'bob', 'marathon-version'],
      [T(10), '1.1.0', 'config', false, 'alice', 'marathon-version'],
    ]);
  });

  const fallbackCases: { name: string; audit: AuditRecord[]; expected: string | null }[] = [
    {
      name: 'a record without Marathon version, same tag, written within its duration after the version: matched',
      audit: [record({ time: T(11), toVersion: '1.1.0', durationMs: 90_000, user: 'carol' })],
      expected: 'carol',
    },
    {
      name: 'same tag but written hours later: not matched',
      audit: [record({ time: '2024-05-02T14:00:00.000Z', toVersion: '1.1.0', durationMs: 60_000, user: 'carol' })],
      expected: null,
    },
    {
      name: 'other tag at the right time: not matched',
      audit: [record({ time: T(11), toVersion: '9.9.9', durationMs: 90_000, user: 'carol' })],
      expected: null,
    },
    {
      name: 'another datacenter: not matched',
      audit: [record({ time: T(11), toVersion: '1.1.0', durationMs: 90_000, user: 'carol', dc: 'BB' })],
      expected: null,
    },
    {
      name: 'an attempt that cannot create a version (refused, unchanged): not matched',
      audit: [
        record({ time: T(10, 1), toVersion: '1.1.0', outcome: 'refused', user: 'dave' }),
        record({ time: T(10, 2), toVersion: '1.1.0', outcome: 'unchanged', user: 'erin' }),
      ],
      expected: null,
    },
    {
      name: 'the nearest of two candidates wins',
      audit: [
        record({ time: T(10, 50), toVersion: '1.1.0', user: 'far' }),
        record({ time: T(10, 5), toVersion: '1.1.0', user: 'near' }),
      ],
      expected: 'near',
    },
  ];
  for (const c of fallbackCases) {
    it(`falls back to tag and time: ${c.name}`, () => {
      const [entry] = joinHistory({ ...base, currentVersion: T(10), versions: [stored(T(10), '1.1.0')], audit: c.audit });
      expect(entry?.audit?.user ?? null).toBe(c.expected);
      if (c.expected) expect(entry?.audit?.matchedBy).toBe('version-and-time');
    });
  }

  it('uses each record for one version only', () => {
    const entries = joinHistory({
      ...base,
      currentVersion: T(12),
      versions: [stored(T(12), '1.1.0', { env: { A: '2' } }), stored(T(10), '1.1.0')],
      audit: [record({ time: T(13), toVersion: '1.1.0', durationMs: 240_000, user: 'once' })],
    });
    expect(entries.filter((e) => e.audit?.user === 'once')).toHaveLength(1);
  });

  it('marks a newer version that is not current as reverted, and credits only the restored version to the automatic rollback', () => {
    const entries = joinHistory({
      ...base,
      currentVersion: T(32),
      versions: [stored(T(32), '1.1.0', { instances: 3 }), stored(T(30), '1.1.0'), stored(T(20), '1.2.0'), stored(T(10), '1.1.0')],
      audit: [
        record({
          time: T(31),
          marathonVersion: T(20),
          fromVersion: '1.1.0',
          toVersion: '1.2.0',
          outcome: 'failed-rolled-back',
          durationMs: 11 * 60_000,
          user: 'bob',
          rollback: { deploymentId: 'd-2', outcome: 'succeeded' },
        }),
      ],
    });
    expect(entries[0]).toMatchObject({ current: true, change: 'scale' });
    expect(entries[0]?.audit).toBeUndefined();
    expect(entries[1]).toMatchObject({ audit: { user: 'bob', matchedBy: 'reverted-to', outcome: 'restored after 1.2.0 failed-rolled-back' } });
    expect(entries[2]).toMatchObject({ abandoned: false, audit: { outcome: 'failed-rolled-back', matchedBy: 'marathon-version' } });
    expect(entries[3]?.audit).toBeUndefined();

    const cancelled = joinHistory({ ...base, currentVersion: T(10), versions: [stored(T(20), '1.2.0'), stored(T(10), '1.1.0')], audit: [] });
    expect(cancelled.map((e) => [e.abandoned, e.current])).toEqual([
      [true, false],
      [false, true],
    ]);
  });

  it('calls a version with nothing changed a restart, an unreadable one unknown, and the last one of a cut list unknown', () => {
    const unreadable: MarathonVersion = { marathonVersion: T(15), definition: null, error: 'Marathon answered 500' };
    const entries = joinHistory({
      ...base,
      olderExist: true,
      currentVersion: T(20),
      versions: [stored(T(20), '1.1.0'), stored(T(18), '1.1.0'), unreadable, stored(T(10), '1.0.0')],
      audit: [],
    });
    expect(entries.map((e) => e.change)).toEqual(['restart', 'unknown', 'unknown', 'unknown']);
    expect(entries[2]).toMatchObject({ error: 'Marathon answered 500' });
  });

  it('reads the digest of a pinned image', () => {
    const [entry] = joinHistory({
      ...base,
      currentVersion: T(10),
      versions: [stored(T(10), '1.1.0', { container: { docker: { image: 'registry.example.com/shop/web@sha256:abcdef' } } })],
      audit: [],
    });
    expect(entry).toMatchObject({ version: '1.1.0', digest: 'sha256:abcdef', change: 'config' });
  });
});

describe('historyTimeline', () => {
  // 1.2.0 runs since minute 30; 1.1.0 came at 20, 1.0.0 at 10.
  const versions = [stored(T(30), '1.2.0'), stored(T(20), '1.1.0'), stored(T(10), '1.0.0')];
  const timeline = (audit: AuditRecord[], over: { olderExist?: boolean; limit?: number; versions?: MarathonVersion[] } = {}) =>
    historyTimeline({ ...base, currentVersion: T(30), versions, audit, limit: 20, ...over });
  const rows = (entries: TimelineEntry[]) =>
    entries.map((e) => (e.kind === 'version' ? `version ${e.version}` : `attempt ${e.version ?? '-'} ${e.audit.user} ${e.audit.outcome} ${e.audit.exitCode ?? '?'}`));
  const refused = (over: Partial<AuditRecord>) =>
    record({ time: T(25), user: 'carol', toVersion: '1.3.0', outcome: 'rejected', exitCode: 4, message: 'AA: Marathon refused: the app is locked', ...over });

  const cases: { name: string; audit: AuditRecord[]; olderExist?: boolean; expected: string[] }[] = [
    {
      name: 'a deploy Marathon refused shows among the versions at its time, with outcome and exit code',
      audit: [refused({})],
      expected: ['version 1.2.0', 'attempt 1.3.0 carol rejected 4', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: 'an attempt that ended before any datacenter and named none counts for every datacenter',
      audit: [refused({ dc: undefined, outcome: 'invalid', exitCode: 2, time: T(15) })],
      expected: ['version 1.2.0', 'version 1.1.0', 'attempt 1.3.0 carol invalid 2', 'version 1.0.0'],
    },
    {
      name: 'one aimed at this datacenter among others shows; one aimed only at others does not',
      audit: [
        refused({ dc: undefined, datacenters: ['AA', 'BB'], outcome: 'refused', exitCode: 3, user: 'both' }),
        refused({ dc: undefined, datacenters: ['BB'], outcome: 'refused', exitCode: 3, user: 'bb-only' }),
      ],
      expected: ['version 1.2.0', 'attempt 1.3.0 both refused 3', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: 'other datacenters, apps and environments do not show',
      audit: [refused({ dc: 'BB' }), refused({ app: 'other' }), refused({ env: 'qa' })],
      expected: ['version 1.2.0', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: 'a record naming a Marathon version is never an attempt, even when that version is not among those given',
      audit: [record({ time: T(35), marathonVersion: T(34), toVersion: '9.9.9', outcome: 'succeeded', exitCode: 0 })],
      expected: ['version 1.2.0', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: 'a record with an exit code but no Marathon version created none, whatever its outcome: not matched to a version by tag',
      // "already at 1.1.0 but not healthy": outcome failed, nothing sent.
      audit: [record({ time: T(20, 30), toVersion: '1.1.0', outcome: 'failed', exitCode: 5, durationMs: 60_000, user: 'dave' })],
      expected: ['version 1.2.0', 'attempt 1.1.0 dave failed 5', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: 'an older record (no exit code) whose outcome cannot create a version is an attempt',
      audit: [record({ time: T(12), toVersion: '1.1.0', outcome: 'refused', user: 'erin' })],
      expected: ['version 1.2.0', 'version 1.1.0', 'attempt 1.1.0 erin refused ?', 'version 1.0.0'],
    },
    {
      name: 'an older record that may have created a version but matched none is an attempt when every version is given',
      audit: [record({ time: T(26), toVersion: '7.0.0', outcome: 'succeeded', durationMs: 30_000, user: 'old' })],
      expected: ['version 1.2.0', 'attempt 7.0.0 old succeeded ?', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: '... and when its time window starts after the oldest version given, though older ones exist',
      olderExist: true,
      audit: [record({ time: T(26), toVersion: '7.0.0', outcome: 'succeeded', durationMs: 30_000, user: 'old' })],
      expected: ['version 1.2.0', 'attempt 7.0.0 old succeeded ?', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: '... but not when a version older than those given may be the one it created',
      olderExist: true,
      audit: [record({ time: T(26), toVersion: '7.0.0', outcome: 'succeeded', user: 'old' })],
      expected: ['version 1.2.0', 'version 1.1.0', 'version 1.0.0'],
    },
    {
      name: 'interrupted before anything was sent, and dry runs, are attempts; of two at one time the later written comes first',
      audit: [
        refused({ dc: undefined, outcome: 'interrupted', exitCode: 130, time: T(31), user: 'first' }),
        refused({ outcome: 'dry-run', exitCode: 0, time: T(31), user: 'second' }),
      ],
      expected: ['attempt 1.3.0 second dry-run 0', 'attempt 1.3.0 first interrupted 130', 'version 1.2.0', 'version 1.1.0', 'version 1.0.0'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(rows(timeline(c.audit, { olderExist: c.olderExist ?? false }).entries)).toEqual(c.expected);
    });
  }

  it('keeps what the record says: who, when, the message and the CI job; versions keep their join', () => {
    const ci = { system: 'gitlab', job: 'deploy-prod', build: '77' };
    const { entries } = timeline([refused({ ci }), record({ time: T(20, 30), marathonVersion: T(20), toVersion: '1.1.0', exitCode: 0 })]);
    expect(entries[1]).toEqual({
      kind: 'attempt',
      marathonVersion: null,
      time: T(25),
      version: '1.3.0',
      audit: { user: 'carol', command: 'deploy', outcome: 'rejected', exitCode: 4, time: T(25), message: 'AA: Marathon refused: the app is locked', ci },
    });
    expect(entries[2]).toMatchObject({ kind: 'version', audit: { matchedBy: 'marathon-version', exitCode: 0 } });
  });

  it('cuts the merged list at the limit, and counts every attempt', () => {
    const audit = [refused({ user: 'newer' }), refused({ time: T(5), user: 'older' })];
    const cut = timeline(audit, { limit: 2, olderExist: true });
    expect(rows(cut.entries)).toEqual(['version 1.2.0', 'attempt 1.3.0 newer rejected 4']);
    expect(cut.attempts).toBe(2);
    // Older than every version given while older versions exist: it can only come after them, so never within the limit.
    expect(rows(timeline(audit, { limit: 3, olderExist: true }).entries)).toEqual(['version 1.2.0', 'attempt 1.3.0 newer rejected 4', 'version 1.1.0']);
  });

  it('an app Marathon never created (its first deploy was refused) still shows its attempts', () => {
    const { entries, attempts } = timeline([refused({ time: T(1), user: 'first' }), refused({ time: T(2), user: 'second', outcome: 'unreachable', exitCode: 8 })], {
      versions: [],
    });
    expect(rows(entries)).toEqual(['attempt 1.3.0 second unreachable 8', 'attempt 1.3.0 first rejected 4']);
    expect(attempts).toBe(2);
  });
});

describe('auditOnlyTimeline (Marathon could not be asked)', () => {
  const only = (audit: AuditRecord[], limit = 20) => auditOnlyTimeline({ app: 'shop-web', env: 'prod', dc: 'AA', audit, limit });
  const rows = (entries: TimelineEntry[]) =>
    entries.map((e) => `${e.kind} ${e.marathonVersion ?? '-'} ${e.version ?? '-'} ${e.audit?.user} ${e.audit?.outcome} ${e.audit?.exitCode ?? '?'}`);

  const cases: { name: string; audit: AuditRecord[]; expected: string[] }[] = [
    {
      name: 'a deploy that created a Marathon version is a version, as recorded; one that created none is an attempt',
      audit: [
        record({ time: T(10, 30), marathonVersion: T(10), toVersion: '1.1.0', exitCode: 0, user: 'alice' }),
        record({ time: T(20), toVersion: '1.2.0', outcome: 'rejected', exitCode: 4, user: 'bob' }),
      ],
      expected: [`attempt - 1.2.0 bob rejected 4`, `version ${T(10)} 1.1.0 alice succeeded 0`],
    },
    {
      name: 'newest first by the time recorded; of two at one time the later written first',
      audit: [
        record({ time: T(5), marathonVersion: T(4), toVersion: '1.0.0', exitCode: 0, user: 'first' }),
        record({ time: T(30), toVersion: '1.3.0', outcome: 'unreachable', exitCode: 8, user: 'same-a' }),
        record({ time: T(30), toVersion: '1.3.0', outcome: 'refused', exitCode: 3, user: 'same-b' }),
      ],
      expected: ['attempt - 1.3.0 same-b refused 3', 'attempt - 1.3.0 same-a unreachable 8', `version ${T(4)} 1.0.0 first succeeded 0`],
    },
    {
      name: 'a failed deploy that was rolled back is a version (it created one), with its outcome',
      audit: [record({ time: T(12), marathonVersion: T(11), toVersion: '1.2.0-crash', outcome: 'failed-rolled-back', exitCode: 5, user: 'carol' })],
      expected: [`version ${T(11)} 1.2.0-crash carol failed-rolled-back 5`],
    },
    {
      name: 'an older record (no exit code) that may have created a version is a version with its Marathon version unknown',
      audit: [
        record({ time: T(8), toVersion: '0.9.0', outcome: 'succeeded', user: 'old' }),
        record({ time: T(7), toVersion: '0.9.0', outcome: 'refused', user: 'old-refused' }),
      ],
      expected: ['version - 0.9.0 old succeeded ?', 'attempt - 0.9.0 old-refused refused ?'],
    },
    {
      name: 'other datacenters, apps and environments do not show; an attempt aimed at this datacenter among others does',
      audit: [
        record({ dc: 'BB', user: 'bb' }),
        record({ app: 'other', user: 'other-app' }),
        record({ env: 'qa', user: 'qa' }),
        record({ dc: undefined, datacenters: ['AA', 'BB'], outcome: 'invalid', exitCode: 2, toVersion: '2.0.0', user: 'both' }),
        record({ dc: undefined, datacenters: ['BB'], outcome: 'invalid', exitCode: 2, user: 'bb-only' }),
      ],
      expected: ['attempt - 2.0.0 both invalid 2'],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(rows(only(c.audit).entries)).toEqual(c.expected);
    });
  }

  it("leaves what only Marathon can say null, keeps what the record says, counts versions and attempts, and cuts at the limit", () => {
    const ci = { system: 'gitlab', job: 'deploy-prod' };
    const audit = [
      record({ time: T(10, 30), marathonVersion: T(10), toVersion: '1.1.0', image: 'registry.example.com/shop/web:1.1.0', exitCode: 0, ci }),
      record({ time: T(20), toVersion: '1.2.0', outcome: 'unreachable', exitCode: 8, message: 'AA: unreachable' }),
      record({ time: T(30), toVersion: '1.3.0', outcome: 'dry-run', exitCode: 0 }),
    ];
    const all = only(audit);
    expect([all.versions, all.attempts]).toEqual([1, 2]);
    expect(all.entries[2]).toEqual({
      kind: 'version',
      marathonVersion: T(10),
      current: null,
      abandoned: null,
      change: null,
      time: T(10, 30),
      version: '1.1.0',
      image: 'registry.example.com/shop/web:1.1.0',
      audit: { user: 'alice', command: 'deploy', outcome: 'succeeded', time: T(10, 30), exitCode: 0, ci },
    });
    const cut = only(audit, 2);
    expect(rows(cut.entries)).toEqual(['attempt - 1.3.0 alice dry-run 0', 'attempt - 1.2.0 alice unreachable 8']);
    expect([cut.versions, cut.attempts]).toEqual([1, 2]);
    expect(only([]).entries).toEqual([]);
  });
});
