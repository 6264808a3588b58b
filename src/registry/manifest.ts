import { createHash } from 'node:crypto';

/** The manifest kinds promote copies byte for byte. Asking for all of them keeps a v2 registry from converting to schema1. */
export const MANIFEST_MEDIA_TYPES = [
  'application/vnd.docker.distribution.manifest.v2+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.oci.image.index.v1+json',
] as const;

export const MANIFEST_ACCEPT = MANIFEST_MEDIA_TYPES.join(', ');

export interface Manifest {
  mediaType: string;
  /** Exactly what the registry sent: the digest is over these bytes, so they must never be re-serialized. */
  bytes: Buffer;
  digest: string;
}

const hashes: Record<string, string> = { sha256: 'sha256', sha384: 'sha384', sha512: 'sha512' };

/** The digest of `bytes` with the algorithm of `like` (sha256 unless told), or null for an algorithm Node lacks. */
export function digestOf(bytes: Buffer, like = 'sha256:'): string | null {
  const algorithm = like.slice(0, like.indexOf(':')).toLowerCase();
  const hash = hashes[algorithm];
  return hash ? `${algorithm}:${createHash(hash).update(bytes).digest('hex')}` : null;
}

/** "application/vnd…+json; charset=utf-8" → "application/vnd…+json". */
export function bareMediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}
