import { z } from 'zod';

const httpUrl = z
  .string({ error: 'expected a URL' })
  .refine((value) => {
    try {
      const url = new URL(value);
      return url.protocol === 'http:' || url.protocol === 'https:';
    } catch {
      return false;
    }
  }, 'expected a URL (http:// or https://)');

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected the name of an environment variable');
/** "host:port" pairs, comma-separated, optionally followed by a chroot path: ZooKeeper's own connect string. */
const zookeeperConnect = z
  .string({ error: 'expected a connect string like "zk1:2181,zk2:2181,zk3:2181"' })
  .regex(
    /^[A-Za-z0-9.\-]+:\d{1,5}(,[A-Za-z0-9.\-]+:\d{1,5})*$/,
    'expected a connect string like "zk1:2181,zk2:2181,zk3:2181" (host:port pairs, comma-separated)',
  );
const zookeeperPath = z
  .string({ error: 'expected an absolute ZooKeeper path like "/baton-autoscaler"' })
  .regex(/^(\/[A-Za-z0-9_.\-]+)+$/, 'expected an absolute ZooKeeper path like "/baton-autoscaler" (no trailing "/")');

const positiveSeconds = z.number({ error: 'expected a number of seconds' }).positive('expected a number of seconds > 0');

/** The daemon's config file. Everything but the two URLs has a default. */
export const autoscalerConfigSchema = z.strictObject({
  /** For editors (schemas/autoscaler-config.schema.json); ignored. */
  $schema: z.string().optional(),
  marathon: z.strictObject({
    url: httpUrl,
    /** Names an environment variable holding "user:password" (HTTP Basic). */
    credentialsEnv: envName.optional(),
    /** Names an environment variable holding a DC/OS token. */
    tokenEnv: envName.optional(),
    timeoutSeconds: positiveSeconds.default(10),
  }),
  influx: z.strictObject({
    url: httpUrl,
    database: z.string().min(1, 'expected a database name').default('cadvisor'),
    username: z.string().min(1).optional(),
    passwordEnv: envName.optional(),
    /** The usage query, whole answer: a cycle that cannot read metrics in time holds instead of waiting. */
    timeoutSeconds: positiveSeconds.default(10),
  }),
  listen: z
    .strictObject({
      host: z.string().min(1).default('127.0.0.1'),
      port: z.number().int('expected an integer port').min(0).max(65535).default(8470),
    })
    .default({ host: '127.0.0.1', port: 8470 }),
  apiTokenEnv: envName.default('BATON_AUTOSCALER_TOKEN'),
  /** Refuse every write (POST/DELETE /apps); the only way to run without an API token. */
  readOnly: z.boolean().default(false),
  stateFile: z.string().min(1).default('/var/lib/baton/autoscaler.json'),
  intervalSeconds: z.number().min(0.1, 'expected at least 0.1 seconds').max(3600).default(15),
  dryRun: z.boolean().default(false),
  metrics: z
    .strictObject({
      // eslint-disable-next-line no-control-regex
      taskIdTag: z.string().min(1).regex(/^[^\u0000-\u001f\u007f]+$/, 'expected a tag name without control characters').default('MESOS_TASK_ID'),
      windowSeconds: z.number().int('expected whole seconds').min(1).default(300),
      /** A task whose newest sample is older than this has missing data (cAdvisor buffers writes for 60 s). */
      freshnessSeconds: positiveSeconds.default(180),
    })
    .default({ taskIdTag: 'MESOS_TASK_ID', windowSeconds: 300, freshnessSeconds: 180 }),
  defaults: z
    .strictObject({
      tolerance: z.number().min(0).max(1).default(0.1),
      scaleDownStabilizationSeconds: z.number().min(0).default(300),
      warmupSeconds: z.number().min(0).default(60),
      scaleUpMaxStep: z.number().int().min(1).optional(),
    })
    .default({ tolerance: 0.1, scaleDownStabilizationSeconds: 300, warmupSeconds: 60 }),
  health: z
    .strictObject({
      /**
       * /healthz (liveness) answers 503 when the last cycle started longer ago than this, on the monotonic clock
       * (default: 3 intervals, and at least a cycle's worst case plus one interval).
       */
      maxCycleAgeSeconds: positiveSeconds.optional(),
    })
    .default({}),
  /**
   * Several instances with leader election: only the leader scales; registrations and the stabilization history live
   * in ZooKeeper under `path` (without this key: one instance, registrations in `stateFile`).
   */
  zookeeper: z
    .strictObject({
      connect: zookeeperConnect,
      path: zookeeperPath.default('/baton-autoscaler'),
      /** Asked of ZooKeeper (which clamps it to its 2–20 ticks); a lost leader is replaced within this plus one cycle. */
      sessionTimeoutMs: z.number().int('expected whole milliseconds').min(1000, 'expected at least 1000 ms').max(120_000).default(10_000),
      /** The API address the other instances name as the leader's (default: http://<listen host, or this host's name>:<port>). */
      advertiseUrl: httpUrl.optional(),
    })
    .optional(),
  /** Predictive floors (apps that opt in with `predictive`): where their usage history is read, and how often. */
  forecast: z
    .strictObject({
      /** A retention policy that keeps (downsampled) cAdvisor data for the lookback; unset: the database's default one. */
      // eslint-disable-next-line no-control-regex
      retentionPolicy: z.string().min(1).regex(/^[^\u0000-\u001f\u007f]+$/, 'expected a retention policy name without control characters').optional(),
      /** The history's GROUP BY time() bucket (the continuous query's, when there is one). */
      bucketMinutes: z.number().int('expected whole minutes').min(1).max(60).default(5),
      /** A read history serves this long: each predictive app's history is read once per period. */
      cacheMinutes: z.number().min(1).max(24 * 60).default(60),
      /** Apps whose history one request reads at most (one such request per cycle at most). */
      appsPerQuery: z.number().int().min(1).max(1000).default(10),
    })
    .default({ bucketMinutes: 5, cacheMinutes: 60, appsPerQuery: 10 }),
  /** Decisions kept per app for GET /decisions (repeats of the same decision are folded into one entry). */
  decisionHistory: z.number().int().min(1).max(1000).default(20),
  logLevel: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
});

export type AutoscalerConfig = z.infer<typeof autoscalerConfigSchema>;
