import type { AuditOutcome, AuditStep } from '../audit/log.js';
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
  /** Rolling (Marathon's own upgrade) — pure: given the app as read right before the change, what to send. */
  decide?(live: AppInfo | null): SendDecision;
  /** Another strategy (blue/green): runs the whole change in the datacenter itself, through the engine's context. */
  execute?(context: ChangeContext): Promise<ChangeResult | 'interrupted-before-change'>;
  /** What the change does step by step, for the dry run and the plan printed before it (blue/green). */
  steps?: string[];
}

/** What the engine lends a strategy that runs a datacenter's change itself. */
export interface ChangeContext {
  /** The result so far (the change's fields); the strategy fills in outcome, message, durations. */
  result: ChangeResult;
  signal: AbortSignal;
  rollbackOnFailure: boolean;
  rollbackOnInterrupt: boolean;
  stableSeconds: number;
  timeoutSeconds?: number;
  force: boolean;
  say(line: string): void;
  info(line: string): void;
  /** The live progress line ("0:12 of 2:00 · ..."); `deadlineMs` is the wait's limit. */
  progress(line: string, elapsedMs: number, deadlineMs: number): void;
  endProgress(): void;
  /** An audit record of one step (outcome "step"), written at once. */
  recordStep(step: AuditStep, fields?: { appId?: string; deploymentId?: string; marathonVersion?: string; message?: string; durationMs?: number }): void;
  /** Where the change stands, for the records a second Ctrl-C owes. */
  inFlight(patch: { deploymentId?: string; marathonVersion?: string; phase?: 'sending' | 'waiting' | 'rollback' }): void;
  now(): number;
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
  /** Set when the change was not Marathon's rolling upgrade. */
  strategy?: 'blue-green';
}
