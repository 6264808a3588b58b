import { diffDefinitions, maskEntry, type DiffEntry } from '../deploy/diff.js';
import { splitImage } from '../deploy/image.js';
import { imageOf, renderDefinition, VERSION_LABEL, versionOf } from '../deploy/render.js';
import { isAutoscaled, labelsOf } from '../autoscale/labels.js';
import type { AppDefinition, JsonObject } from '../marathon/types.js';


export interface AutoscalerSettings {
  min?: string;
  max?: string;
  targetCpu?: string;
  targetMemory?: string;
}

/** The autoscaler settings read from an app's labels, or null when the autoscaler does not manage it. */
export function autoscalerOf(definition: JsonObject | null | undefined): AutoscalerSettings | null {
  if (!isAutoscaled(definition)) return null;
  const labels = labelsOf(definition);
  const settings: AutoscalerSettings = {};
  if (labels.AUTOSCALE_MIN !== undefined) settings.min = labels.AUTOSCALE_MIN;
  if (labels.AUTOSCALE_MAX !== undefined) settings.max = labels.AUTOSCALE_MAX;
  if (labels.AUTOSCALE_TARGET_CPU !== undefined) settings.targetCpu = labels.AUTOSCALE_TARGET_CPU;
  if (labels.AUTOSCALE_TARGET_MEMORY !== undefined) settings.targetMemory = labels.AUTOSCALE_TARGET_MEMORY;
  return settings;
}

/** "2-10 cpu 0.6 mem 0.8": the autoscaler settings in one short cell. */
export function describeAutoscaler(settings: AutoscalerSettings | null): string {
  if (!settings) return '-';
  const range = `${settings.min ?? '?'}-${settings.max ?? '?'}`;
  const cpu = settings.targetCpu !== undefined ? ` cpu ${settings.targetCpu}` : '';
  const mem = settings.targetMemory !== undefined ? ` mem ${settings.targetMemory}` : '';
  return `${range}${cpu}${mem}`;
}

/**
 * How the live app differs from its deploy-config, other than what a deploy changes anyway: the image tag (and the version
 * label that records it) and, for an autoscaled app, `instances`. The config is rendered at the live tag or digest so that
 * only a different image *name* counts. Secret-looking values come back masked.
 */
export function configDrift(live: JsonObject, config: AppDefinition): DiffEntry[] {
  const desired = renderedLike(live, config);
  const autoscaled = isAutoscaled(live) || isAutoscaled(config);
  return diffDefinitions(live, desired)
    .filter((entry) => entry.path !== `labels.${VERSION_LABEL}`)
    .filter((entry) => !(entry.path === IMAGE_PATH && sameRepository(entry.before, entry.after)))
    .filter((entry) => !(autoscaled && entry.path === 'instances'))
    .map(maskEntry);
}

const IMAGE_PATH = 'container.docker.image';

function sameRepository(a: unknown, b: unknown): boolean {
  return typeof a === 'string' && typeof b === 'string' && splitImage(a).name === splitImage(b).name;
}

function renderedLike(live: JsonObject, config: AppDefinition): AppDefinition {
  const liveImage = imageOf(live);
  const version = versionOf(live);
  if (!liveImage || !version || !imageOf(config)) return config;
  const digest = splitImage(liveImage).digest;
  return renderDefinition(config, digest ? { version, digest } : { version });
}
