import type { RegistryError, RegistryErrorKind } from './errors.js';
import { CliError } from '../outcome/cli-error.js';
import { ExitCode, type ExitCodeValue } from '../outcome/exit-codes.js';

/** Registry failures keep distinct exit codes wherever they happen (promote, or the checks deploy makes). */
export const registryExitCodeFor: Record<RegistryErrorKind, ExitCodeValue> = {
  'not-found': ExitCode.sourceTagMissing,
  conflict: ExitCode.tagHeldByOtherDigest,
  auth: ExitCode.registryAuthRefused,
  unreachable: ExitCode.registryUnreachable,
  invalid: ExitCode.invalidInput,
  protocol: ExitCode.internal,
};

export const registryErrorCodeFor: Record<RegistryErrorKind, string> = {
  'not-found': 'source-tag-missing',
  conflict: 'tag-held-by-other-digest',
  auth: 'registry-auth-refused',
  unreachable: 'registry-unreachable',
  invalid: 'invalid-input',
  protocol: 'registry-protocol',
};

export function registryCliError(error: RegistryError, prefix = ''): CliError {
  return new CliError(`${prefix}${error.message}`, registryExitCodeFor[error.kind], registryErrorCodeFor[error.kind]);
}
