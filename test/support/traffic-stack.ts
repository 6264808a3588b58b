// The stack real-traffic tests run on, started once per file: the emulator with real task processes and marathon-lb
// with a real HAProxy in front of it; a deploy fixture per test, cleaned up after it.
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { RunningEmulator } from '../../src/emulator/index.js';
import type { DeployFixture } from './deploy-fixture.js';
import { startMarathonLb, type RunningMarathonLb } from './marathon-lb.js';
import { startServiceEmulator } from './process-emulator.js';

export interface TrafficStack {
  readonly emulator: RunningEmulator;
  readonly lb: RunningMarathonLb;
  /** The test's deploy fixture, cleaned up after it. */
  use(fixture: DeployFixture): DeployFixture;
}

export function withTrafficStack(): TrafficStack {
  let emulator: RunningEmulator | undefined;
  let lb: RunningMarathonLb | undefined;
  let fixture: DeployFixture | undefined;
  beforeAll(async () => {
    emulator = await startServiceEmulator();
    lb = await startMarathonLb({ marathonUrl: emulator.url });
  });
  afterAll(async () => {
    await lb?.stop();
    await emulator?.close();
  });
  afterEach(() => {
    fixture?.cleanup();
    fixture = undefined;
  });
  const started = <T>(value: T | undefined): T => {
    if (!value) throw new Error('the traffic stack is used outside a test');
    return value;
  };
  return {
    get emulator() {
      return started(emulator);
    },
    get lb() {
      return started(lb);
    },
    use: (f) => (fixture = f),
  };
}
