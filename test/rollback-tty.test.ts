import { describe, expect, it } from 'vitest';
import { webApp } from './support/deploy-fixture.js';
import { deployAs, qaAndProdWithOneDown } from './support/releases.js';
import { runOnTty } from './support/tty.js';

describe('baton rollback on a terminal', () => {
  const dcs = qaAndProdWithOneDown();

  it('asks for "yes <env>" in a confirm environment like deploy; "y" is not enough and nothing is sent', async () => {
    const fixture = dcs.fixture;
    fixture.writeApp('web', { 'prod-deploy.json': webApp('/tty/web', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--dc', 'AA', '--version', '1.0.0', '--yes']);
    await deployAs(fixture, 'alice', ['web', '--env', 'prod', '--dc', 'AA', '--version', '1.1.0', '--yes']);
    const writes = async () => (await dcs.aa.requests()).filter((r) => r.method !== 'GET').length;
    const before = await writes();

    const declined = await runOnTty(['rollback', 'web', '--env', 'prod', '--dc', 'AA'], fixture.env, { answer: 'y' });
    expect(declined.screen).toContain('Roll back web in prod (AA 1.1.0 → 1.0.0)? Type "yes prod" to continue:');
    expect(declined.code).toBe(3);
    expect(await writes()).toBe(before);

    const confirmed = await runOnTty(['rollback', 'web', '--env', 'prod', '--dc', 'AA'], fixture.env, { answer: 'yes prod' });
    expect(confirmed.code, confirmed.screen).toBe(0);
    expect(confirmed.screen).toContain('rolled back to 1.0.0: runs healthy');
    expect(confirmed.screen).toMatch(/\r\u001b\[2KAA: .*running/);
    expect(fixture.auditLines().filter((l) => l.command === 'rollback').map((l) => l.outcome)).toEqual(['refused', 'succeeded']);
  });
});
