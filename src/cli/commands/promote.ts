import type { Command } from 'commander';
import { CliError } from '../../outcome/cli-error.js';
import { paint, colorEnabled } from '../../terminal/output.js';

interface PromoteFlags {
  to: string;
  from: string;
  force?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  program
    .command('promote')
    .description('Point a release tag at the image another tag points at, through the registry API (no Docker daemon, layers never move)')
    .argument('<image>', 'image without tag, e.g. registry.example.com/shop/web or 127.0.0.1:5000/shop/web')
    .requiredOption('--to <tag>', 'destination tag (the release tag)')
    .option('--from <tag>', 'source tag (or digest)', 'latest')
    .option('--force', 'move --to even when it already points at another digest')
    .option('--json', 'print { image, from, to, digest, outcome } as JSON on stdout')
    .addHelpText(
      'after',
      `
Copies the manifest of <image>:<from> to <image>:<to> byte for byte (manifest lists and OCI indexes stay lists), and
checks that the registry stored the same digest. Release tags are immutable: if <to> already points at another digest,
promote refuses unless --force; if it already points at the same digest, nothing happens.

Examples:
  baton promote registry.example.com/shop/web --to 1.4.2
  baton promote registry.example.com/shop/web --from rc --to 1.4.2 --json
  baton promote 127.0.0.1:5000/shop/web --to 1.4.2 --force

Registry access:
  Loopback registries (localhost, 127.0.0.1, [::1]) and hosts in BATON_INSECURE_REGISTRIES (comma-separated,
  host or host:port) are spoken to over plain HTTP, all others over HTTPS (trust a private CA with
  NODE_EXTRA_CA_CERTS=ca.pem).

Credentials, first found wins (never printed):
  1. BATON_REGISTRY_USER + BATON_REGISTRY_PASSWORD
  2. auths.<host> in $DOCKER_CONFIG/config.json, default ~/.docker/config.json: its identitytoken (as docker,
     it wins over auth in the same entry; used only with a registry token server), else auth (or
     username/password)
  3. the credential helper that config names, as docker runs it: credHelpers.<host>, else credsStore
     ("ecr-login" runs docker-credential-ecr-login get from PATH, 10 s at most). A helper that has no
     credentials for the registry means anonymous access; Username "<token>" (an identity token) is
     used only with a registry token server
  4. anonymous

Exit codes:
  0 promoted or unchanged · 2 invalid input (also: a credential helper that is not installed)
  10 source tag missing · 11 destination tag held by another digest
  12 registry refused the credentials, or the credential helper failed · 13 registry unreachable
  70 unexpected registry answer`,
    )
    .action(async (image: string, flags: PromoteFlags) => {
      // Loaded on use so that `baton --help` does not pay for axios and the registry client.
      const [{ promoteTag, RegistryError }, { registryExitCodeFor, registryErrorCodeFor }] = await Promise.all([
        import('../../registry/index.js'),
        import('../../registry/exit-codes.js'),
      ]);
      let result;
      try {
        result = await promoteTag({ image, from: flags.from, to: flags.to, force: flags.force ?? false });
      } catch (error) {
        if (error instanceof RegistryError) {
          throw new CliError(error.message, registryExitCodeFor[error.kind], registryErrorCodeFor[error.kind], {
            image,
            from: flags.from,
            to: flags.to,
            ...error.detail,
          });
        }
        throw error;
      }
      if (flags.json) {
        const { image: name, from, to, digest, outcome, previousDigest } = result;
        process.stdout.write(`${JSON.stringify({ image: name, from, to, digest, outcome, ...(previousDigest && { previousDigest }) }, null, 2)}\n`);
        return;
      }
      const color = colorEnabled(process.stdout);
      const list = /list|index/.test(result.mediaType) ? ' (multi-arch list)' : '';
      const target = `${image}:${flags.to}`;
      const lines = {
        promoted: `${paint(color, 'green', 'promoted')} ${target} → ${result.digest}${list} (from ${flags.from})`,
        unchanged: `${paint(color, 'dim', 'unchanged')} ${target} already points at ${result.digest}${list}`,
        moved: `${paint(color, 'yellow', 'moved')} ${target} from ${result.previousDigest ?? '?'} → ${result.digest}${list} (from ${flags.from}, --force)`,
      };
      process.stdout.write(`${lines[result.outcome]}\n`);
    });
}
