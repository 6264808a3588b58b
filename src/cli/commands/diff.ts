import { Command, Option } from 'commander';
import { datacenterOption } from '../dc-option.js';

export function register(program: Command): void {
  program
    .command('diff')
    .description('Show what deploying a version would change in each datacenter; changes nothing')
    .argument('<app>', 'app folder in the config dir')
    .requiredOption('-e, --env <env>', 'environment from environments.json')
    .requiredOption('-v, --version <tag>', 'the image tag that would be deployed')
    .addOption(datacenterOption())
    .option('--json', 'print the changes as JSON on stdout')
    .option('--exit-code', 'exit 1 when a deploy would change something, 0 when nothing (as git diff --exit-code)')
    .addOption(new Option('--config-dir <dir>', 'deploy-configs directory').env('BATON_CONFIG_DIR'))
    .addHelpText(
      'after',
      `
Examples:
  baton diff shop-web --env prod --version 1.4.2
  baton diff shop-web --env qa --version 1.4.2 --dc AA --json
  baton diff shop-web --env prod --version 1.4.2 --exit-code || echo "prod would change"

Secret-looking env values (names with PASSWORD, SECRET, TOKEN, KEY, ...) are masked.
Exit codes: 0 shown (with --exit-code: nothing would change) · 1 with --exit-code: something would change ·
  2 invalid input · 4 Marathon refused · 8 Marathon unreachable`,
    )
    .action(async (app: string, flags: { env: string; version: string; dc?: string; json?: boolean; exitCode?: boolean; configDir?: string }) => {
      const [{ planDeploy }, { commandTerminal, lineWriter }, { ExitCode }] = await Promise.all([
        import('../../rollout/plan-deploy.js'),
        import('../rollout-shell.js'),
        import('../../outcome/exit-codes.js'),
      ]);
      const terminal = commandTerminal(flags.json);
      // diff is read-only, so a confirm environment needs no confirmation here; and it compares definitions, so the
      // registry is not asked (a CI job diffs a release tag before it promotes the build to it).
      const plan = await planDeploy(app, { ...flags, yes: true, interactive: false, imageCheck: false }, lineWriter(flags.json), terminal);
      if (flags.json) {
        const datacenters = plan.changes.map((c) => ({
          datacenter: c.dc.name,
          marathon: c.client.baseUrl,
          exists: c.live !== null,
          changes: c.diff,
        }));
        process.stdout.write(`${JSON.stringify({ app, env: flags.env, version: flags.version, datacenters }, null, 2)}\n`);
      }
      if (flags.exitCode) process.exitCode = plan.changes.some((c) => c.live === null || c.diff.length > 0) ? ExitCode.changesFound : ExitCode.ok;
    });
}
