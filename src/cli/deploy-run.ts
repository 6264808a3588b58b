import { auditTrail } from '../audit/trail.js';
import type { StrategyName } from '../config/deploy-strategy.js';
import { TAG_PATTERN } from '../deploy/image.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';
import { runRollout } from '../rollout/engine.js';
import { deployWording, planDeploy, promoteIfNeeded, type DeployPlan } from '../rollout/plan-deploy.js';
import { stdinIsInteractive } from './confirm.js';
import { parseDurationFlag, parseTimeoutFlag } from './datacenter-summary.js';
import { commandTerminal, lineWriter, notifyRun, printResults, rolloutIo, waitingRules } from './rollout-shell.js';

export interface DeployFlags {
  env: string;
  version: string;
  dc?: string;
  yes?: boolean;
  timeout?: string;
  force?: boolean;
  rollback: boolean;
  rollbackOnInterrupt?: boolean;
  stableSeconds?: string;
  dryRun?: boolean;
  restart?: boolean;
  json?: boolean;
  configDir?: string;
  promote?: boolean;
  promoteFrom?: string;
  pinDigest?: boolean;
  imageCheck?: boolean;
  strategy?: string;
}

/** baton deploy: flags in, the deploy planner, the rollout engine, the results out. */
export async function runDeploy(app: string, flags: DeployFlags): Promise<number> {
  const terminal = commandTerminal(flags.json);
  const say = lineWriter(flags.json);
  const trail = auditTrail('deploy', app, flags);
  trail.ensureWritable();
  let stage = 'before anything was sent to Marathon';
  const stopExitingOnInterrupt = trail.recordInterrupts(() => stage, { toVersion: flags.version });
  try {
    let plan: DeployPlan;
    let timeoutSeconds: number | undefined;
    let stableSeconds: number | undefined;
    try {
      timeoutSeconds = parseTimeoutFlag(flags.timeout);
      stableSeconds = parseDurationFlag('--stable-seconds', flags.stableSeconds, { allowZero: true });
      checkFlags(flags);
      plan = await planDeploy(app, { ...flags, strategy: strategyOf(flags), stableSeconds, interactive: stdinIsInteractive(), notify: true }, say, terminal, (names) => trail.aimAt(names), (sink) => trail.shareWith(sink));
    } catch (error) {
      // Every attempt is on record, those refused before any datacenter was touched included.
      trail.endedBefore(error, { toVersion: flags.version });
      throw error;
    }
    const { env } = plan;
    const promotion = plan.promotion;
    const { results, exitCode } = await runRollout(
      {
        command: 'deploy',
        env,
        appId: plan.definition.id,
        version: plan.version,
        changes: plan.changes,
        dryRun: Boolean(flags.dryRun),
        confirmQuestion:
          env.confirm && !flags.yes
            ? `Deploy ${app} to ${env.name}${plan.strategy === 'blue-green' ? ' (blue/green)' : ''}: ${plan.changes.map((c) => `${c.dc.name} ${c.fromVersion ?? 'new'} → ${plan.version} (${changeCount(c.diff.length)})`).join(', ')}?`
            : undefined,
        beforeFirstChange: promotion?.needed
          ? async () => {
              stage = `during the registry promotion of ${promotion.image}:${promotion.to}: nothing was sent to Marathon`;
              await promoteIfNeeded(promotion, say);
            }
          : undefined,
        ...waitingRules(flags, env, { stableSeconds, timeoutSeconds }),
        wording: deployWording(plan),
      },
      rolloutIo(trail, say, terminal, { set: (s) => (stage = s), changesBegin: stopExitingOnInterrupt }),
    );
    const document = printResults(results, { app, appId: plan.definition.id, env: flags.env, version: flags.version }, flags.json, say, terminal);
    await notifyRun(plan.webhooks, { command: 'deploy', user: trail.user, document, dryRun: Boolean(flags.dryRun) });
    return exitCode;
  } finally {
    stopExitingOnInterrupt();
  }
}

function checkFlags(flags: DeployFlags): void {
  if (!TAG_PATTERN.test(flags.version)) {
    throw new CliError(
      `--version "${flags.version}" is not a valid image tag: expected letters, digits, "_", "." or "-" (at most 128, not starting with "." or "-")`,
      ExitCode.invalidInput,
      'invalid-flag',
      { flag: '--version' },
    );
  }
  if (flags.promote && flags.promoteFrom !== undefined) {
    throw new CliError('--promote and --promote-from are alternatives: --promote means --promote-from latest', ExitCode.invalidInput, 'invalid-flag', {
      flag: '--promote-from',
    });
  }
}

function strategyOf(flags: DeployFlags): StrategyName | undefined {
  if (flags.strategy === undefined) return undefined;
  if (flags.strategy === 'rolling' || flags.strategy === 'blue-green') return flags.strategy;
  throw new CliError(`--strategy "${flags.strategy}": expected rolling or blue-green`, ExitCode.invalidInput, 'invalid-flag', { flag: '--strategy' });
}

function changeCount(fields: number): string {
  return fields === 0 ? 'no field changes' : `${fields} change${fields === 1 ? '' : 's'}`;
}
