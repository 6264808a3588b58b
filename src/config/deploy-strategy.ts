import { z } from 'zod';
import { explainZodIssue, fromZodIssues, type Issue } from './issue.js';
import { findUnknownFields, suggestKey } from './unknown-fields.js';

// <config-dir>/<app>/baton.json: how an app is deployed when `baton deploy` is not told (--strategy), and the blue/green
// settings and integration tests. Optional: without it an app deploys rolling.

export type StrategyName = 'rolling' | 'blue-green';

/** A command run as a test: exit 0 passes; it is killed (its whole process group) after `timeoutSeconds`. */
export interface IntegrationTest {
  command: string;
  timeoutSeconds: number;
}

export interface BlueGreenSettings {
  /** The port users reach on the load balancer (HAPROXY_0_PORT); the colours' service port alternates with altPort. */
  publicPort: number;
  altPort: number;
  /** Keep the colour that no longer serves at 0 instances (an instant `baton rollback`) instead of deleting it. */
  keepOldColour: boolean;
  /** After the candidate is healthy, how long it must stay so before tests (crash-after-healthy is caught unseen). */
  watchSeconds: number;
  /** After a switch, how long marathon-lb gets to reload HAProxy before the proxy is tested or a colour is removed. */
  settleSeconds: number;
}

export interface AppDeploySettings {
  strategy: StrategyName;
  blueGreen?: BlueGreenSettings;
  preIntegration?: IntegrationTest;
  postIntegration?: IntegrationTest;
}

const port = (what: string) =>
  z
    .number({ error: `expected ${what} as a TCP port number, e.g. 10000` })
    .int({ error: `expected ${what} as a whole port number` })
    .min(1, { error: 'expected a port from 1 to 65535' })
    .max(65535, { error: 'expected a port from 1 to 65535' });

const seconds = (what: string, max: number) =>
  z
    .number({ error: `expected ${what} in seconds` })
    .min(0, { error: 'expected 0 or more seconds' })
    .max(max, { error: `expected at most ${max} seconds` });

const testSchema = (name: string) =>
  z.strictObject(
    {
      command: z
        .string({ error: (issue) => `${issue.input === undefined ? 'is required: ' : ''}expected the test as a shell command string, e.g. "./tests/${name}.sh"` })
        .min(1, { error: 'is empty: expected a shell command' }),
      timeoutSeconds: z
        .number({ error: 'expected the time limit in seconds' })
        .min(1, { error: 'expected at least 1 second' })
        .max(3600, { error: 'expected at most 3600 seconds' })
        .optional(),
    },
    { error: `expected {"command": "...", "timeoutSeconds": 60}` },
  );

export const appDeploySettingsSchema = z.strictObject({
  $schema: z.string().optional(),
  strategy: z.enum(['rolling', 'blue-green'], { error: 'expected "rolling" or "blue-green"' }).optional(),
  blueGreen: z
    .strictObject(
      {
        publicPort: port('the public (load balancer) port'),
        altPort: port('the alternate service port'),
        keepOldColour: z.boolean({ error: 'expected true (keep the old colour at 0 instances) or false (delete it)' }).optional(),
        watchSeconds: seconds('how long the healthy candidate is watched', 3600).optional(),
        settleSeconds: seconds('the pause after a switch', 600).optional(),
      },
      { error: 'expected {"publicPort": 10000, "altPort": 10001}' },
    )
    .optional(),
  preIntegration: testSchema('pre-integration').optional(),
  postIntegration: testSchema('post-integration').optional(),
});

export const DEFAULT_TEST_TIMEOUT_SECONDS = 60;
const DEFAULT_SETTLE_SECONDS = 2;

export type AppDeploySettingsResult = { ok: true; settings: AppDeploySettings } | { ok: false; issues: Issue[] };

/** Checks a parsed baton.json; every problem found, each with its JSON path. Pure. */
export function parseAppDeploySettings(value: unknown): AppDeploySettingsResult {
  const parsed = appDeploySettingsSchema.safeParse(value, { error: explainZodIssue });
  if (!parsed.success) {
    const unknown = findUnknownFields(appDeploySettingsSchema, value).map((field): Issue => {
      const suggestion = suggestKey(field.key, field.knownKeys);
      return { path: field.pointer, message: `is not a known field${suggestion ? `: did you mean ${suggestion}?` : `: expected one of ${field.knownKeys.filter((k) => k !== '$schema').join(', ')}`}` };
    });
    // Unknown keys are told by findUnknownFields, with a suggestion.
    const known = fromZodIssues(parsed.error.issues.filter((issue) => issue.code !== 'unrecognized_keys'));
    return { ok: false, issues: [...known, ...unknown] };
  }
  const data = parsed.data;
  const issues: Issue[] = [];
  const strategy = data.strategy ?? (data.blueGreen ? 'blue-green' : 'rolling');
  if (data.blueGreen && data.blueGreen.publicPort === data.blueGreen.altPort) {
    issues.push({ path: '/blueGreen/altPort', message: 'equals publicPort: expected another port (the colours alternate between the two)' });
  }
  if (strategy === 'blue-green' && !data.blueGreen) {
    issues.push({ path: '/blueGreen', message: 'is required with "strategy": "blue-green": expected {"publicPort": 10000, "altPort": 10001}' });
  }
  if (issues.length > 0) return { ok: false, issues };
  const test = (t: { command: string; timeoutSeconds?: number | undefined } | undefined): IntegrationTest | undefined =>
    t ? { command: t.command, timeoutSeconds: t.timeoutSeconds ?? DEFAULT_TEST_TIMEOUT_SECONDS } : undefined;
  const pre = test(data.preIntegration);
  const post = test(data.postIntegration);
  return {
    ok: true,
    settings: {
      strategy,
      ...(data.blueGreen
        ? {
            blueGreen: {
              publicPort: data.blueGreen.publicPort,
              altPort: data.blueGreen.altPort,
              keepOldColour: data.blueGreen.keepOldColour ?? false,
              watchSeconds: data.blueGreen.watchSeconds ?? 0,
              settleSeconds: data.blueGreen.settleSeconds ?? DEFAULT_SETTLE_SECONDS,
            },
          }
        : {}),
      ...(pre ? { preIntegration: pre } : {}),
      ...(post ? { postIntegration: post } : {}),
    },
  };
}
