import { describe, expect, it } from 'vitest';
import type { EnvironmentConfig } from '../src/config/environments.js';
import { CliError } from '../src/outcome/cli-error.js';
import type { ChangeResult } from '../src/rollout/change.js';
import {
  notificationBody,
  notificationText,
  notifyWebhooks,
  scrubUrl,
  shouldNotify,
  webhooksOf,
  type PostAnswer,
  type RunDocument,
} from '../src/notify/webhook.js';

function dc(datacenter: string, outcome: ChangeResult['outcome'], fromVersion: string | null, toVersion: string | null): ChangeResult {
  return { datacenter, marathon: `http://marathon.${datacenter.toLowerCase()}:8080`, appId: '/shop/web', outcome, fromVersion, toVersion, changes: [], durations: { totalMs: 1 } };
}

function doc(ok: boolean, datacenters: ChangeResult[], version?: string): RunDocument {
  return { ok, app: 'shop-web', appId: '/shop/web', env: 'prod', ...(version ? { version } : {}), datacenters };
}

describe('notificationText', () => {
  it.each([
    {
      name: 'a deploy that succeeded everywhere',
      command: 'deploy' as const,
      document: doc(true, [dc('AA', 'succeeded', '1.4.1', '1.4.2'), dc('BB', 'succeeded', '1.4.1', '1.4.2')], '1.4.2'),
      text: 'deploy shop-web 1.4.2 to prod by alice: ok — AA 1.4.1 → 1.4.2 succeeded, BB 1.4.1 → 1.4.2 succeeded',
    },
    {
      name: 'a failed deploy, the rest skipped',
      command: 'deploy' as const,
      document: doc(false, [dc('AA', 'failed-rolled-back', '1.0.0', '2.0.0-crash'), dc('BB', 'skipped', '1.0.0', '2.0.0-crash')], '2.0.0-crash'),
      text: 'deploy shop-web 2.0.0-crash to prod by alice: FAILED — AA 1.0.0 → 2.0.0-crash failed-rolled-back, BB skipped',
    },
    {
      name: 'a new app, one datacenter already there',
      command: 'deploy' as const,
      document: doc(true, [dc('AA', 'unchanged', '1.0.0', '1.0.0'), dc('BB', 'succeeded', null, '1.0.0')], '1.0.0'),
      text: 'deploy shop-web 1.0.0 to prod by alice: ok — AA 1.0.0 unchanged, BB new → 1.0.0 succeeded',
    },
    {
      name: 'a rollback (targets per datacenter)',
      command: 'rollback' as const,
      document: doc(true, [dc('AA', 'succeeded', '1.4.2', '1.4.1'), dc('BB', 'succeeded', '1.4.2', '1.4.0')]),
      text: 'rollback shop-web in prod by alice: ok — AA 1.4.2 → 1.4.1 succeeded, BB 1.4.2 → 1.4.0 succeeded',
    },
    {
      name: 'a rejected change with an unknown target',
      command: 'rollback' as const,
      document: doc(false, [dc('AA', 'rejected', '1.4.2', null)]),
      text: 'rollback shop-web in prod by alice: FAILED — AA 1.4.2 → ? rejected',
    },
    {
      name: "Slack's control characters escaped",
      command: 'deploy' as const,
      user: 'ci <bot> & co',
      document: doc(true, [dc('AA', 'succeeded', '1', '2')], '2'),
      text: 'deploy shop-web 2 to prod by ci &lt;bot&gt; &amp; co: ok — AA 1 → 2 succeeded',
    },
  ])('$name', ({ command, document, text, user }) => {
    expect(notificationText(command, user ?? 'alice', document)).toBe(text);
  });

  it('the body is the --json document plus command, user and text', () => {
    const document = doc(true, [dc('AA', 'succeeded', '1.4.1', '1.4.2')], '1.4.2');
    expect(notificationBody('deploy', 'alice', document)).toEqual({ ...document, command: 'deploy', user: 'alice', text: notificationText('deploy', 'alice', document) });
  });
});

describe('shouldNotify', () => {
  it.each([
    { name: 'a change', results: [dc('AA', 'succeeded', '1', '2')], dryRun: false, expected: true },
    { name: 'a failure after the change', results: [dc('AA', 'failed-rolled-back', '1', '2'), dc('BB', 'skipped', '1', '2')], dryRun: false, expected: true },
    { name: "Marathon's refusal", results: [dc('AA', 'rejected', '1', '2')], dryRun: false, expected: true },
    { name: 'unreachable while changing', results: [dc('AA', 'unreachable', '1', '2')], dryRun: false, expected: true },
    { name: 'every datacenter already there', results: [dc('AA', 'unchanged', '2', '2'), dc('BB', 'unchanged', '2', '2')], dryRun: false, expected: false },
    { name: 'a dry run', results: [dc('AA', 'dry-run', '1', '2')], dryRun: true, expected: false },
  ])('$name: $expected', ({ results, dryRun, expected }) => {
    expect(shouldNotify(doc(true, results), dryRun)).toBe(expected);
  });
});

describe('webhooksOf', () => {
  const env = { name: 'qa', notify: [{ webhook: { urlEnv: 'HOOK_A' } }, { webhook: { urlEnv: 'HOOK_B' } }] } as EnvironmentConfig;

  it('reads each URL from its variable', () => {
    expect(webhooksOf(env, { HOOK_A: 'https://hooks.example.com/T0/tokA', HOOK_B: 'http://127.0.0.1:9/x' })).toEqual([
      { urlEnv: 'HOOK_A', url: 'https://hooks.example.com/T0/tokA' },
      { urlEnv: 'HOOK_B', url: 'http://127.0.0.1:9/x' },
    ]);
  });

  it.each([
    { name: 'unset', vars: { HOOK_A: 'https://hooks.example.com/T0/tokA' }, message: /HOOK_B \(the webhook URL, named by notify\[1\]\.webhook\.urlEnv of environment qa in environments\.json\) is not set/ },
    { name: 'empty', vars: { HOOK_A: '', HOOK_B: 'http://x' }, message: /HOOK_A .* is not set/ },
    { name: 'not a URL', vars: { HOOK_A: 'hooks.example.com/T0/tokA', HOOK_B: 'http://x' }, message: /HOOK_A .* does not hold an http:\/\/ or https:\/\/ URL/ },
    { name: 'not http', vars: { HOOK_A: 'ftp://hooks.example.com/T0/tokA', HOOK_B: 'http://x' }, message: /HOOK_A .* does not hold an http/ },
  ])('refuses a variable that is $name with exit 2, without its value', ({ vars, message }) => {
    let error: unknown;
    try {
      webhooksOf(env, vars);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CliError);
    expect((error as CliError).exitCode).toBe(2);
    expect((error as CliError).message).toMatch(message);
    expect(JSON.stringify((error as CliError).toJSON())).not.toContain('tokA');
  });
});

describe('notifyWebhooks', () => {
  const url = 'https://hooks.example.com/services/T0/B0/s3cretTok';
  const body = notificationBody('deploy', 'alice', doc(true, [dc('AA', 'succeeded', '1', '2')], '2'));

  async function run(answers: (PostAnswer | Error)[]) {
    const calls: { url: string; body: string; timeoutMs: number }[] = [];
    const pauses: number[] = [];
    const warnings: string[] = [];
    let clock = 0;
    await notifyWebhooks([{ urlEnv: 'DEPLOY_WEBHOOK_URL', url }], body, {
      post: async (u, b, { timeoutMs }) => {
        calls.push({ url: u, body: b, timeoutMs });
        const answer = answers[calls.length - 1] ?? { status: 200 };
        if (answer instanceof Error) {
          clock += timeoutMs;
          throw answer;
        }
        if ('error' in answer) clock += timeoutMs;
        return answer;
      },
      warn: (line) => warnings.push(line),
      sleep: async (ms) => {
        pauses.push(ms);
        clock += ms;
      },
      now: () => clock,
    });
    return { calls, pauses, warnings };
  }

  it('posts the body once when the first answer is 2xx', async () => {
    const { calls, warnings } = await run([{ status: 204 }]);
    expect(calls).toHaveLength(1);
    expect(JSON.parse(calls[0]!.body)).toEqual(body);
    expect(warnings).toEqual([]);
  });

  it('retries a 500 after a pause', async () => {
    const { calls, pauses, warnings } = await run([{ status: 500 }, { status: 200 }]);
    expect(calls).toHaveLength(2);
    expect(pauses).toEqual([250]);
    expect(warnings).toEqual([]);
  });

  it('gives up after 3 attempts with one warning naming the variable, not the URL', async () => {
    const { calls, pauses, warnings } = await run([{ status: 503 }, { status: 502 }, { status: 500 }]);
    expect(calls).toHaveLength(3);
    expect(pauses).toEqual([250, 750]);
    expect(warnings).toEqual(['baton: warning: the webhook in DEPLOY_WEBHOOK_URL was not notified (HTTP 500, 3 attempts); the result and exit code are unaffected']);
  });

  it('does not retry a 4xx that will not change (e.g. a revoked token)', async () => {
    const { calls, warnings } = await run([{ status: 404 }]);
    expect(calls).toHaveLength(1);
    expect(warnings[0]).toContain('HTTP 404, 1 attempt)');
  });

  it('stays within the total budget when nothing answers', async () => {
    const { calls, warnings } = await run([{ error: 'no answer within 1.5s' }, { error: 'no answer within 1.5s' }, { error: 'no answer within 1.5s' }]);
    // 1.5 s + 0.25 s + 1.5 s + 0.75 s spent: the last attempt gets the 1 s left of 5 s.
    expect(calls.map((c) => c.timeoutMs)).toEqual([1500, 1500, 1000]);
    expect(warnings[0]).toContain('(no answer within 1.5s, 3 attempts)');
  });

  it("an adapter's thrown error is reduced to its kind: its message may hold the URL", async () => {
    const { warnings } = await run([new Error(`connect ECONNREFUSED ${url}`), new Error(url), new Error(url)]);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).not.toContain('s3cretTok');
    expect(warnings[0]).toContain('DEPLOY_WEBHOOK_URL');
  });
});

describe('scrubUrl', () => {
  it.each([
    ['failed: https://hooks.example.com/services/T0/B0/s3cretTok', 'failed: <webhook URL>'],
    ['POST /services/T0/B0/s3cretTok 500', 'POST <webhook URL> 500'],
    ['nothing to hide', 'nothing to hide'],
  ])('%s', (text, expected) => {
    expect(scrubUrl(text, 'https://hooks.example.com/services/T0/B0/s3cretTok')).toBe(expected);
  });
});
