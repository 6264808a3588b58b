/** A Docker image reference split where the tag or digest goes; the registry/repository part is kept verbatim. */
export interface ImageParts {
  name: string;
  tag?: string;
  digest?: string;
}

export function splitImage(image: string): ImageParts {
  const at = image.indexOf('@');
  const withoutDigest = at >= 0 ? image.slice(0, at) : image;
  const digest = at >= 0 ? image.slice(at + 1) : undefined;
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  if (colon < 0) return { name: withoutDigest, digest };
  return { name: withoutDigest.slice(0, colon), tag: withoutDigest.slice(colon + 1), digest };
}

export function withTag(image: string, tag: string): string {
  return `${splitImage(image).name}:${tag}`;
}

export function withDigest(image: string, digest: string): string {
  return `${splitImage(image).name}@${digest}`;
}

/** Docker's tag grammar: [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}. */
export const TAG_PATTERN = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;
