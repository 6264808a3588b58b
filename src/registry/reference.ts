import { RegistryError } from './errors.js';

/** A Docker image reference, resolved the way `docker pull` resolves it. */
export interface ImageReference {
  /** Registry host as users name it (with port): "127.0.0.1:5000", "registry.example.com", "docker.io". */
  registry: string;
  /** Repository path inside the registry: "shop/web", "library/nginx". */
  repository: string;
  tag?: string;
  digest?: string;
  /** Where the v2 API lives: "http://127.0.0.1:5000", "https://registry-1.docker.io". */
  apiBase: string;
  /** True when the API is spoken over plain HTTP (loopback, or listed in BATON_INSECURE_REGISTRIES). */
  insecure: boolean;
}

export interface ReferenceOptions {
  /** Hosts (optionally with port) that speak plain HTTP: the parsed BATON_INSECURE_REGISTRIES. */
  insecureRegistries?: readonly string[];
}

export const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_API = 'https://registry-1.docker.io';
const DOCKER_HUB_ALIASES = new Set(['docker.io', 'index.docker.io', 'registry-1.docker.io']);

// The grammar of github.com/distribution/reference, reduced to what Baton needs.
const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const domainName = /^(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)(?:\.(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?))*(?::[0-9]+)?$/;
const ipv6Domain = /^\[[0-9a-fA-F:.]+\](?::[0-9]+)?$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const maxNameLength = 255;

export function isValidTag(tag: string): boolean {
  return tagPattern.test(tag);
}

export function isValidDigest(digest: string): boolean {
  return digestPattern.test(digest);
}

/**
 * Parses `[registry/]repository[:tag][@digest]` with Docker's rules: the first path part is the registry host when it
 * contains "." or ":", is "localhost", or has upper-case letters; otherwise the image lives on Docker Hub, where
 * single-part names get the "library/" prefix. Throws RegistryError('invalid') naming what is wrong.
 */
export function parseImageReference(ref: string, options: ReferenceOptions = {}): ImageReference {
  const input = ref.trim();
  const fail = (why: string): never => {
    throw new RegistryError('invalid', `invalid image reference "${ref}": ${why}`, { reference: ref });
  };
  if (input === '') fail('it is empty');

  let remainder = input;
  let digest: string | undefined;
  const at = remainder.indexOf('@');
  if (at >= 0) {
    digest = remainder.slice(at + 1);
    remainder = remainder.slice(0, at);
    if (!isValidDigest(digest)) fail(`"${digest}" is not a digest (expected algorithm:hex, e.g. sha256:…)`);
  }

  let tag: string | undefined;
  const colon = remainder.lastIndexOf(':');
  if (colon > remainder.lastIndexOf('/')) {
    tag = remainder.slice(colon + 1);
    remainder = remainder.slice(0, colon);
    if (!isValidTag(tag)) fail(`tag "${tag}" is not valid (letters, digits, "_", "." and "-", up to 128, not starting with "." or "-")`);
  }

  let registry = DOCKER_HUB;
  let path = remainder;
  const slash = remainder.indexOf('/');
  if (slash > 0) {
    const first = remainder.slice(0, slash);
    if (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first) {
      registry = first;
      path = remainder.slice(slash + 1);
    }
  }
  if (!domainName.test(registry) && !ipv6Domain.test(registry)) fail(`"${registry}" is not a registry host`);
  if (DOCKER_HUB_ALIASES.has(registry.toLowerCase())) registry = DOCKER_HUB;
  if (path === '') fail('the repository name is missing');
  if (registry === DOCKER_HUB && !path.includes('/')) path = `library/${path}`;
  for (const part of path.split('/')) {
    if (part !== part.toLowerCase()) fail('the repository name must be lowercase');
    if (!pathComponent.test(part)) {
      fail(`"${part}" is not a valid repository path component (lowercase letters and digits, separated by ".", "_", "__" or "-")`);
    }
  }
  if (`${registry}/${path}`.length > maxNameLength) fail(`the name is longer than ${maxNameLength} characters`);

  const insecure = registry !== DOCKER_HUB && isPlainHttpRegistry(registry, options.insecureRegistries ?? []);
  const apiBase = registry === DOCKER_HUB ? DOCKER_HUB_API : `${insecure ? 'http' : 'https'}://${registry}`;
  return { registry, repository: path, ...(tag !== undefined && { tag }), ...(digest !== undefined && { digest }), apiBase, insecure };
}

/** The registry-and-repository part of a reference, as users write it: "127.0.0.1:5000/shop/web". */
export function repositoryName(reference: Pick<ImageReference, 'registry' | 'repository'>): string {
  return `${reference.registry}/${reference.repository}`;
}

/** Splits "host:port" (or "[v6]:port") into its host and optional port. */
export function splitHostPort(hostWithPort: string): { host: string; port?: string } {
  const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hostWithPort);
  if (!match) return { host: hostWithPort };
  return { host: match[1]!, ...(match[2] !== undefined && { port: match[2] }) };
}

/** Loopback hosts are spoken to over plain HTTP, like Docker and crane do. */
export function isLoopbackHost(host: string): boolean {
  const name = host.toLowerCase();
  return name === 'localhost' || name === '[::1]' || name === '::1' || /^127(?:\.\d{1,3}){3}$/.test(name);
}

/**
 * Plain HTTP is used for loopback registries and for those listed in BATON_INSECURE_REGISTRIES: an entry with a port
 * matches only that port, an entry without one matches the host on any port.
 */
export function isPlainHttpRegistry(hostWithPort: string, insecureRegistries: readonly string[]): boolean {
  const { host } = splitHostPort(hostWithPort);
  if (isLoopbackHost(host)) return true;
  const wanted = hostWithPort.toLowerCase();
  return insecureRegistries.some((entry) => {
    const listed = entry.toLowerCase();
    return listed === wanted || (!splitHostPort(listed).port && listed === host.toLowerCase());
  });
}

/** BATON_INSECURE_REGISTRIES: hosts separated by commas or spaces ("reg.internal:5000, build-cache"). */
export function parseInsecureRegistries(value: string | undefined): string[] {
  return (value ?? '')
    .split(/[\s,]+/)
    .map((entry) => entry.trim().replace(/^https?:\/\//, '').replace(/\/+$/, ''))
    .filter((entry) => entry !== '');
}
