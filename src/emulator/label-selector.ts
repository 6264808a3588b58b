import type { JsonObject } from './definition.js';

/**
 * Marathon's label selector: comma-separated terms, all must hold. `key`, `key==value`, `key!=value`,
 * `key in (a, b)`, `key notin (a, b)`; a backslash escapes the next character. Null when unparseable.
 */
export function parseLabelSelector(query: string): ((labels: JsonObject) => boolean) | null {
  const terms: string[] = [];
  let current = '';
  let depth = 0;
  for (let i = 0; i < query.length; i++) {
    const char = query[i] as string;
    if (char === '\\' && i + 1 < query.length) {
      current += `\\${query[++i]}`;
      continue;
    }
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      terms.push(current);
      current = '';
    } else current += char;
  }
  terms.push(current);
  const unescape = (s: string) => s.trim().replace(/\\(.)/g, '$1');
  const checks: ((labels: JsonObject) => boolean)[] = [];
  for (const term of terms.map((t) => t.trim())) {
    if (term === '') return null;
    const set = /^(.+?)\s+(in|notin)\s+\((.*)\)$/.exec(term);
    if (set) {
      const key = unescape(set[1] as string);
      const values = (set[3] as string).split(',').map(unescape);
      const negate = set[2] === 'notin';
      checks.push((labels) => typeof labels[key] === 'string' && values.includes(labels[key] as string) !== negate);
      continue;
    }
    const equality = /^(.+?)\s*(==|!=)\s*(.*)$/.exec(term);
    if (equality) {
      const key = unescape(equality[1] as string);
      const value = unescape(equality[3] as string);
      const negate = equality[2] === '!=';
      checks.push((labels) => typeof labels[key] === 'string' && (labels[key] === value) !== negate);
      continue;
    }
    const key = unescape(term);
    checks.push((labels) => labels[key] !== undefined);
  }
  return (labels) => checks.every((check) => check(labels));
}
