import { z } from 'zod';
import { AUTOSCALE_LABEL_FIELDS, AUTOSCALE_LABEL_PREFIX } from '../../src/autoscale/labels.js';
import { registrationSchema, type Registration } from './registration.js';
import { scheduleProblems } from './schedules.js';

/** Marathon labels that register an app declaratively, and the registration field each one sets (the contract is in src/autoscale). */
export const LABEL_FIELDS = AUTOSCALE_LABEL_FIELDS satisfies Record<string, keyof Registration>;

type LabelName = keyof typeof LABEL_FIELDS;
const LABEL_FOR_FIELD = new Map<string, LabelName>(
  Object.entries(LABEL_FIELDS).map(([label, field]) => [field, label as LabelName]),
);

export type LabelRegistration =
  | { kind: 'none' }
  | { kind: 'registered'; registration: Registration }
  | { kind: 'invalid'; errors: string[] };

/** Reads an app's AUTOSCALE_* labels. No such label → not registered; a bad one → errors naming the label, never a throw. */
export function registrationFromLabels(appId: string, labels: Record<string, string> | undefined): LabelRegistration {
  const present = Object.keys(labels ?? {}).filter((key) => key.startsWith(AUTOSCALE_LABEL_PREFIX));
  if (present.length === 0 || !labels) return { kind: 'none' };
  const errors: string[] = [];
  const candidate: Record<string, unknown> = { appId };
  for (const label of present) {
    const value = labels[label] ?? '';
    if (!(label in LABEL_FIELDS)) {
      errors.push(`${label}: unknown label (known: ${Object.keys(LABEL_FIELDS).join(', ')})`);
      continue;
    }
    const field = LABEL_FIELDS[label as LabelName];
    const parsed = parseLabelValue(field, value);
    if (parsed.ok) candidate[field] = parsed.value;
    else errors.push(`${label}: ${parsed.error}, got ${JSON.stringify(value.slice(0, 100))}`);
  }
  if (errors.length === 0) {
    const result = registrationSchema.safeParse(candidate);
    if (result.success) {
      const problems = scheduleProblems(result.data.schedules).map((p) => `AUTOSCALE_SCHEDULES${p.path.slice('schedules'.length)}: ${p.message}`);
      if (problems.length === 0) return { kind: 'registered', registration: result.data };
      return { kind: 'invalid', errors: problems };
    }
    errors.push(...result.error.issues.map((issue) => describeIssue(issue)));
  }
  return { kind: 'invalid', errors };
}

function parseLabelValue(field: string, raw: string): { ok: true; value: unknown } | { ok: false; error: string } {
  const value = raw.trim();
  if (field === 'dryRun') {
    if (value === 'true' || value === 'false') return { ok: true, value: value === 'true' };
    return { ok: false, error: 'expected "true" or "false"' };
  }
  if (field === 'predictive') return parsePredictiveLabel(value);
  if (field === 'schedules') {
    try {
      return { ok: true, value: JSON.parse(value) };
    } catch {
      return { ok: false, error: 'expected a JSON array of schedule windows' };
    }
  }
  const number = parseNumber(value);
  return number === undefined ? { ok: false, error: 'expected a number' } : { ok: true, value: number };
}

/**
 * AUTOSCALE_PREDICTIVE: `true` (every default) or `key=value` pairs separated by commas, e.g.
 * `lookbackWeeks=4,leadMinutes=10,quantile=0.9`: the fields of the REST body's `predictive`, each a number.
 */
function parsePredictiveLabel(value: string): { ok: true; value: unknown } | { ok: false; error: string } {
  if (value === 'true') return { ok: true, value: {} };
  const expected = 'expected "true" or key=value pairs like "lookbackWeeks=4,leadMinutes=10,quantile=0.9"';
  const settings: Record<string, number> = {};
  for (const pair of value.split(',')) {
    const match = /^\s*([A-Za-z]+)\s*=\s*(\S+)\s*$/.exec(pair);
    if (!match) return { ok: false, error: expected };
    const [, key, raw] = match as unknown as [string, string, string];
    if (Object.hasOwn(settings, key)) return { ok: false, error: `${key} is given twice` };
    const number = parseNumber(raw);
    if (number === undefined) return { ok: false, error: `${key}: expected a number` };
    settings[key] = number;
  }
  return { ok: true, value: settings };
}

function parseNumber(value: string): number | undefined {
  return /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value) ? Number(value) : undefined;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const [field, ...rest] = issue.path.map(String);
  const label = field === undefined ? undefined : LABEL_FOR_FIELD.get(field);
  const where = label ? [label, ...rest].join('.') : issue.path.map(String).join('.') || 'labels';
  if (field === 'minInstances' || field === 'maxInstances') {
    if (issue.code === 'invalid_type') return `${where}: is required`;
  }
  return `${where}: ${issue.message}`;
}
