import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** What this build is, for baton_autoscaler_build_info: the package's version (package.json) and Node's. */
export interface BuildInfo {
  version: string;
  nodeVersion: string;
}

/** Reads the version from the nearest package.json named "baton" above this module (dist/ or the sources alike). */
export function buildInfo(): BuildInfo {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: unknown; version?: unknown };
      if (manifest.name === 'baton' && typeof manifest.version === 'string') return { version: manifest.version, nodeVersion: process.version };
    } catch {
      // no package.json here: look further up
    }
    const parent = path.dirname(dir);
    if (parent === dir) return { version: 'unknown', nodeVersion: process.version };
    dir = parent;
  }
}
