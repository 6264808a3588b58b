/** Appends to a log that keeps only its newest `max` entries (trimmed in batches, so appending stays cheap). */
export function pushBounded<T>(log: T[], entry: T, max = 100_000): void {
  log.push(entry);
  if (log.length > max * 1.1) log.splice(0, log.length - max);
}
