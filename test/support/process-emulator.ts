// The emulator with real task processes running the test service (test/support/test-service.mjs), for tests and
// benchmarks that send real traffic through marathon-lb. Imports only node: modules and the emulator, so that scripts/
// can load it (scripts/bench-zero-downtime.mjs rewrites the emulator import to dist/).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startEmulator, type EmulatorOptions, type RunningEmulator } from '../../src/emulator/index.js';

/**
 * Docker apps run the test service instead of their image: the image tag is its version (and its failure mode).
 * `testService`: where test-service.mjs is, for a copy of this module loaded from elsewhere (the bench).
 */
export function startProcessEmulator(options: EmulatorOptions = {}, testService = path.join(path.dirname(fileURLToPath(import.meta.url)), 'test-service.mjs')): Promise<RunningEmulator> {
  return startEmulator({ tasks: 'processes', imageCommand: `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(testService)}`, ...options });
}

/** What the test service answers on GET / when it runs `version`. */
export function serviceAnswer(version: string): string {
  return version;
}
