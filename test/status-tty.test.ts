import { describe, expect, it } from 'vitest';
import { webApp } from './support/deploy-fixture.js';
import { deployAs, qaAndProdWithOneDown } from './support/releases.js';
import { runOnTty } from './support/tty.js';

describe('baton status on a terminal', () => {
  const dcs = qaAndProdWithOneDown();

  it('paints and fits the terminal width, and leaves colour out when NO_COLOR is set or TERM=dumb', async () => {
    const fixture = dcs.fixture;
    fixture.writeApp('a-rather-long-application-name', { 'qa-deploy.json': webApp('/tty/long', { instances: 1 }) });
    await deployAs(fixture, 'alice', ['a-rather-long-application-name', '--env', 'qa', '--version', '1.0.0-with-a-long-build-suffix']);

    const coloured = await runOnTty(['status', '--env', 'qa'], { ...fixture.env, NO_COLOR: undefined, COLUMNS: undefined }, { columns: 64, term: 'xterm-256color' });
    expect(coloured.code, coloured.screen).toBe(0);
    expect(coloured.screen).toContain('\u001b[32mhealthy');
    const rows = coloured.screen.replace(/\u001b\[\d+m/g, '').split(/\r?\n/).filter((l) => /^(APP|a-rather)/.test(l));
    expect(rows).toHaveLength(3);
    for (const row of rows) expect(row.length).toBeLessThanOrEqual(64);

    const plain = await runOnTty(['status', '--env', 'qa'], { ...fixture.env, NO_COLOR: '1', COLUMNS: undefined }, { columns: 64, term: 'xterm-256color' });
    expect(plain.code).toBe(0);
    expect(plain.screen).toContain('healthy');
    expect(plain.screen).not.toContain('\u001b[');

    const dumb = await runOnTty(['status', '--env', 'qa'], { ...fixture.env, NO_COLOR: undefined, COLUMNS: undefined }, { columns: 64, term: 'dumb' });
    expect(dumb.screen).toContain('healthy');
    expect(dumb.screen).not.toContain('\u001b[');
  });
});
