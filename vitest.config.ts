import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Tests start real servers (emulator, InfluxDB, registry) on free ports; two workers fit two cores.
    maxWorkers: 2,
  },
});
