import { describe, expect, it } from 'vitest';
import { runBaton } from './support/cli.js';

describe('baton CLI basics', () => {
  it('prints help with the exit codes and exits 0', async () => {
    const result = await runBaton(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: baton');
    expect(result.stdout).toContain('Exit codes');
  });

  it('rejects an unknown command with exit code 2', async () => {
    const result = await runBaton(['no-such-command']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/unknown command|too many arguments/i);
  });
});
