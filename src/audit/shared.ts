import type { AuditSinkConfig } from '../config/environments.js';
import { readInfluxAuditRecords, sinkLabel } from './influx.js';
import { auditLogPath, mergeAuditRecords, readAllAuditRecords, readAuditRecords, withoutAnsweredStarts, type AuditRecord } from './log.js';

/**
 * The audit records history and rollback go by: the local log, merged with the shared audit trail when environments.json
 * configures one (each record once). When the trail cannot be read: one warning line on stderr, and the local log alone.
 */
export async function readSharedAuditRecords(
  sink: AuditSinkConfig | undefined,
  where: { app: string; env: string },
  warn: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Promise<AuditRecord[]> {
  if (!sink) return readAuditRecords(auditLogPath());
  const local = readAllAuditRecords(auditLogPath());
  try {
    const shared = await readInfluxAuditRecords(sink, where);
    return withoutAnsweredStarts(mergeAuditRecords(local, shared));
  } catch (error) {
    warn(`baton: warning: the shared audit trail (${sinkLabel(sink)}) could not be read (${(error as Error).message}): using the local audit log only`);
    return withoutAnsweredStarts(local);
  }
}
