/** Why a registry operation failed, in the terms a user (or a CI script reading the exit code) can act on. */
export type RegistryErrorKind =
  | 'not-found' // the manifest (tag or digest) or the repository does not exist
  | 'conflict' // the destination tag already points at another digest
  | 'auth' // no credentials, credentials refused, access denied, or the docker credential helper failed
  | 'unreachable' // network error, DNS, TLS trust, timeout, or the registry keeps answering 5xx
  | 'protocol' // an answer Baton could not use (wrong media type, digest mismatch, rejected manifest)
  | 'invalid'; // bad input: image reference, tag, environment variable, docker config file or its missing credential helper

/** A failed registry operation. Never holds a credential or a token: only hosts, repositories, tags and digests. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    readonly kind: RegistryErrorKind,
    message: string,
    readonly detail: Record<string, unknown> = {},
    readonly status?: number,
  ) {
    super(message);
  }

  toJSON(): Record<string, unknown> {
    return { error: this.kind, message: this.message, status: this.status, ...this.detail };
  }
}
