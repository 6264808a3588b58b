import { spawn } from 'node:child_process';
import { baseEnv, batonBin, repoRoot } from './cli.js';

/**
 * Runs baton on a real pseudo-terminal (util-linux `script`), as a person at a terminal would: `columns` wide, typing
 * `answer` once a "… to continue:" prompt shows. `screen` is everything the terminal showed (stdout and stderr).
 */
export function runOnTty(
  args: string[],
  env: Record<string, string | undefined>,
  /** `stdoutTo`: a file the command's stdout is redirected to (`> log`), stderr staying on the terminal; `term`: TERM. */
  options: { answer?: string; columns?: number; stdoutTo?: string; term?: string; teeTo?: string } = {},
): Promise<{ code: number | null; screen: string }> {
  const quote = (a: string) => `'${a.replace(/'/g, `'\\''`)}'`;
  const baton = [process.execPath, batonBin, ...args].map(quote).join(' ') + (options.stdoutTo ? ` > ${quote(options.stdoutTo)}` : '') + (options.teeTo ? ` 2>&1 | tee ${quote(options.teeTo)}` : '');
  const command = options.columns ? `stty cols ${options.columns} rows 50; ${baton}` : baton;
  return new Promise((resolve) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd: repoRoot,
      env: { ...baseEnv(), ...env, CI: '', TERM: options.term ?? 'dumb' } as NodeJS.ProcessEnv,
    });
    let screen = '';
    let answered = false;
    child.stdout.on('data', (d) => {
      screen += d;
      if (options.answer !== undefined && !answered && screen.includes('to continue:')) {
        answered = true;
        child.stdin.write(`${options.answer}\r`);
      }
    });
    child.on('close', (code) => resolve({ code, screen }));
  });
}
