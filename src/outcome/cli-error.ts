import type { ExitCodeValue } from './exit-codes.js';

/** An error meant for the person at the terminal: a message, the exit code, and optional structured detail for --json. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly code: string,
    readonly detail: Record<string, unknown> = {},
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { error: this.code, message: this.message, ...this.detail };
  }
}
