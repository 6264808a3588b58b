/** Time as the emulator sees it: injectable so the model's tests advance time instead of sleeping. */
export interface Clock {
  now(): number;
  /** Runs `run` after `ms`; the returned function cancels it (a no-op once it ran). */
  schedule(ms: number, run: () => void): () => void;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  schedule(ms, run) {
    const handle = setTimeout(run, Math.max(0, ms));
    return () => clearTimeout(handle);
  },
};

export interface ManualClock extends Clock {
  /** Moves time forward by `ms`, running every timer that falls due, in due order (ties: scheduling order). */
  advance(ms: number): void;
  /** Timers scheduled and neither run nor cancelled. */
  pending(): number;
}

export function createManualClock(start = Date.UTC(2024, 0, 1)): ManualClock {
  let now = start;
  let sequence = 0;
  const timers = new Map<number, { due: number; run: () => void }>();

  const nextDue = (limit: number): [number, { due: number; run: () => void }] | undefined => {
    let best: [number, { due: number; run: () => void }] | undefined;
    for (const entry of timers) {
      if (entry[1].due > limit) continue;
      if (!best || entry[1].due < best[1].due || (entry[1].due === best[1].due && entry[0] < best[0])) best = entry;
    }
    return best;
  };

  return {
    now: () => now,
    schedule(ms, run) {
      const id = sequence++;
      timers.set(id, { due: now + Math.max(0, ms), run });
      return () => void timers.delete(id);
    },
    advance(ms) {
      const target = now + ms;
      for (let next = nextDue(target); next; next = nextDue(target)) {
        timers.delete(next[0]);
        now = Math.max(now, next[1].due);
        next[1].run();
      }
      now = target;
    },
    pending: () => timers.size,
  };
}
