import type { DatacenterConfig } from '../config/environments.js';
import type { MarathonClient } from '../marathon/client.js';
import { MarathonError } from '../marathon/errors.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';

/** A failed Marathon call as people read it: what Marathon said, each of its `details`, the exit code that fits. */
export function marathonCliError(error: unknown, dc: DatacenterConfig): CliError {
  if (!(error instanceof MarathonError)) return error instanceof CliError ? error : new CliError(String(error), ExitCode.internal, 'internal');
  const details = error.details.map((d) => `  - ${d.path}: ${d.errors.join('; ')}`);
  const status = error.status ?? '?';
  let code: (typeof ExitCode)[keyof typeof ExitCode] = ExitCode.rejected;
  let what: string;
  switch (error.kind) {
    case 'unreachable':
      code = ExitCode.unreachable;
      what = 'unreachable';
      break;
    case 'unauthorized':
    case 'forbidden':
      what = `Marathon refused the credentials (${status})`;
      break;
    case 'server':
      code = ExitCode.marathonError;
      what = `Marathon failed (${status})`;
      break;
    case 'protocol':
      code = ExitCode.marathonError;
      what = 'Marathon answered something unreadable';
      break;
    default:
      what = `Marathon rejected the request (${status})`;
  }
  if (isTooManyDeployments(error)) {
    code = ExitCode.tooManyDeployments;
    what = `Marathon refused: too many deployments are running (${status})`;
  }
  return new CliError([`${dc.name}: ${what}: ${error.message}`, ...details].join('\n'), code, error.kind, {
    datacenter: dc.name,
    marathon: error.toJSON(),
  });
}

/** Marathon's 403 when its limit of running deployments is reached (TooManyRunningDeploymentsException), not a credential problem. */
export function isTooManyDeployments(error: MarathonError): boolean {
  return error.status === 403 && /too many .*deployments|max(imum)? number of .*deployments/i.test(error.message);
}

/** A refused change, with the deployments that lock the app when that is why (what they do, how far they are). */
export async function describeRejection(error: unknown, client: MarathonClient, dc: DatacenterConfig): Promise<CliError> {
  if (!(error instanceof MarathonError && error.kind === 'locked')) return marathonCliError(error, dc);
  const running = await client.listDeployments().catch(() => []);
  const blocking = error.deploymentIds.map((id) => {
    const d = running.find((r) => r.id === id);
    const doing = d
      ? `${[...new Set(d.currentActions.map((a) => `${a.action} ${a.app ?? ''}`.trim()))].join(', ') || 'running'} (step ${d.currentStep}/${d.totalSteps}, affects ${d.affectedApps.join(', ')})`
      : 'finished meanwhile';
    return `  - ${id}: ${doing}`;
  });
  const cancel = error.deploymentIds.map((id) => `curl -X DELETE ${client.baseUrl}/v2/deployments/${id}${authHint(dc)}`).join(' ; ');
  return new CliError(
    [
      `${dc.name}: Marathon refused: the app is locked by ${error.deploymentIds.length} running deployment(s):`,
      ...blocking,
      `Wait for it to finish and run the same command again, cancel it (${cancel || `curl -X DELETE ${client.baseUrl}/v2/deployments/<id>`}),`,
      'or re-run with --force to override it (Marathon cancels it; old and new tasks may end up mixed).',
    ].join('\n'),
    ExitCode.rejected,
    'locked',
    { datacenter: dc.name, marathon: error.toJSON() },
  );
}

/** How to authenticate a printed curl command, without printing the credential. */
export function authHint(dc: DatacenterConfig): string {
  if (dc.credentialsEnv) return ` -u "$${dc.credentialsEnv}"`;
  if (dc.tokenEnv) return ` -H "Authorization: token=$${dc.tokenEnv}"`;
  return '';
}
