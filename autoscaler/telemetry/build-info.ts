import { packageVersion } from '../../src/package-info.js';

/** What this build is, for baton_autoscaler_build_info: the package's version (package.json) and Node's. */
export interface BuildInfo {
  version: string;
  nodeVersion: string;
}

export function buildInfo(): BuildInfo {
  return { version: packageVersion() ?? 'unknown', nodeVersion: process.version };
}
