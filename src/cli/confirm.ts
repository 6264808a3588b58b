import fs from 'node:fs';
import readline from 'node:readline';
import type { Writable } from 'node:stream';

import type { ConfirmAnswer } from '../terminal/confirm-answer.js';

/**
 * Asks on the terminal and requires the exact phrase back (e.g. "yes prod"), so a reflexive "y" cannot deploy to the
 * wrong environment. Any other answer, or input ending, declines; Ctrl-C at the prompt is told apart so the audit log can say so.
 */
export async function confirmByTyping(question: string, phrase: string): Promise<ConfirmAnswer> {
  const output = promptOutput();
  const rl = readline.createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<ConfirmAnswer>((resolve) => {
      rl.question(`${question} Type "${phrase}" to continue: `, (answer) => resolve(answer.trim() === phrase ? 'confirmed' : 'declined'));
      // On a terminal readline reads Ctrl-C as a key, not a signal: with a listener it emits SIGINT instead of closing.
      rl.once('SIGINT', () => resolve('interrupted'));
      rl.once('close', () => resolve('declined'));
    });
  } finally {
    rl.close();
    if (output !== process.stderr) output.end();
  }
}

/**
 * Where the question goes: stderr on a terminal; with stderr piped (`2>&1 | tee log`) the controlling terminal itself,
 * where the person who must answer is looking.
 */
function promptOutput(): Writable {
  if (process.stderr.isTTY) return process.stderr;
  try {
    return fs.createWriteStream('', { fd: fs.openSync('/dev/tty', 'w') });
  } catch {
    return process.stderr;
  }
}

/** A person can answer: stdin is a terminal (stdout and stderr may be piped, e.g. to tee). */
export function stdinIsInteractive(): boolean {
  return Boolean(process.stdin.isTTY);
}
