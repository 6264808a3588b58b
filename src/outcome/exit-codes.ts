/** Documented exit codes of `baton` (docs/exit-codes.md). Scripts depend on them: never renumber. */
export const ExitCode = {
  ok: 0,
  /** A command finished but not everything is as asked (e.g. status with an unreachable datacenter). */
  partial: 1,
  /** baton diff --exit-code: a deploy would change something (as `git diff --exit-code`). */
  changesFound: 1,
  /** Bad flags, bad config files, invalid definitions: nothing was sent. */
  invalidInput: 2,
  /** A confirm environment was not confirmed (answer was not yes, or no TTY and no --yes). Nothing was sent. */
  notConfirmed: 3,
  /** Marathon refused the change (400/422 validation, 409 locked, 401/403 credentials refused). */
  rejected: 4,
  /** The new version failed (crash loop, unhealthy) and was rolled back; or failed with --no-rollback. */
  failedRolledBack: 5,
  /** The deadline passed before the new version was healthy (rolled back unless --no-rollback). */
  timeout: 6,
  /** A rollback was needed and did not restore a healthy previous version: act now. */
  rollbackFailed: 7,
  /** Marathon (or the registry) could not be reached. */
  unreachable: 8,
  /** Someone else's change replaced ours while we waited (a forced deploy, a cancel): not a success. */
  superseded: 9,
  /** Interrupted by Ctrl-C while waiting; the deployment continues in Marathon. */
  interrupted: 130,
  // Registry promotion (baton promote): distinct codes so CI can tell the cases apart.
  /** The source tag does not exist in the registry. */
  sourceTagMissing: 10,
  /** The destination tag already points at another digest (release tags are immutable without --force). */
  tagHeldByOtherDigest: 11,
  /** The registry refused our credentials (or the docker credential helper that should give them failed). */
  registryAuthRefused: 12,
  /** The registry could not be reached. */
  registryUnreachable: 13,
  /** baton status --fail-on: a listed condition (drift, unhealthy, ...) holds for some row shown. Wins over partial (1). */
  failOnConditionHeld: 14,
  /** Marathon answered 5xx (no leader, storage timeout) and a read-back showed the change was not applied. */
  marathonError: 15,
  /** Marathon refused the change because too many deployments run (403 TooManyRunningDeploymentsException). */
  tooManyDeployments: 16,
  /** Blue/green: a pre- or post-integration test failed or timed out (the previous colour was restored unless --no-rollback). */
  integrationTestFailed: 17,
  /** Something Baton did not expect: a bug or an odd server answer. */
  internal: 70,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];
