import type { TaskUsage } from '../policy/types.js';

export interface InfluxSettings { url: string; database: string; username?: string; password?: string }
export interface UsageQueryOptions { taskIdTag: string; windowSeconds: number }

/** Pure; identifiers are escaped. Implementation follows. */
export function buildUsageQueries(_options: UsageQueryOptions): string[] {
  return [];
}

/** Pure. Implementation follows. */
export function usageFromResults(_results: unknown, _taskIdTag: string): Record<string, TaskUsage> {
  return {};
}

export class MetricsError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MetricsError';
  }
}

export class InfluxMetricsSource {
  constructor(private readonly settings: InfluxSettings) {}

  /** Exactly ONE HTTP request to InfluxDB for all apps' tasks. Throws MetricsError on failure. */
  async fetchUsage(_options: UsageQueryOptions): Promise<Record<string, TaskUsage>> {
    throw new MetricsError(`not implemented yet (${this.settings.url})`);
  }
}
