import { MarathonClient } from './client.js';
import type { DatacenterConfig } from '../config/environments.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode } from '../outcome/exit-codes.js';

/**
 * The Marathon client for one datacenter, with credentials taken from the environment variables the config names.
 * A named variable that is unset is an error (a silent anonymous request would only fail later with a vaguer 401).
 */
export function marathonFor(
  dc: DatacenterConfig,
  env: NodeJS.ProcessEnv = process.env,
  options: { readRetries?: number; retryBaseDelayMs?: number } = {},
): MarathonClient {
  const read = (name: string | undefined, what: string) => {
    if (!name) return undefined;
    const value = env[name];
    if (!value) {
      throw new CliError(
        `datacenter ${dc.name}: environment variable ${name} (${what}, named by ${dc.credentialsEnv === name ? 'credentialsEnv' : 'tokenEnv'}) is not set: ` +
          `export ${name}=${dc.credentialsEnv === name ? '<user>:<password>' : '<token>'} first, or remove ${dc.credentialsEnv === name ? 'credentialsEnv' : 'tokenEnv'} from environments.json if that Marathon needs none`,
        ExitCode.invalidInput,
        'missing-credentials',
        { datacenter: dc.name, variable: name },
      );
    }
    return value;
  };
  const basic = read(dc.credentialsEnv, 'user:password for HTTP Basic');
  if (basic !== undefined && !basic.includes(':')) {
    throw new CliError(
      `datacenter ${dc.name}: ${dc.credentialsEnv} must hold "user:password"`,
      ExitCode.invalidInput,
      'bad-credentials',
      { datacenter: dc.name, variable: dc.credentialsEnv },
    );
  }
  const token = read(dc.tokenEnv, 'a DC/OS token');
  const trace = env.BATON_DEBUG ? (line: string) => void process.stderr.write(`baton: debug: ${dc.name}: ${line}\n`) : undefined;
  return new MarathonClient({ url: dc.marathon, auth: { basic, token }, ...options, ...(trace ? { trace } : {}) });
}
