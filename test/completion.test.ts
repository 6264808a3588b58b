import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { baseEnv, repoRoot, runBaton } from './support/cli.js';

/** What bash's completion offers for `words` (the last one being typed), with the script `baton completion bash` prints. */
function bashCompletes(words: string[]): string[] {
  const script = [
    'eval "$(baton completion bash)"',
    `COMP_WORDS=(baton ${words.map((w) => `'${w}'`).join(' ')})`,
    `COMP_CWORD=${words.length}`,
    '_baton_complete',
    'printf "%s\\n" "${COMPREPLY[@]}"',
  ].join('\n');
  const result = spawnSync('bash', ['-c', script], {
    cwd: repoRoot,
    env: { ...baseEnv(), PATH: `${path.join(repoRoot, 'bin')}:${process.env.PATH}` } as NodeJS.ProcessEnv,
    encoding: 'utf8',
  });
  return result.stdout.split('\n').filter(Boolean);
}

describe('baton completion', () => {
  it('bash: commands, then apps, environments and datacenters of the config dir, and the flags of the command', () => {
    expect(bashCompletes(['de'])).toEqual(['deploy']);
    expect(bashCompletes(['deploy', ''])).toEqual(['baton-autoscaler', 'order-worker', 'shop-web']);
    expect(bashCompletes(['deploy', 'shop-web', '--env', ''])).toEqual(['local', 'qa', 'yz', 'prod']);
    expect(bashCompletes(['deploy', 'shop-web', '--env', 'prod', '--dc', ''])).toEqual(['all', 'AA', 'BB']);
    expect(bashCompletes(['rollback', 'shop-web', '--to'])).toEqual(['--to']);
    expect(bashCompletes(['deploy', 'shop-web', '--stab'])).toEqual(['--stable-seconds']);
  });

  it('zsh: the script defines the completion function; an unknown shell is exit 2', async () => {
    const zsh = await runBaton(['completion', 'zsh']);
    expect([zsh.code, zsh.stdout]).toEqual([0, expect.stringContaining('compdef _baton baton')]);
    const fish = await runBaton(['completion', 'fish']);
    expect([fish.code, fish.stderr]).toEqual([2, 'baton: completion fish: expected bash or zsh\n']);
    expect((await runBaton(['--help'])).stdout).not.toContain('__complete');
  });
});
