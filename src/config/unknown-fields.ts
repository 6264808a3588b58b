import type { z } from 'zod';
import { childPointer, type Issue } from './issue.js';

/** A field that the schema does not know at that place, with the known fields next to it (for suggestions). */
export interface UnknownField {
  pointer: string;
  key: string;
  knownKeys: string[];
}

type AnySchema = z.core.$ZodType;

/**
 * Walks a value alongside a zod schema and reports object keys the schema does not declare.
 * Record keys (labels, env, secrets) are free-form and never reported.
 */
export function findUnknownFields(schema: AnySchema, value: unknown, pointer = '/'): UnknownField[] {
  const found: UnknownField[] = [];
  walk(schema, value, pointer, found);
  return found;
}

function walk(schema: AnySchema, value: unknown, pointer: string, found: UnknownField[]): void {
  if (value === null || value === undefined) return;
  const def = schema._zod.def as z.core.$ZodTypeDef & Record<string, unknown>;
  switch (def.type) {
    case 'optional':
    case 'nullable':
    case 'default':
    case 'readonly':
    case 'nonoptional':
      walk(def.innerType as AnySchema, value, pointer, found);
      return;
    case 'pipe':
      walk(def.in as AnySchema, value, pointer, found);
      return;
    case 'object': {
      if (!isPlainObject(value)) return;
      const shape = def.shape as Record<string, AnySchema>;
      const knownKeys = Object.keys(shape);
      for (const [key, child] of Object.entries(value)) {
        const childSchema = shape[key];
        if (childSchema === undefined) found.push({ pointer: childPointer(pointer, key), key, knownKeys });
        else walk(childSchema, child, childPointer(pointer, key), found);
      }
      return;
    }
    case 'array':
      if (Array.isArray(value)) value.forEach((item, index) => walk(def.element as AnySchema, item, childPointer(pointer, index), found));
      return;
    case 'record':
      if (isPlainObject(value)) {
        for (const [key, child] of Object.entries(value)) walk(def.valueType as AnySchema, child, childPointer(pointer, key), found);
      }
      return;
    case 'union': {
      const options = def.options as AnySchema[];
      const branch = closestBranch(options, value);
      if (branch) walk(branch, value, pointer, found);
      return;
    }
    default:
      return;
  }
}

/** The union branch the value was meant for: the first that accepts it, else the one with the fewest complaints. */
function closestBranch(options: AnySchema[], value: unknown): AnySchema | undefined {
  let best: { schema: AnySchema; count: number } | undefined;
  for (const option of options) {
    const result = (option as z.ZodType).safeParse(value);
    if (result.success) return option;
    const count = result.error.issues.length;
    if (!best || count < best.count) best = { schema: option, count };
  }
  return best?.schema;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "unknown field: Marathon ignores it" plus a "did you mean" for near misses (typos, case, singular/plural). */
export function unknownFieldWarning(field: UnknownField): Issue {
  const suggestion = suggestKey(field.key, field.knownKeys);
  const hint = suggestion ? `: did you mean ${suggestion}?` : '';
  return { path: field.pointer, message: `unknown field "${field.key}" (Marathon ignores it)${hint}` };
}

export function suggestKey(key: string, candidates: readonly string[]): string | undefined {
  const lower = key.toLowerCase();
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const candidateLower = candidate.toLowerCase();
    if (candidateLower === lower) return candidate;
    const distance = editDistance(lower, candidateLower);
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  const tolerance = key.length <= 4 ? 1 : key.length <= 8 ? 2 : 3;
  if (best && best.distance <= tolerance) return best.candidate;
  // "forcePull" for "forcePullImage": a truncated name is a near miss too.
  if (key.length >= 4) return candidates.find((candidate) => candidate.toLowerCase().startsWith(lower));
  return undefined;
}

/** Levenshtein distance with adjacent transpositions counted as one edit ("intsances"). */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, d[i - 2]![j - 2]! + 1);
      d[i]![j] = value;
    }
  }
  return d[a.length]![b.length]!;
}
