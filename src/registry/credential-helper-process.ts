import { spawn } from 'node:child_process';
/** How a credential helper run ended (what the RunCredentialHelper adapter reports). */
export type CredentialHelperAnswer =
  | { outcome: 'exited'; exitCode: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }
  | { outcome: 'not-installed' }
  | { outcome: 'not-started'; reason: string }
  | { outcome: 'timed-out'; timeoutMs: number };

/** Runs `<executable> get` with `serverAddress` on stdin: the adapter loadRegistryCredentials is given. */
export type RunCredentialHelper = (executable: string, serverAddress: string, env: NodeJS.ProcessEnv) => Promise<CredentialHelperAnswer>;

export const credentialHelperTimeoutMs = 10_000;
// A helper answers with one small JSON object: anything longer is cut rather than held in memory.
const maxOutputChars = 64 * 1024;

/**
 * The docker-credential-helpers protocol, as the docker CLI speaks it: `docker-credential-<name> get`, the server address
 * on stdin (no newline), JSON on stdout. Looks the executable up on env.PATH. Never throws: every way it can end is an
 * answer for credentialsFromHelper to judge. A helper that outlives `timeoutMs` is killed.
 */
export function runCredentialHelper(
  executable: string,
  serverAddress: string,
  env: NodeJS.ProcessEnv,
  timeoutMs = credentialHelperTimeoutMs,
): Promise<CredentialHelperAnswer> {
  return new Promise((resolve) => {
    let settled = false;
    const finish = (answer: CredentialHelperAnswer) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(answer);
    };
    const child = spawn(executable, ['get'], { env, stdio: ['pipe', 'pipe', 'pipe'], windowsHide: true });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      if (stdout.length < maxOutputChars) stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      if (stderr.length < maxOutputChars) stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      // A grandchild may still hold the pipes open: stop waiting for them.
      child.stdout.destroy();
      child.stderr.destroy();
      finish({ outcome: 'timed-out', timeoutMs });
    }, timeoutMs);
    child.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') finish({ outcome: 'not-installed' });
      else finish({ outcome: 'not-started', reason: error.code === 'EACCES' ? 'EACCES (it is not executable)' : (error.code ?? error.message) });
    });
    child.on('close', (exitCode, signal) => finish({ outcome: 'exited', exitCode, signal, stdout, stderr }));
    // A helper may exit without reading its input; the pipe error that follows says nothing its exit does not.
    child.stdin.on('error', () => undefined);
    child.stdin.end(serverAddress);
  });
}
