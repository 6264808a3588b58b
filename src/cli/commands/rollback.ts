import { Command, Option } from 'commander';
import { datacenterOption } from '../dc-option.js';
import { auditTrail } from '../../audit/trail.js';
import { versionOf } from '../../deploy/render.js';
import { CliError } from '../../outcome/cli-error.js';
import { ExitCode } from '../../outcome/exit-codes.js';
import { runRollout } from '../../rollout/engine.js';
import { planRollback, rollbackWording, type RollbackPlan } from '../../rollout/plan-rollback.js';
import { parseRollbackTo } from '../../status/rollback-target.js';
import { stdinIsInteractive } from '../confirm.js';
import { parseDurationFlag, parseTimeoutFlag } from '../datacenter-summary.js';
import { commandTerminal, lineWriter, notifyRun, printResults, rolloutIo, waitingRules } from '../rollout-shell.js';

interface RollbackFlags {
  env: string;
  dc?: string;
  to?: string;
  yes?: boolean;
  timeout?: string;
  force?: boolean;
  rollback: boolean;
  rollbackOnInterrupt?: boolean;
  stableSeconds?: string;
  dryRun?: boolean;
  json?: boolean;
  configDir?: string;
}

export function register(program: Command): void {
  program
    .command('rollback')
    .description('Put an earlier version of an app back (default: the previous image tag), wait until it runs healthy, recover if it does not')
    .argument('<app>', 'app folder in the config dir')
    .requiredOption('-e, --env <env>', 'environment from environments.json')
    .addOption(datacenterOption())
    .option('--to <tag|marathon-version>', 'an image tag, or a Marathon version from `baton history` (default: the previous tag)')
    .option('-y, --yes', 'confirm a confirm-environment (prod) without asking; required without a TTY')
    .option('--timeout <seconds>', 'give up and restore what ran before after this long (default: derived from the health checks)')
    .option('--force', 'override a deployment that locks the app (Marathon force=true; e.g. a stuck deploy)')
    .option('--no-rollback', 'if the rollback target itself fails, leave it as it is')
    .option('--rollback-on-interrupt', 'on Ctrl-C/SIGTERM revert the running change and verify it (CI jobs that get aborted; default: environment\'s rollbackOnInterrupt)')
    .option('--stable-seconds <duration>', 'after the deployment ends, new tasks must stay healthy this long or it is reverted (e.g. 60, 2m; default: environment\'s stableSeconds, 0 = off)')
    .option('--dry-run', 'show what would be put back and stop; sends nothing that changes Marathon')
    .option('--json', 'print one JSON document with the per-datacenter result on stdout')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR'))
    .addHelpText(
      'after',
      `
Examples:
  baton rollback shop-web --env qa                                  # back to the previous image tag
  baton rollback shop-web --env prod --to 1.4.1 --yes               # CI: a named tag, prod confirmed
  baton rollback shop-web --env prod --dc AA --to 2024-05-02T09:14:03.512Z
  baton rollback shop-web --env prod --dry-run                      # show the target and the diff only

The target's definition is read from Marathon's stored versions and PUT whole (partialUpdate=false), labels included.
The default skips versions whose image tag the audit log shows failing (failed, timeout, rollback-failed, superseded,
interrupted) and never succeeding, prefers tags it shows running healthy (succeeded, unchanged), and prints each
version it passed over and why. instances stays as it is for autoscaled apps.
Then Baton waits exactly like deploy; if the target fails too, it restores what ran before the rollback.

Exit codes: 0 every datacenter healthy on the target (or already at it) · 2 invalid input, no such target
  3 not confirmed · 4 rejected by Marathon · 5 target failed, restored · 6 timeout (restored) · 7 restoring failed
  8 Marathon unreachable · 9 superseded by another change · 130 interrupted (Ctrl-C)

Ctrl-C while waiting stops watching (the deployment goes on in Marathon), prints how to watch or revert it, and exits 130;
a second Ctrl-C exits at once, after writing the audit record (waiting at most 2 s for the disk). Once Ctrl-C was
pressed no further datacenter is changed: the rest are audited skipped.`,
    )
    .action(async (app: string, flags: RollbackFlags) => {
      process.exitCode = await runRollback(app, flags);
    });
}

/** baton rollback: flags in, the rollback planner, the rollout engine, the results out. */
async function runRollback(app: string, flags: RollbackFlags): Promise<number> {
  const terminal = commandTerminal(flags.json);
  const say = lineWriter(flags.json);
  const trail = auditTrail('rollback', app, flags);
  trail.ensureWritable();
  let stage = 'before anything was sent to Marathon';
  const stopExitingOnInterrupt = trail.recordInterrupts(() => stage);
  try {
    let plan: RollbackPlan;
    let timeoutSeconds: number | undefined;
    let stableSeconds: number | undefined;
    let appId: string | undefined;
    try {
      const request = parseRollbackTo(flags.to);
      if (request.kind === 'invalid') throw new CliError(request.reason, ExitCode.invalidInput, 'invalid-flag', { flag: '--to' });
      timeoutSeconds = parseTimeoutFlag(flags.timeout);
      stableSeconds = parseDurationFlag('--stable-seconds', flags.stableSeconds, { allowZero: true });
      plan = await planRollback(app, request, { ...flags, interactive: stdinIsInteractive() }, say, terminal, {
        datacenters: (names) => trail.aimAt(names),
        auditSink: (sink) => trail.shareWith(sink),
        appId: (id) => (appId = id),
      });
    } catch (error) {
      // Every attempt is on record, those that ended before any datacenter was changed included.
      trail.endedBefore(error, appId ? { appId } : {});
      throw error;
    }
    const { env, changes } = plan;
    const changing = changes.filter((c) => (c.targetMarathonVersion && c.diff.length > 0) || (c.steps?.length ?? 0) > 0);
    const { results, exitCode } = await runRollout(
      {
        command: 'rollback',
        env,
        appId: plan.appId,
        changes,
        dryRun: Boolean(flags.dryRun),
        confirmQuestion:
          env.confirm && !flags.yes && changing.length > 0
            ? `Roll back ${app} in ${env.name} (${changing.map((c) => `${c.dc.name} ${versionOf(c.live ?? {}) ?? '?'} → ${c.toVersion ?? '?'}`).join(', ')})?`
            : undefined,
        ...waitingRules(flags, env, { stableSeconds, timeoutSeconds }),
        wording: rollbackWording(app, flags.env),
      },
      rolloutIo(trail, say, terminal, { set: (s) => (stage = s), changesBegin: stopExitingOnInterrupt }),
    );
    const document = printResults(results, { app, appId: plan.appId, env: env.name }, flags.json, say, terminal);
    await notifyRun(plan.webhooks, { command: 'rollback', user: trail.user, document, dryRun: Boolean(flags.dryRun) });
    return exitCode;
  } finally {
    stopExitingOnInterrupt();
  }
}
