import { Command, Option } from 'commander';
import { datacenterOption } from '../dc-option.js';
import type { DeployFlags } from '../deploy-run.js';

export function register(program: Command): void {
  program
    .command('deploy')
    .description('Deploy a tagged image of an app to an environment, wait until it runs healthy, roll back if it does not')
    .argument('<app>', 'app folder in the config dir (deploy-configs/<app>/<env>-deploy.json)')
    .requiredOption('-e, --env <env>', 'environment from environments.json (e.g. qa, yz, prod)')
    .requiredOption('-v, --version <tag>', 'the image tag to deploy (replaces the tag in the file)')
    .addOption(datacenterOption())
    .option('-y, --yes', 'confirm a confirm-environment (prod) without asking; required without a TTY')
    .option('--timeout <seconds>', 'give up and roll back after this long (default: derived from the app health checks)')
    .option('--force', 'override a deployment that locks the app (Marathon force=true: cancels it and may mix old and new tasks)')
    .option('--no-rollback', 'on failure or timeout, leave the failed deployment as it is')
    .option('--strategy <strategy>', 'rolling (Marathon\'s own upgrade) or blue-green (a second colour, tested, then switched in marathon-lb); default: the app\'s baton.json, else rolling')
    .option('--restart', 'roll the tasks even when the version is already deployed (forces a fresh pull)')
    .option('--rollback-on-interrupt', 'on Ctrl-C/SIGTERM revert the running change and verify it (CI jobs that get aborted; default: environment\'s rollbackOnInterrupt)')
    .option('--stable-seconds <duration>', 'after the deployment ends, new tasks must stay healthy this long or it is reverted (e.g. 60, 2m; default: environment\'s stableSeconds, 0 = off)')
    .option('--dry-run', 'show what would change and stop; sends nothing that changes Marathon')
    .option('--promote', 'first promote the image tag latest → <version> in the registry (as the deploy-only job did)')
    .option('--promote-from <tag>', 'like --promote, from another tag (e.g. rc)')
    .option('--pin-digest', 'deploy image@sha256:<digest> so every datacenter runs exactly the same bits')
    .option('--no-image-check', 'do not check that <image>:<version> exists in the registry (unreachable registries)')
    .option('--json', 'print one JSON document with the per-datacenter result on stdout')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR').default(undefined, './deploy-configs'))
    .addHelpText(
      'after',
      `
Examples:
  baton deploy shop-web --env qa --version 1.4.2
  baton deploy shop-web --env prod --version 1.4.2 --yes          # CI: confirms prod without a prompt
  baton deploy shop-web --env prod --version 1.4.2 --dc AA        # one datacenter
  baton deploy shop-web --env yz --version 1.4.2 --dry-run        # show the diff only
  baton deploy shop-web --env qa --version 1.4.2 --restart        # same version, rolling restart
  baton deploy shop-web --env qa --version 1.4.2 --promote        # CI: tag latest as 1.4.2, then deploy it
  baton deploy shop-web --env prod --version 1.4.2 --yes --pin-digest
  baton deploy shop-web --env qa --version 1.4.2 --strategy blue-green   # docs/deploy.md "Blue/green"

Before anything is sent to Marathon, the image <image>:<version> must exist in the registry (a typo would otherwise
become a crash-looping deployment); turn the check off with --no-image-check or "imageCheck": false in environments.json.
Registry credentials as for baton promote (see baton promote --help): BATON_REGISTRY_USER + BATON_REGISTRY_PASSWORD,
else the docker config (auths, then its credential helper).

Ctrl-C while waiting stops watching (the deployment goes on in Marathon), prints how to resume or roll back, and exits
130; a second Ctrl-C exits at once, after writing the audit record (waiting at most 2 s for the disk). Once Ctrl-C was
pressed no further datacenter is changed, even if the one in flight has just finished: the rest are skipped (exit 130).
With --rollback-on-interrupt (or "rollbackOnInterrupt": true in environments.json) Ctrl-C/SIGTERM reverts the running
deployment instead and waits until the previous version is healthy again.

Done means: every task of the app runs the new configuration (a task is current when its version is at or after the app's
last config change, so scale-only changes complete too) and is healthy. An autoscaled app (AUTOSCALE_* labels) keeps its
live instance count, clamped to AUTOSCALE_MIN/MAX. A task lost with its agent (TASK_LOST, ...) is not held against the
version; a crash, TASK_ERROR or a health-check kill is. --stable-seconds N keeps watching N seconds after the deployment.
If Marathon's answer to the change is lost (reset, 5xx, unreadable), the app is read back: a change Marathon applied is
followed, one it did not is reported as not applied.

Every attempt, however it ends (refused, invalid, not confirmed, interrupted, dry run), is appended to the audit log
(BATON_AUDIT_LOG, default ~/.baton/audit.jsonl) with its outcome, exit code and message; \`baton history\` lists them.

A run that reached Marathon with a change (not a dry run) is then posted to the environment's "notify" webhooks: the
--json document plus a one-line "text"; the URL comes from the variable urlEnv names (unset: exit 2 before anything is
sent). Retried briefly; a failure is a warning naming the variable and never changes the exit code.

Exit codes: 0 every datacenter healthy on the new version (or already at it) · 2 invalid input (also an unwritable
  audit log) · 3 not confirmed · 4 rejected by Marathon (409 locked, 400/422, credentials refused) · 5 failed and rolled
  back · 6 timeout (rolled back) · 7 rollback failed · 8 Marathon unreachable · 9 superseded by another change
  10 image tag not in the registry · 11 release tag held by another digest · 12 registry auth refused (or credential
  helper failed) · 13 registry unreachable · 15 Marathon failed (5xx) and did not apply the change · 16 too many
  deployments running in Marathon (403) · 17 blue/green: an integration test failed (restored) · 130 interrupted (Ctrl-C)`,
    )
    .action(async (app: string, flags: DeployFlags) => {
      // Loaded on use so that `baton --help` does not pay for zod, axios and the config schemas.
      const { runDeploy } = await import('../deploy-run.js');
      process.exitCode = await runDeploy(app, flags);
    });
}

