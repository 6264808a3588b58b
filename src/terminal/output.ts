/** Terminal conventions shared by every command: NO_COLOR, TTY detection, live line vs plain lines. */

export interface Terminal {
  readonly isTty: boolean;
  readonly color: boolean;
  /** Writes a line to stderr (human output goes to stderr when --json owns stdout). */
  info(line: string): void;
  /**
   * Progress: rewrites one live line on a TTY, prints a plain line otherwise, only when `changeKey` (default: the line)
   * changed, so a ticking clock alone does not fill a CI log.
   */
  progress(line: string, changeKey?: string): void;
  /** Ends the live line, if any, so the next output starts on a fresh line. */
  endProgress(): void;
}

/**
 * Whether lines written to `stream` may carry colour: decided per stream, so `> log` or `| tee` never gets escape codes
 * while the other stream is a terminal. NO_COLOR wins, then FORCE_COLOR; TERM=dumb and terminals without colours have none.
 */
export function colorEnabled(stream: NodeJS.WriteStream = process.stdout): boolean {
  if (process.env.NO_COLOR !== undefined && process.env.NO_COLOR !== '') return false;
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (!stream.isTTY || process.env.TERM === 'dumb') return false;
  return typeof stream.hasColors === 'function' ? stream.hasColors() : true;
}

const codes = { red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36, gray: 90, bold: 1, dim: 2 } as const;
export type Style = keyof typeof codes;

export function paint(enabled: boolean, style: Style, text: string): string {
  return enabled ? `\u001b[${codes[style]}m${text}\u001b[0m` : text;
}

/**
 * `stream` carries progress; `linesStream` the lines the command prints (stdout, or stderr when --json owns stdout), so
 * `color` is that stream's.
 */
export function createTerminal(options: { stream?: NodeJS.WriteStream; linesStream?: NodeJS.WriteStream } = {}): Terminal {
  const stream = options.stream ?? process.stderr;
  const isTty = Boolean(stream.isTTY) && process.env.CI !== 'true';
  let live = false;
  let lastPlain = '';
  return {
    isTty,
    color: colorEnabled(options.linesStream ?? stream),
    info(line) {
      if (live) {
        stream.write('\r\u001b[2K');
        live = false;
      }
      stream.write(`${line}\n`);
    },
    progress(line, changeKey = line) {
      if (isTty) {
        const width = stream.columns ?? 120;
        stream.write(`\r\u001b[2K${line.length > width - 1 ? `${line.slice(0, width - 2)}…` : line}`);
        live = true;
      } else if (changeKey !== lastPlain) {
        stream.write(`${line}\n`);
        lastPlain = changeKey;
      }
    },
    endProgress() {
      if (live) {
        stream.write('\n');
        live = false;
      }
    },
  };
}
