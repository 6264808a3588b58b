// In-memory Marathon 1.10 emulator. Public API (others code against it): startEmulator and its option types.
export interface EmulatorOptions {
  host?: string;
  port?: number;
  credentials?: { username: string; password: string };
  token?: string;
  timings?: Partial<EmulatorTimings>;
  apps?: Record<string, unknown>[];
}

export interface EmulatorTimings {
  stagingMs: number;
  healthyMs: number;
  crashMs: number;
  killMs: number;
  backoffMs: number;
}

export interface RunningEmulator {
  url: string;
  port: number;
  close(): Promise<void>;
}

export const DEFAULT_TIMINGS: EmulatorTimings = {
  stagingMs: 300,
  healthyMs: 500,
  crashMs: 300,
  killMs: 100,
  backoffMs: 300,
};

export async function startEmulator(_options: EmulatorOptions = {}): Promise<RunningEmulator> {
  throw new Error('Marathon emulator: not implemented yet');
}
