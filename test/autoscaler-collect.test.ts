import { describe, expect, it } from 'vitest';
import { IdleCollector } from '../autoscaler/controller/collect.js';

describe('IdleCollector: a full collection between cycles once a cycle left much garbage', () => {
  it('does nothing without --expose-gc', () => {
    const collector = new IdleCollector(undefined, () => 1e12);
    expect(collector.enabled).toBe(false);
    expect(collector.afterCycle()).toBe(false);
  });

  it('collects when the heap grew by the threshold since what the last collection left alive', () => {
    let heap = 0;
    let collections = 0;
    const collector = new IdleCollector(() => {
      collections += 1;
      heap = 40; // what is alive
    }, () => heap, 100);
    heap = 90;
    expect(collector.afterCycle()).toBe(false);
    heap = 100;
    expect(collector.afterCycle()).toBe(true);
    expect(collections).toBe(1);
    // Measured from the 40 left alive, not from zero.
    heap = 120;
    expect(collector.afterCycle()).toBe(false);
    heap = 140;
    expect(collector.afterCycle()).toBe(true);
    expect(collections).toBe(2);
  });
});
