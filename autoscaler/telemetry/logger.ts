// Structured logs: one JSON object a line. Every line goes through the secret scrubber as a last line of defence,
// on top of never passing secrets to the logger in the first place.
import type { Scrub } from './scrub.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
}

const LEVEL_RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export interface JsonLoggerOptions {
  write: (line: string) => void;
  level?: LogLevel;
  /** Removes credentials from each line (see scrub.ts). */
  scrub?: Scrub;
  clock?: () => number;
}

export function createJsonLogger(options: JsonLoggerOptions): Logger {
  const minimum = LEVEL_RANK[options.level ?? 'info'];
  const scrub = options.scrub ?? ((line: string) => line);
  const clock = options.clock ?? Date.now;
  const log = (level: LogLevel, msg: string, fields: Record<string, unknown> = {}) => {
    if (LEVEL_RANK[level] < minimum) return;
    const line = JSON.stringify({ time: new Date(clock()).toISOString(), level, msg, ...fields }, errorReplacer);
    options.write(`${scrub(line)}\n`);
  };
  return {
    debug: (msg, fields) => log('debug', msg, fields),
    info: (msg, fields) => log('info', msg, fields),
    warn: (msg, fields) => log('warn', msg, fields),
    error: (msg, fields) => log('error', msg, fields),
  };
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  return value;
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
