import http from 'node:http';
import https from 'node:https';
import axios from 'axios';
import type { EnvironmentConfig } from '../config/environments.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import type { ChangeResult } from '../rollout/change.js';

// Telling a chat channel or another system that a deploy or rollback ended: one POST per run to each webhook the
// environment's `notify` names. The URL is a secret (Slack's carry a token in the path): it is read from the variable
// `urlEnv` names and never printed, recorded or put in an error; a failure names the variable instead.
// Shaping the message is pure; the HTTP call is an adapter passed in (axiosPost in the CLI).

/** A webhook to notify: the variable that named it (for messages) and the URL it holds (for the request only). */
export interface Webhook {
  urlEnv: string;
  url: string;
}

/** The document `--json` prints for a deploy or rollback run (src/cli/rollout-shell.ts runDocument). */
export interface RunDocument {
  ok: boolean;
  app: string;
  appId: string;
  env: string;
  /** The version every datacenter goes to (deploy); a rollback's targets are per datacenter. */
  version?: string;
  datacenters: ChangeResult[];
}

/** What a webhook receives: the run's --json document, which command it was, who ran it, and one Slack-compatible line. */
export type NotificationBody = RunDocument & { command: 'deploy' | 'rollback'; user: string; text: string };

/**
 * The webhooks of an environment, each URL read from its variable. An unset or empty variable, or one that does not hold
 * an http(s) URL, is an exit-2 error before anything is sent (like an unset credentialsEnv): a notification that silently
 * goes nowhere is found out only when someone misses it. The value is never repeated.
 */
export function webhooksOf(env: EnvironmentConfig, vars: NodeJS.ProcessEnv = process.env): Webhook[] {
  return env.notify.map(({ webhook: { urlEnv } }, index) => {
    const where = `named by notify[${index}].webhook.urlEnv of environment ${env.name} in environments.json`;
    const value = vars[urlEnv];
    if (!value) {
      throw new CliError(
        `environment variable ${urlEnv} (the webhook URL, ${where}) is not set: set it, or remove the target from notify. Nothing was sent.`,
        ExitCode.invalidInput,
        'missing-webhook-url',
        { environment: env.name, variable: urlEnv },
      );
    }
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      throw new CliError(
        `environment variable ${urlEnv} (the webhook URL, ${where}) does not hold an http:// or https:// URL. Nothing was sent.`,
        ExitCode.invalidInput,
        'bad-webhook-url',
        { environment: env.name, variable: urlEnv },
      );
    }
    return { urlEnv, url: value };
  });
}

/**
 * Whether a run is worth telling: one that reached Marathon with a change, or was refused or failed there. A dry run, and
 * a run in which every datacenter was already as asked (or skipped), changed nothing; runs that ended before the changes
 * (invalid input, not confirmed, unreachable while planning) never get here.
 */
export function shouldNotify(document: RunDocument, dryRun: boolean): boolean {
  return !dryRun && document.datacenters.some((r) => r.outcome !== 'unchanged' && r.outcome !== 'skipped' && r.outcome !== 'dry-run');
}

/** Slack's three control characters; everything else in its `text` is shown as written. */
function escapeSlack(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function datacenterPart(r: ChangeResult): string {
  if (r.outcome === 'skipped') return `${r.datacenter} skipped`;
  if (r.outcome === 'unchanged') return `${r.datacenter} ${r.toVersion ?? r.fromVersion ?? '?'} unchanged`;
  return `${r.datacenter} ${r.fromVersion ?? 'new'} → ${r.toVersion ?? '?'} ${r.outcome}`;
}

/**
 * The one line a Slack-compatible webhook shows, e.g.
 * `deploy shop-web 1.4.2 to prod by alice: FAILED — AA 1.4.1 → 1.4.2 succeeded, BB 1.4.1 → 1.4.2 failed-rolled-back`. Pure.
 */
export function notificationText(command: 'deploy' | 'rollback', user: string, document: RunDocument): string {
  const what = command === 'deploy' ? `deploy ${document.app}${document.version ? ` ${document.version}` : ''} to ${document.env}` : `rollback ${document.app} in ${document.env}`;
  const datacenters = document.datacenters.map(datacenterPart).join(', ') || 'no datacenter';
  return escapeSlack(`${what} by ${user}: ${document.ok ? 'ok' : 'FAILED'} — ${datacenters}`);
}

export function notificationBody(command: 'deploy' | 'rollback', user: string, document: RunDocument): NotificationBody {
  return { ...document, command, user, text: notificationText(command, user, document) };
}

/** One POST's answer as the notifier needs it: a status, or why there was none (never with the URL in it). */
export type PostAnswer = { status: number } | { error: string };

/** The HTTP adapter: POSTs `body` (JSON text) to `url` with Content-Type application/json; never throws. */
export type WebhookPost = (url: string, body: string, options: { timeoutMs: number }) => Promise<PostAnswer>;

export interface RetryPolicy {
  attempts: number;
  /** The pause before the 2nd, 3rd, … attempt. */
  delaysMs: number[];
  /** Each request's limit. */
  timeoutMs: number;
  /** All attempts to one webhook together; a later attempt gets what is left. */
  totalMs: number;
}

/** Brief: a deploy's end must not wait on a chat server. At most 5 s per webhook, the webhooks in parallel. */
export const defaultRetry: RetryPolicy = { attempts: 3, delaysMs: [250, 750], timeoutMs: 1500, totalMs: 5000 };

/** Worth another attempt: no answer at all, a server error, or "too many requests"/"request timeout". */
function retryable(answer: PostAnswer): boolean {
  return 'error' in answer || answer.status >= 500 || answer.status === 429 || answer.status === 408;
}

function describeAnswer(answer: PostAnswer): string {
  if ('error' in answer) return answer.error;
  return answer.status >= 300 && answer.status < 400 ? `HTTP ${answer.status} (a redirect: webhooks are not followed)` : `HTTP ${answer.status}`;
}

/** Removes the URL, and its path and query (where tokens live), from a text that may have picked them up. */
export function scrubUrl(text: string, url: string): string {
  const parts = [url];
  try {
    const parsed = new URL(url);
    const secretPart = `${parsed.pathname}${parsed.search}`;
    if (secretPart.length > 1) parts.push(secretPart);
    if (parsed.username || parsed.password) parts.push(parsed.username, parsed.password);
  } catch {
    // not a URL: the whole text is replaced where it appears
  }
  return parts.filter(Boolean).reduce((scrubbed, part) => scrubbed.split(part).join('<webhook URL>'), text);
}

export interface NotifyDeps {
  post: WebhookPost;
  /** Told one line per webhook that could not be notified. */
  warn: (line: string) => void;
  sleep?: (ms: number) => Promise<void>;
  now?: () => number;
  retry?: RetryPolicy;
}

/** Posts `body` to every webhook (in parallel), each retried briefly; failures are warnings, never errors. */
export async function notifyWebhooks(webhooks: Webhook[], body: NotificationBody, deps: NotifyDeps): Promise<void> {
  const json = JSON.stringify(body);
  await Promise.all(webhooks.map((webhook) => notifyOne(webhook, json, deps)));
}

async function notifyOne(webhook: Webhook, json: string, deps: NotifyDeps): Promise<void> {
  const retry = deps.retry ?? defaultRetry;
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + retry.totalMs;
  let answer: PostAnswer = { error: 'not sent' };
  let attempts = 0;
  try {
    while (attempts < retry.attempts) {
      if (attempts > 0) {
        const pause = retry.delaysMs[attempts - 1] ?? retry.delaysMs.at(-1) ?? 0;
        if (now() + pause >= deadline) break;
        await sleep(pause);
      }
      const left = deadline - now();
      if (left <= 0) break;
      attempts += 1;
      answer = await deps.post(webhook.url, json, { timeoutMs: Math.min(retry.timeoutMs, left) });
      if ('status' in answer && answer.status >= 200 && answer.status < 300) return;
      if (!retryable(answer)) break;
    }
  } catch (error) {
    // An adapter must not throw; if one does, its error may hold the URL (axios errors do): only its kind is kept.
    answer = { error: error instanceof Error ? error.name : 'request failed' };
  }
  const line = `baton: warning: the webhook in ${webhook.urlEnv} was not notified (${describeAnswer(answer)}, ${attempts} attempt${attempts === 1 ? '' : 's'}); the result and exit code are unaffected`;
  deps.warn(scrubUrl(line, webhook.url));
}

/** Why a request got no answer, from an axios error's code: never its message or config, which hold the URL. */
function reasonOf(error: unknown, timeoutMs: number): string {
  const code = axios.isAxiosError(error) ? error.code : (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
    case 'ERR_CANCELED':
      return `no answer within ${timeoutMs / 1000}s`;
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'host not found';
    default:
      return code && /^[A-Z_]+$/.test(code) ? code : 'request failed';
  }
}

/** The adapter the CLI uses: one POST through axios, no redirects followed, no connection kept open after it. */
export const axiosPost: WebhookPost = async (url, body, { timeoutMs }) => {
  try {
    const response = await axios.post(url, body, {
      headers: { 'Content-Type': 'application/json' },
      timeout: timeoutMs,
      signal: AbortSignal.timeout(timeoutMs),
      maxRedirects: 0,
      validateStatus: () => true,
      responseType: 'text',
      transformResponse: (data: unknown) => data,
      httpAgent: new http.Agent({ keepAlive: false }),
      httpsAgent: new https.Agent({ keepAlive: false }),
    });
    return { status: response.status };
  } catch (error) {
    return { error: reasonOf(error, timeoutMs) };
  }
};
