import { describe, expect, it } from 'vitest';
import type { AuditRecord } from '../src/audit/log.js';
import { joinHistory, type MarathonVersion } from '../src/status/history.js';

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
