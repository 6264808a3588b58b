import readline from 'node:readline';

export type ConfirmAnswer = 'confirmed' | 'declined' | 'interrupted';

/**
 * Asks on the terminal and requires the exact phrase back (e.g. "yes prod"), so a reflexive "y" cannot deploy to the
 * wrong environment. Any other answer, or input ending, declines; Ctrl-C at the prompt is told apart so the audit log can say so.
 */
export async function confirmByTyping(question: string, phrase: string): Promise<ConfirmAnswer> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    return await new Promise<ConfirmAnswer>((resolve) => {
      rl.question(`${question} Type "${phrase}" to continue: `, (answer) => resolve(answer.trim() === phrase ? 'confirmed' : 'declined'));
      // On a terminal readline reads Ctrl-C as a key, not a signal: with a listener it emits SIGINT instead of closing.
      rl.once('SIGINT', () => resolve('interrupted'));
      rl.once('close', () => resolve('declined'));
    });
  } finally {
    rl.close();
  }
}

export function stdinIsInteractive(): boolean {
  return Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
}
