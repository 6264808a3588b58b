import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { readAuditRecords } from '../src/audit/log.js';
import { auditTrail } from '../src/audit/trail.js';
import { recordsOwedOnForcedExit, type InFlightDeploy } from '../src/rollout/ledger.js';
import { settledWithin } from '../src/rollout/interrupt.js';

const base = { appId: '/shop/web', version: '2.0.0', image: 'shop/web:2.0.0', datacenters: ['AA', 'BB', 'CC'], signal: 'SIGINT', now: 5_000 };
const at = (over: Partial<InFlightDeploy>): InFlightDeploy => ({ datacenter: 'AA', fromVersion: '1.0.0', phase: 'waiting', startedAt: 1_000, ...over });

describe('recordsOwedOnForcedExit', () => {
  it.each([
    ['between runs: nothing owed', undefined, []],
    [
      'before Marathon answered the PUT',
      at({ phase: 'sending' }),
      [['AA', 'interrupted', 'interrupted (SIGINT, twice) before Marathon answered the change: it may have started a deployment (baton status shows it)'], ['BB', 'skipped', 'not touched: AA interrupted'], ['CC', 'skipped', 'not touched: AA interrupted']],
    ],
    [
      'waiting in the second datacenter',
      at({ datacenter: 'BB', deploymentId: 'd-1', marathonVersion: 'v1' }),
      [['BB', 'interrupted', 'interrupted (SIGINT, twice) while waiting; deployment d-1 continues'], ['CC', 'skipped', 'not touched: BB interrupted']],
    ],
    [
      'during the automatic rollback in the last datacenter',
      at({ datacenter: 'CC', phase: 'rollback', deploymentId: 'd-2' }),
      [['CC', 'interrupted', '2.0.0 failed; interrupted (SIGINT, twice) while rolling back (deployment d-2 was cancelled; the rollback continues)']],
    ],
  ])('%s', (_name, inFlight, expected) => {
    const owed = recordsOwedOnForcedExit({ ...base, inFlight });
    expect(owed.map((r) => [r.dc, r.outcome, r.message])).toEqual(expected);
    for (const record of owed) expect(record.exitCode).toBe(130);
  });

  it('carries what the interrupted datacenter is known to have', () => {
    const [record] = recordsOwedOnForcedExit({ ...base, inFlight: at({ deploymentId: 'd-1', marathonVersion: 'v1' }) });
    expect(record).toMatchObject({ fromVersion: '1.0.0', toVersion: '2.0.0', image: 'shop/web:2.0.0', deploymentId: 'd-1', marathonVersion: 'v1', durationMs: 4_000 });
  });
});

describe('recordsOwedOnForcedExit for a rollback (a target per datacenter)', () => {
  it('takes the in-flight target and each skipped datacenter\'s own', () => {
    const owed = recordsOwedOnForcedExit({
      ...base,
      version: undefined,
      image: undefined,
      datacenters: ['AA', 'BB'],
      skippedFields: (dc) => ({ fromVersion: `${dc}-live`, toVersion: `${dc}-target` }),
      inFlight: at({ toVersion: '1.0.0', image: 'shop/web:1.0.0', phase: 'rollback', deploymentId: 'd-3' }),
    });
    expect(owed.map((r) => [r.dc, r.outcome, r.fromVersion, r.toVersion, r.image])).toEqual([
      ['AA', 'interrupted', '1.0.0', '1.0.0', 'shop/web:1.0.0'],
      ['BB', 'skipped', 'BB-live', 'BB-target', undefined],
    ]);
    expect(owed[0]?.message).toBe('1.0.0 failed; interrupted (SIGINT, twice) while rolling back (deployment d-3 was cancelled; the rollback continues)');
  });
});

describe('settledWithin', () => {
  it.each([
    ['fulfilled', () => Promise.resolve(1), 'fulfilled'],
    ['rejected', () => Promise.reject(new Error('disk full')), 'failed'],
    ['never settles (a stuck disk)', () => new Promise(() => undefined), 'timed-out'],
  ])('%s', async (_name, promise, expected) => {
    expect(await settledWithin(promise(), 50)).toBe(expected);
  });
});

describe('AuditTrail.recordBeforeExit', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-trail-'));
  const saved = process.env.BATON_AUDIT_LOG;
  afterEach(() => {
    process.env.BATON_AUDIT_LOG = saved;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('writes only the datacenters not yet on record, then records nothing more', async () => {
    const file = path.join(dir, 'audit.jsonl');
    process.env.BATON_AUDIT_LOG = file;
    const trail = auditTrail('deploy', 'web', { env: 'qa' });
    trail.record({ dc: 'AA', outcome: 'interrupted', exitCode: 130, message: 'first Ctrl-C' });
    await trail.recordBeforeExit([
      { dc: 'AA', outcome: 'interrupted', exitCode: 130, message: 'second Ctrl-C' },
      { dc: 'BB', outcome: 'skipped', exitCode: 130 },
    ]);
    trail.record({ dc: 'BB', outcome: 'skipped', exitCode: 130, message: 'late' });
    expect(readAuditRecords(file).map((r) => [r.dc, r.outcome, r.message])).toEqual([
      ['AA', 'interrupted', 'first Ctrl-C'],
      ['BB', 'skipped', undefined],
    ]);
  });
});
