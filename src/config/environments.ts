import { z } from 'zod';
import { childPointer, explainZodIssue, fromZodIssues, type Issue } from './issue.js';
import { findUnknownFields, suggestKey } from './unknown-fields.js';

// <config-dir>/environments.json: which environments exist, whether they need confirmation, and the Marathon
// of each datacenter. Credentials are never in this file: it names the environment variables that hold them.

export interface DatacenterConfig {
  name: string;
  marathon: string;
  /** Name of the environment variable holding "user:password" for HTTP Basic auth. */
  credentialsEnv?: string;
  /** Name of the environment variable holding a DC/OS token (sent as "Authorization: token=<token>"). */
  tokenEnv?: string;
  /** Base URL of the datacenter's marathon-lb (HAProxy); blue/green's post-integration tests reach the app at its public port there. */
  loadBalancer?: string;
}

export interface EnvironmentConfig {
  name: string;
  /** Deploys ask for confirmation (or --yes) and refuse mutable tags. */
  confirm: boolean;
  /** Tags that move (e.g. "latest"): refused in confirm environments. */
  mutableTags: string[];
  /** In file order: the order deploys go through them. */
  datacenters: DatacenterConfig[];
  /** Deploys check that image:version exists in the registry before touching Marathon; false for registries this machine cannot reach. */
  imageCheck: boolean;
  /** After a deployment ends, how long new tasks must stay healthy before the deploy counts as done (0: no watch period). */
  stableSeconds: number;
  /** Ctrl-C/SIGTERM reverts the running change (and verifies it) instead of leaving it running: for CI jobs that get aborted. */
  rollbackOnInterrupt: boolean;
  /** Where to tell that a deploy or rollback ended (src/notify/webhook.ts); empty: nowhere. */
  notify: NotifyTarget[];
  /** The shared audit sink of environments.json's top-level "audit" (the same for every environment); absent: local log only. */
  audit?: AuditSinkConfig;
}

/** `"audit": {"influx": {...}}`: every audit record is also written to this InfluxDB 1.x database, and read back by history and rollback. */
export interface AuditSinkConfig {
  influx: {
    /** Base URL without userinfo, e.g. "http://influxdb.internal:8086". */
    url: string;
    database: string;
    /** Name of the environment variable holding "user:password"; absent: InfluxDB without authentication. */
    credentialsEnv?: string;
  };
}

/** One notification target: a webhook whose URL (a secret: Slack's carry a token) is in the environment variable `urlEnv`. */
export interface NotifyTarget {
  webhook: { urlEnv: string };
}

export const defaultMutableTags = ['latest'];

const namePattern = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const nameRule = 'letters, digits, ".", "_" and "-", starting with a letter or digit';
const envVarName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'is not an environment variable name: expected letters, digits and "_", e.g. "BATON_MARATHON_PROD_AA"' });

/** A base URL (Marathon's, InfluxDB's). Its text is never echoed in messages: it could hold a password. */
function baseUrl(what: string, example: string, credentialsHint: string) {
  return z.string({ error: `expected the ${what} URL as a string, e.g. "${example}"` }).check((ctx) => {
    let url: URL;
    try {
      url = new URL(ctx.value);
    } catch {
      ctx.issues.push({ code: 'custom', input: undefined, message: `is not a URL: expected e.g. "${example}"` });
      return;
    }
    if (url.username !== '' || url.password !== '') {
      ctx.issues.push({
        code: 'custom',
        input: undefined,
        message: `contains credentials (user:password@): secrets never go into config files; remove them from the URL and ${credentialsHint}`,
      });
    } else if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      ctx.issues.push({ code: 'custom', input: undefined, message: `uses ${url.protocol.replace(/:$/, '')}: expected an http:// or https:// URL` });
    } else if (url.search !== '' || url.hash !== '') {
      ctx.issues.push({ code: 'custom', input: undefined, message: `has a query or fragment: expected the ${what} base URL only` });
    }
  });
}

const marathonUrl = baseUrl(
  'Marathon',
  'http://marathon.example.com:8080',
  'name the environment variable that holds "user:password" in credentialsEnv (or a DC/OS token in tokenEnv)',
);

const influxExample = '{"url": "http://influxdb.example.com:8086", "database": "baton", "credentialsEnv": "BATON_INFLUX_CREDENTIALS"}';
const auditExample = `{"influx": ${influxExample}}`;
const auditSchema = z.looseObject(
  {
    influx: z.looseObject(
      {
        url: baseUrl('InfluxDB', 'http://influxdb.example.com:8086', 'name the environment variable that holds "user:password" in credentialsEnv'),
        database: z
          .string({ error: (issue) => (issue.input === undefined ? 'is required: expected the InfluxDB database name, e.g. "baton"' : 'expected the InfluxDB database name as a string, e.g. "baton"') })
          .min(1, { error: 'is empty: expected the InfluxDB database name, e.g. "baton"' }),
        credentialsEnv: z
          .string({ error: 'expected the name of the environment variable that holds "user:password" as a string, e.g. "BATON_INFLUX_CREDENTIALS"' })
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
            error: 'is not an environment variable name: expected letters, digits and "_", e.g. "BATON_INFLUX_CREDENTIALS" (the credentials themselves never go into config files)',
          })
          .optional(),
      },
      { error: (issue) => (issue.input === undefined ? `is required: expected ${influxExample}` : `expected an object, e.g. ${influxExample}`) },
    ),
  },
  { error: `expected the audit sink as an object, e.g. ${auditExample}` },
);

const datacenterSchema = z.looseObject({
  marathon: marathonUrl,
  credentialsEnv: envVarName.optional(),
  tokenEnv: envVarName.optional(),
  loadBalancer: baseUrl('marathon-lb (HAProxy)', 'http://lb.aa.example.com', 'put what the tests need in their own environment').optional(),
});

const notifyExample = 'e.g. [{"webhook": {"urlEnv": "DEPLOY_WEBHOOK_URL"}}]';
/** A webhook's URL is never in the file: like credentials, it names the environment variable that holds it. */
const notifyTargetSchema = z.looseObject(
  {
    webhook: z.looseObject(
      {
        urlEnv: z
          .string({
            error: (issue) =>
              issue.input === undefined
                ? 'is required: expected the name of the environment variable that holds the webhook URL, e.g. "DEPLOY_WEBHOOK_URL"'
                : 'expected the name of the environment variable that holds the webhook URL as a string, e.g. "DEPLOY_WEBHOOK_URL"',
          })
          .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
            error: 'is not an environment variable name: expected letters, digits and "_", e.g. "DEPLOY_WEBHOOK_URL" (the URL itself is a secret and never goes into config files)',
          }),
      },
      { error: (issue) => (issue.input === undefined ? `is required: expected {"urlEnv": "DEPLOY_WEBHOOK_URL"}` : `expected an object, e.g. {"urlEnv": "DEPLOY_WEBHOOK_URL"}`) },
    ),
  },
  { error: 'expected a notification target, e.g. {"webhook": {"urlEnv": "DEPLOY_WEBHOOK_URL"}}' },
);

const environmentSchema = z.looseObject({
  confirm: z.boolean({ error: (issue) => (issue.input === undefined ? 'is required: expected true (deploys ask for confirmation) or false' : 'expected true or false') }),
  mutableTags: z.array(z.string().min(1)).optional(),
  imageCheck: z.boolean({ error: 'expected true (check that image:version exists in the registry before deploying) or false' }).optional(),
  stableSeconds: z
    .number({ error: 'expected a number of seconds (0 turns the watch period after a deployment off)' })
    .min(0, { error: 'expected 0 or more seconds' })
    .max(3600, { error: 'expected at most 3600 seconds' })
    .optional(),
  rollbackOnInterrupt: z.boolean({ error: 'expected true (Ctrl-C/SIGTERM reverts the running change) or false' }).optional(),
  notify: z.array(notifyTargetSchema, { error: `expected an array of notification targets, ${notifyExample}` }).optional(),
  datacenters: z.record(z.string(), datacenterSchema),
});

export const environmentsFileSchema = z.looseObject({
  $schema: z.string().optional(),
  audit: auditSchema.optional(),
  environments: z.record(z.string(), environmentSchema),
});

export type EnvironmentsParseResult = { ok: true; environments: Map<string, EnvironmentConfig> } | { ok: false; issues: Issue[] };

/** Checks a parsed environments.json and returns the environments in file order, or every problem found. */
export function parseEnvironments(value: unknown): EnvironmentsParseResult {
  const parsed = environmentsFileSchema.safeParse(value, { error: explainZodIssue });
  const issues: Issue[] = parsed.success ? [] : fromZodIssues(parsed.error.issues);
  for (const field of findUnknownFields(environmentsFileSchema, value)) {
    const suggestion = suggestKey(field.key, field.knownKeys);
    issues.push({
      path: field.pointer,
      message: `is not a known field${suggestion ? `: did you mean ${suggestion}?` : `: expected one of ${field.knownKeys.filter((k) => k !== '$schema').join(', ')}`}`,
    });
  }
  if (!parsed.success) return { ok: false, issues };

  const environments = new Map<string, EnvironmentConfig>();
  const influx = parsed.data.audit?.influx;
  const audit: AuditSinkConfig | undefined = influx
    ? {
        influx: {
          url: influx.url.replace(/\/+$/, ''),
          database: influx.database,
          ...(influx.credentialsEnv !== undefined ? { credentialsEnv: influx.credentialsEnv } : {}),
        },
      }
    : undefined;
  const entries = Object.entries(parsed.data.environments);
  if (entries.length === 0) issues.push({ path: '/environments', message: 'is empty: expected at least one environment, e.g. {"qa": {...}}' });
  for (const [name, environment] of entries) {
    const pointer = childPointer('/environments', name);
    if (!namePattern.test(name)) issues.push({ path: pointer, message: `"${name}" is not a valid environment name: expected ${nameRule}` });
    const datacenters: DatacenterConfig[] = [];
    const dcEntries = Object.entries(environment.datacenters);
    if (dcEntries.length === 0) issues.push({ path: `${pointer}/datacenters`, message: 'is empty: expected at least one datacenter, e.g. {"AA": {"marathon": "http://..."}}' });
    for (const [dcName, dc] of dcEntries) {
      const dcPointer = childPointer(pointer, 'datacenters', dcName);
      if (!namePattern.test(dcName) || dcName === 'all') {
        issues.push({ path: dcPointer, message: `"${dcName}" is not a valid datacenter name: expected ${nameRule} (and not "all")` });
      }
      if (dc.credentialsEnv !== undefined && dc.tokenEnv !== undefined) {
        issues.push({ path: dcPointer, message: 'sets both credentialsEnv and tokenEnv: expected one of them (HTTP Basic or a DC/OS token)' });
      }
      datacenters.push({
        name: dcName,
        marathon: dc.marathon.replace(/\/+$/, ''),
        ...(dc.credentialsEnv !== undefined ? { credentialsEnv: dc.credentialsEnv } : {}),
        ...(dc.tokenEnv !== undefined ? { tokenEnv: dc.tokenEnv } : {}),
        ...(dc.loadBalancer !== undefined ? { loadBalancer: dc.loadBalancer.replace(/\/+$/, '') } : {}),
      });
    }
    environments.set(name, { name, confirm: environment.confirm, mutableTags: environment.mutableTags ?? [...defaultMutableTags], datacenters,
      imageCheck: environment.imageCheck ?? true,
      stableSeconds: environment.stableSeconds ?? 0,
      rollbackOnInterrupt: environment.rollbackOnInterrupt ?? false,
      notify: (environment.notify ?? []).map((target) => ({ webhook: { urlEnv: target.webhook.urlEnv } })),
      ...(audit ? { audit } : {}),
    });
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, environments };
}
