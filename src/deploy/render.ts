import type { AppDefinition, JsonObject } from '../marathon/types.js';
import { withDigest, withTag } from './image.js';

export const VERSION_LABEL = 'BATON_VERSION';

export interface RenderOptions {
  version: string;
  /** sha256:… — deploy image@digest so every datacenter runs the same bits. */
  digest?: string;
}

/**
 * The definition Baton sends: the image carries the requested tag (or digest), the agent always pulls, and a label records
 * the version. Nothing per-run goes in, so rendering the same version twice gives the same definition (a no-op in Marathon).
 */
export function renderDefinition(definition: AppDefinition, options: RenderOptions): AppDefinition {
  const rendered = structuredClone(definition) as AppDefinition;
  const container = asObject(rendered.container);
  const docker = asObject(container?.docker);
  if (!container || !docker || typeof docker.image !== 'string') {
    throw new Error(`${definition.id}: container.docker.image is required to deploy a version`);
  }
  docker.image = options.digest ? withDigest(docker.image, options.digest) : withTag(docker.image, options.version);
  docker.forcePullImage = true;
  rendered.labels = { ...(asObject(rendered.labels) as Record<string, string> | undefined), [VERSION_LABEL]: options.version };
  return rendered;
}

export function imageOf(definition: JsonObject | null | undefined): string | undefined {
  const image = asObject(asObject(definition?.container)?.docker)?.image;
  return typeof image === 'string' ? image : undefined;
}

/** The version a live app runs according to Baton's label, falling back to the image tag. */
export function versionOf(definition: JsonObject | null | undefined): string | undefined {
  const label = asObject(definition?.labels)?.[VERSION_LABEL];
  if (typeof label === 'string') return label;
  const image = imageOf(definition);
  if (!image) return undefined;
  const lastSlash = image.lastIndexOf('/');
  const tail = image.slice(lastSlash + 1).split('@')[0] ?? '';
  const colon = tail.indexOf(':');
  return colon >= 0 ? tail.slice(colon + 1) : undefined;
}

function asObject(value: unknown): JsonObject | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as JsonObject) : undefined;
}
