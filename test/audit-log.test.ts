import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendAuditRecord, readAuditRecords } from '../src/audit/log.js';

describe('the audit log', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'baton-audit-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('reads records written before exitCode and datacenters existed, and drops only a mistyped new field, not the record', () => {
    const file = path.join(dir, 'audit.jsonl');
    const old = { time: '2024-05-02T10:00:00.000Z', user: 'alice', command: 'deploy', app: 'web', env: 'qa', dc: 'AA', outcome: 'succeeded', toVersion: '1.0.0' };
    const mistyped = { ...old, user: 'bob', exitCode: 'four', datacenters: 'AA' };
    const current = { ...old, user: 'carol', dc: undefined, outcome: 'refused', exitCode: 3, datacenters: ['AA', 'BB'] };
    fs.writeFileSync(file, `${JSON.stringify(old)}\n${JSON.stringify(mistyped)}\n{"time": "torn`);
    appendAuditRecord(current as never, file);

    const records = readAuditRecords(file);
    expect(records.map((r) => [r.user, r.exitCode, r.datacenters])).toEqual([
      ['alice', undefined, undefined],
      ['bob', undefined, undefined],
      ['carol', 3, ['AA', 'BB']],
    ]);
    expect(records[1]).toMatchObject({ outcome: 'succeeded', toVersion: '1.0.0' });
  });
});
