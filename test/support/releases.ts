import net from 'node:net';
import { afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { runBaton, type CliResult } from './cli.js';
import { makeDeployFixture, type DeployFixture } from './deploy-fixture.js';
import { withEmulator, type EmulatorFixture } from './emulator.js';

/**
 * A URL on 127.0.0.1 where nothing listens: a datacenter that is down. A privileged port (below the ephemeral range), so
 * no server of a test running alongside is given it meanwhile, as a freed ephemeral port can be; checked refused.
 */
export async function closedPortUrl(): Promise<string> {
  for (const port of [9, 1, 7, 13, 19, 37]) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
    });
    if (refused) return `http://127.0.0.1:${port}`;
  }
  throw new Error('no closed privileged port on 127.0.0.1 for a datacenter that is down');
}

export interface Datacenters {
  aa: EmulatorFixture;
  bb: EmulatorFixture;
  /** Where a third datacenter would be, with nothing listening. */
  readonly down: string;
}

/** Two emulated Marathons for the tests of the calling file, emptied before each test, and the URL of one that is down. */
export function emulatedDatacenters(): Datacenters {
  const aa = withEmulator();
  const bb = withEmulator();
  let down = '';
  beforeAll(async () => {
    down = await closedPortUrl();
  });
  beforeEach(async () => {
    await Promise.all([aa.control('reset'), bb.control('reset')]);
  });
  return {
    aa,
    bb,
    get down() {
      return down;
    },
  };
}

/** Seeds a release the way a release manager does: the real `baton deploy`, as `user`. Fails the test unless it exits `expectCode`. */
export async function deployAs(fixture: DeployFixture, user: string, args: string[], expectCode = 0): Promise<CliResult> {
  const result = await runBaton(['deploy', ...args], { env: { ...fixture.env, BATON_USER: user } });
  expect(result.code, `baton deploy ${args.join(' ')}\n${result.stdout}\n${result.stderr}`).toBe(expectCode);
  return result;
}

/**
 * Two emulated datacenters plus one that is down, and a fresh deploy-configs directory for each test: qa spans both
 * emulators, prod (confirm) has AA and the one that is down.
 */
export function qaAndProdWithOneDown(): Datacenters & { readonly fixture: DeployFixture } {
  const dcs = emulatedDatacenters();
  let fixture: DeployFixture | undefined;
  beforeEach(() => {
    fixture = makeDeployFixture({
      qa: { datacenters: { AA: { url: dcs.aa.url }, BB: { url: dcs.bb.url } } },
      prod: { confirm: true, datacenters: { AA: { url: dcs.aa.url }, BB: { url: dcs.down } } },
    });
  });
  afterEach(() => fixture?.cleanup());
  return {
    aa: dcs.aa,
    bb: dcs.bb,
    get down() {
      return dcs.down;
    },
    get fixture() {
      if (!fixture) throw new Error('the config fixture is used outside a test');
      return fixture;
    },
  };
}
