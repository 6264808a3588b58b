import type { AuditOutcome } from '../audit/log.js';
import type { DatacenterConfig } from '../config/environments.js';
import type { DiffEntry } from '../deploy/diff.js';
import type { RolloutReport } from '../deploy/rollout.js';
import type { MarathonClient } from '../marathon/client.js';
import type { AppDefinition, AppInfo } from '../marathon/types.js';

/**
 * What to do in a datacenter, decided on the read of the live app taken right before changing it (the plan may be minutes
 * old: a prompt, an earlier datacenter's wait).
 */
export type SendDecision =
  | { kind: 'put'; definition: AppDefinition }
  | { kind: 'restart' }
  /** Our exact definition is already being rolled out (an earlier run was interrupted): follow it instead of a 409. */
  | { kind: 'follow'; deploymentId: string }
  /** Nothing is sent: already there, or the app changed under the plan. */
  | { kind: 'none'; outcome: Extract<AuditOutcome, 'unchanged' | 'failed' | 'superseded'>; message: string };

/** One datacenter's change, as a planner (deploy, rollback) prepared it. Nothing has been sent when it exists. */
export interface PlannedChange {
  dc: DatacenterConfig;
  client: MarathonClient;
  appId: string;
  /** The live app as read when planning; null when the app does not exist there yet. */
  live: AppInfo | null;
  fromVersion: string | null;
  /** The image tag the datacenter ends on (a rollback picks one per datacenter). */
  toVersion: string | null;
  /** The stored Marathon version whose definition a rollback puts back. */
  targetMarathonVersion?: string;
  image?: string;
  digest?: string;
  /** The definition the change sends (its health checks size the default deadline). */
  definition?: AppDefinition;
  diff: DiffEntry[];
  /** Notes the planner shows and keeps in the result (e.g. "instances kept at 4: autoscaled"). */
  notes?: string[];
  /** Pure: given the app as read right before the change, what to send. */
  decide(live: AppInfo | null): SendDecision;
}

/** What became of one datacenter's change: printed, put in --json, and (through the ledger) in the audit log. */
export interface ChangeResult {
  datacenter: string;
  marathon: string;
  appId: string;
  outcome: AuditOutcome;
  message?: string;
  fromVersion: string | null;
  fromMarathonVersion?: string;
  toVersion: string | null;
  targetMarathonVersion?: string;
  image?: string;
  /** The registry digest of the image, when the registry was asked (always with --pin-digest). */
  digest?: string;
  deploymentId?: string;
  /** The Marathon version our change created. */
  marathonVersion?: string;
  changes: DiffEntry[];
  notes?: string[];
  durations: { totalMs: number; waitMs?: number; rollbackMs?: number; stableMs?: number };
  rollback?: RolloutReport['rollback'];
  marathonError?: Record<string, unknown>;
  /** The HTTP status of Marathon's refusal (a 409 has stored a version that never ran). */
  marathonStatus?: number;
}
