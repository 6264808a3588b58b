import type { z } from 'zod';

/** One problem found in a JSON document: where (a JSON pointer, "/" for the root) and what is wrong and expected. */
export interface Issue {
  path: string;
  message: string;
}

/** A problem in one config file. `path` is a JSON pointer, or "" when the problem is the file as a whole. */
export interface ConfigIssue extends Issue {
  file: string;
  line?: number;
  column?: number;
}

/** "file:line:column: message" for syntax errors, "file: /json/path: message" otherwise. */
export function formatConfigIssue(issue: ConfigIssue): string {
  const where = issue.line !== undefined ? `${issue.file}:${issue.line}:${issue.column}` : issue.file;
  return issue.path === '' ? `${where}: ${issue.message}` : `${where}: ${issue.path}: ${issue.message}`;
}

export type PathSegment = string | number;

/** RFC 6901 JSON pointer for a path; the root is "/" (as Marathon reports it) rather than the empty string. */
export function toPointer(path: readonly PropertyKey[]): string {
  if (path.length === 0) return '/';
  return path.map((segment) => `/${String(segment).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function childPointer(pointer: string, ...segments: PathSegment[]): string {
  return segments.length === 0 ? pointer : `${pointer === '/' ? '' : pointer}${toPointer(segments)}`;
}

export function describeType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return `a string (${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case 'number':
      return Number.isInteger(value) ? `the integer ${value}` : `the number ${value}`;
    case 'boolean':
      return `${value}`;
    case 'object':
      return 'an object';
    default:
      return typeof value;
  }
}

const expectedNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array',
  record: 'an object',
};

/**
 * Error map for zod parses: turns zod's generic texts into "what is wrong: what is expected".
 * Schema-level messages (set where the context is known, e.g. "between 0 and 1") take precedence over this map.
 */
export function explainZodIssue(issue: z.core.$ZodRawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type': {
      const expected = expectedNames[issue.expected] ?? issue.expected;
      if (input === undefined) return `is required: expected ${expected}`;
      return `is ${describeType(input)}: expected ${expected}`;
    }
    case 'invalid_value': {
      const allowed = issue.values.map((v) => JSON.stringify(v)).join(', ');
      return issue.values.length === 1
        ? `is ${JSON.stringify(input)}: expected ${allowed}`
        : `is ${JSON.stringify(input)}: expected one of ${allowed}`;
    }
    case 'too_small': {
      const bound = Number(issue.minimum);
      if (issue.origin === 'string') {
        return bound <= 1 ? 'is empty: expected a non-empty string' : `is too short: expected at least ${bound} characters`;
      }
      if (issue.origin === 'array') return `has too few items: expected at least ${bound}`;
      return issue.inclusive
        ? `is less than ${bound}: expected a number >= ${bound}`
        : `is not greater than ${bound}: expected a number > ${bound}`;
    }
    case 'too_big': {
      const bound = Number(issue.maximum);
      if (issue.origin === 'string') return `is too long: expected at most ${bound} characters`;
      if (issue.origin === 'array') return `has too many items: expected at most ${bound}`;
      return issue.inclusive
        ? `is greater than ${bound}: expected a number <= ${bound}`
        : `is not less than ${bound}: expected a number < ${bound}`;
    }
    case 'invalid_format':
      return `is ${describeType(input)}: expected a value matching ${'pattern' in issue ? String(issue.pattern) : issue.format}`;
    case 'unrecognized_keys':
      return `has unknown fields: ${issue.keys.join(', ')}`;
    default:
      return undefined;
  }
}

/**
 * Flattens zod issues into Issues. A failed union with a branch that only failed deeper inside reports that
 * branch, so `{"secrt": "x"}` as an env value says "/env/X/secret: is required" instead of the union's summary.
 */
export function fromZodIssues(issues: readonly z.core.$ZodIssue[], prefix: readonly PropertyKey[] = []): Issue[] {
  const result: Issue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      // A branch whose complaints are all inside the value matched its type: that is the branch that was meant.
      const matchedType = issue.errors.filter((branch) => branch.length > 0 && branch.every((nested) => nested.path.length > 0));
      const closest = matchedType.sort((a, b) => a.length - b.length)[0];
      if (closest) {
        result.push(...fromZodIssues(closest, path));
        continue;
      }
    }
    result.push({ path: toPointer(path), message: issue.message });
  }
  return result;
}
