import readline from 'node:readline';

/**
 * Asks on the terminal and requires the exact phrase back (e.g. "yes prod"), so a reflexive "y" cannot deploy to the
 * wrong environment. Returns false on any other answer or when input ends.
 */
export async function confirmByTyping(question: string, phrase: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const answer = await new Promise<string | null>((resolve) => {
      rl.question(`${question} Type "${phrase}" to continue: `, resolve);
      rl.once('close', () => resolve(null));
    });
    return answer !== null && answer.trim() === phrase;
  } finally {
    rl.close();
  }
}

export function stdinIsInteractive(): boolean {
  return Boolean(process.stdin.isTTY) && Boolean(process.stderr.isTTY);
}
