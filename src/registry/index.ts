import { RegistryClient, type RegistryAction } from './client.js';
import { loadRegistryCredentials, type CredentialLookup } from './credentials.js';
import { RegistryError } from './errors.js';
import type { Manifest } from './manifest.js';
import { planPromotion } from './plan.js';
import {
  isValidDigest,
  isValidTag,
  parseImageReference,
  parseInsecureRegistries,
  repositoryName,
  type ImageReference,
} from './reference.js';

export { RegistryClient } from './client.js';
export { RegistryError, type RegistryErrorKind } from './errors.js';
export { parseImageReference, type ImageReference } from './reference.js';
export { planPromotion, type PromotionPlan } from './plan.js';

export interface PromoteTagOptions {
  /** Image without tag: "registry.example.com/shop/web", "127.0.0.1:5000/shop/web". */
  image: string;
  /** Source tag (or digest). */
  from: string;
  /** Destination tag: the release tag. */
  to: string;
  /** Move `to` even when it already points at another digest. */
  force?: boolean;
  /** BATON_INSECURE_REGISTRIES, BATON_REGISTRY_USER/PASSWORD, DOCKER_CONFIG, HOME, and PATH for a credential helper. Default process.env. */
  env?: NodeJS.ProcessEnv;
}

export interface PromotionResult {
  image: string;
  from: string;
  to: string;
  /** The digest `to` points at now (the source's). */
  digest: string;
  outcome: 'promoted' | 'unchanged' | 'moved';
  /** The media type copied: a manifest list or OCI index stays one. */
  mediaType: string;
  /** What `to` pointed at before it was moved (outcome "moved" only). */
  previousDigest?: string;
}

/**
 * Points `to` at the manifest `from` points at, by copying the manifest's exact bytes (layers never move): what
 * `crane tag` does. Refuses to move a `to` that holds another digest unless `force`; a `to` that already holds the
 * source digest is left alone. Throws RegistryError: 'not-found' (source missing), 'conflict' (tag held by another
 * digest), 'auth', 'unreachable', 'protocol', 'invalid' (bad image, tag or credentials settings).
 */
export async function promoteTag(options: PromoteTagOptions): Promise<PromotionResult> {
  const env = options.env ?? process.env;
  const { from, to, image } = options;
  const reference = parseImageReference(image, { insecureRegistries: parseInsecureRegistries(env.BATON_INSECURE_REGISTRIES) });
  if (reference.tag !== undefined || reference.digest !== undefined) {
    throw new RegistryError(
      'invalid',
      `image "${image}" must not carry a tag or digest: name the source with --from and the destination with --to`,
      { image },
    );
  }
  if (!isValidTag(from) && !isValidDigest(from)) {
    throw new RegistryError('invalid', `--from "${from}" is neither a tag nor a digest`, { from });
  }
  if (!isValidTag(to)) {
    throw new RegistryError('invalid', `--to "${to}" is not a valid tag (letters, digits, "_", "." and "-", up to 128, not starting with "." or "-")`, { to });
  }
  const name = repositoryName(reference);
  const client = await clientFor(reference, env, ['pull', 'push']);

  let source: Manifest;
  try {
    source = await client.getManifest(reference.repository, from);
  } catch (error) {
    if (error instanceof RegistryError && error.kind === 'not-found') {
      const what = isValidDigest(from) ? 'source digest' : 'source tag';
      throw new RegistryError('not-found', `${what} ${from} not found: ${error.message}`, { image, from, to }, 404);
    }
    throw error;
  }
  const existing = await client.headManifest(reference.repository, to);
  const plan = planPromotion(source, existing === null ? null : { digest: existing }, options.force ?? false);
  const result = { image, from, to, digest: source.digest, mediaType: source.mediaType };

  if (plan.action === 'refuse') {
    throw new RegistryError(
      'conflict',
      `${name}:${to} already points at ${plan.existingDigest}, not at ${source.digest} (${from}); release tags are immutable: use --force to move it`,
      { image, from, to, digest: source.digest, existingDigest: plan.existingDigest },
    );
  }
  if (plan.action === 'noop') return { ...result, outcome: plan.outcome };

  const stored = await client.putManifest(reference.repository, to, source.mediaType, source.bytes);
  if (stored !== source.digest) {
    throw new RegistryError('protocol', `registry ${reference.registry} stored ${name}:${to} as ${stored}, expected ${source.digest}`, {
      image,
      to,
      digest: source.digest,
      storedDigest: stored,
    });
  }
  return plan.outcome === 'moved' ? { ...result, outcome: 'moved', previousDigest: plan.previousDigest } : { ...result, outcome: 'promoted' };
}

/**
 * The digest `imageWithTag` points at ("registry.example.com/shop/web:1.4.2"; no tag means "latest", a digest is
 * checked for existence), or null when it does not exist. Asks only for pull access. Throws RegistryError on auth,
 * unreachable, protocol and invalid-reference failures.
 */
export async function resolveImageDigest(imageWithTag: string, env: NodeJS.ProcessEnv = process.env): Promise<string | null> {
  const reference = parseImageReference(imageWithTag, { insecureRegistries: parseInsecureRegistries(env.BATON_INSECURE_REGISTRIES) });
  const client = await clientFor(reference, env, ['pull']);
  return client.headManifest(reference.repository, reference.digest ?? reference.tag ?? 'latest');
}

// `baton deploy --promote` asks about one registry three times: a credential helper (a process, perhaps a keychain
// prompt) runs once per registry and environment.
const credentialLookups = new WeakMap<NodeJS.ProcessEnv, Map<string, Promise<CredentialLookup>>>();

function registryCredentials(registry: string, env: NodeJS.ProcessEnv): Promise<CredentialLookup> {
  let byRegistry = credentialLookups.get(env);
  if (!byRegistry) credentialLookups.set(env, (byRegistry = new Map()));
  let lookup = byRegistry.get(registry);
  if (!lookup) byRegistry.set(registry, (lookup = loadRegistryCredentials(registry, env)));
  return lookup;
}

async function clientFor(reference: ImageReference, env: NodeJS.ProcessEnv, actions: readonly RegistryAction[]): Promise<RegistryClient> {
  const { credentials, note } = await registryCredentials(reference.registry, env);
  return new RegistryClient({
    apiBase: reference.apiBase,
    registry: reference.registry,
    credentials,
    ...(note !== undefined && { credentialsNote: note }),
    actions,
    insecureRegistries: parseInsecureRegistries(env.BATON_INSECURE_REGISTRIES),
  });
}
