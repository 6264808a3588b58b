import type { MarathonClient } from './client.js';
import type { JsonObject } from './types.js';
import type { MarathonVersion } from '../status/history.js';

/** Parallel GETs of stored versions per Marathon: enough to be quick, few enough not to load a busy leader. */
const VERSION_READS_IN_PARALLEL = 4;

/**
 * Reads the stored definitions of some of an app's Marathon versions (GET /v2/apps/{id}/versions/{v}), keeping their order.
 * A version that cannot be read becomes an entry with `error`, so one bad answer does not hide the rest of the history.
 */
export async function readVersionDefinitions(client: MarathonClient, appId: string, versions: string[]): Promise<MarathonVersion[]> {
  const results: MarathonVersion[] = new Array(versions.length);
  let next = 0;
  const worker = async () => {
    while (next < versions.length) {
      const index = next++;
      const marathonVersion = versions[index]!;
      try {
        results[index] = { marathonVersion, definition: (await client.getAppVersion(appId, marathonVersion)) as JsonObject };
      } catch (error) {
        results[index] = { marathonVersion, definition: null, error: error instanceof Error ? error.message : String(error) };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(VERSION_READS_IN_PARALLEL, versions.length) }, worker));
  return results;
}
