import { describe, expect, it } from 'vitest';
import { decide, killOrder, restartCapacity, type TaskPicture } from '../src/emulator/decisions.js';
import { parseLabelSelector } from '../src/emulator/label-selector.js';
import {
  behaviourOf,
  canonicalAppId,
  classifyChange,
  mergeUpdate,
  normalizeDefinition,
  safePath,
} from '../src/emulator/definition.js';

function tasks(spec: string): TaskPicture[] {
  // One letter per task: O old ready, o old not ready, N new ready, n new not ready, k killing (old).
  return [...spec].map((letter, i) => ({
    id: `${letter}${i}`,
    current: letter === 'N' || letter === 'n',
    ready: letter === 'O' || letter === 'N',
    killing: letter === 'k',
    stagedAt: i,
  }));
}

describe('restartCapacity (Marathon TaskReplaceActor sizing)', () => {
  it.each([
    // instances, minimumHealthCapacity, maximumOverCapacity, running → minHealthy, maxCapacity
    [3, 1, 1, 3, 3, 6],
    [3, 1, 0, 3, 3, 4], // no headroom: one extra so the upgrade can progress
    [3, 0.7, 0, 3, 3, 4],
    [10, 0.3, 0, 10, 3, 10], // 10 × 0.3 is 3, not 4 (float noise)
    [4, 0.5, 0.5, 4, 2, 6],
    [2, 0, 0, 2, 0, 2],
  ])('%i instances, mhc %f, moc %f, %i running → %i / %i', (n, mhc, moc, running, minHealthy, maxCapacity) => {
    expect(restartCapacity(n, mhc, moc, running)).toEqual({ minHealthy, maxCapacity });
  });
});

describe('decide', () => {
  const restart = (instances: number, mhc = 1, moc = 1) =>
    ({ kind: 'restart', instances, minimumHealthCapacity: mhc, maximumOverCapacity: moc }) as const;

  it.each([
    // goal, tasks, expected kills (ids), launches, done
    ['restart 3 (1,1): start all new beside old', restart(3), 'OOO', [], 3, false],
    ['restart 3 (1,1): one new ready → one old goes', restart(3), 'OOONnn', ['O2'], 0, false],
    ['restart 3 (1,0): one extra at a time', restart(3, 1, 0), 'OOO', [], 1, false],
    ['restart 3 (1,0): old goes once the new is ready, the next new starts', restart(3, 1, 0), 'OOON', ['O2'], 1, false],
    ['restart 3 (1,0): next new after the kill', restart(3, 1, 0), 'OOkN', [], 1, false],
    ['restart 3 (0,0): kill all old and start all new at once', restart(3, 0, 0), 'OOO', ['O2', 'O1', 'O0'], 3, false],
    ['restart 2 (0,0): old gone, start new', restart(2, 0, 0), '', [], 2, false],
    ['restart 2 (0.5,0): not-ready old go first', restart(2, 0.5, 0), 'oO', ['o0'], 1, false],
    ['restart 2: done when only ready new remain', restart(2), 'NN', [], 0, true],
    ['restart 2: not done while an old one is dying', restart(2), 'NNk', [], 0, false],
    ['restart 2: not done while a new one is unready', restart(2), 'Nn', [], 0, false],
    ['restart 0: every task goes', restart(0), 'OO', ['O1', 'O0'], 0, false],
    ['scale up', { kind: 'scale', instances: 3 }, 'O', [], 2, false],
    ['scale down kills youngest first', { kind: 'scale', instances: 1 }, 'OOO', ['O2', 'O1'], 0, false],
    ['scale down kills staging first', { kind: 'scale', instances: 2 }, 'OoO', ['o1'], 0, false],
    ['scale done', { kind: 'scale', instances: 2 }, 'ON', [], 0, true],
    ['scale waits for readiness', { kind: 'scale', instances: 2 }, 'On', [], 0, false],
    ['stop kills everything', { kind: 'stop' }, 'Ok', ['O0'], 0, false],
    ['stop done when no task is left', { kind: 'stop' }, '', [], 0, true],
    ['start is done at once', { kind: 'start' }, '', [], 0, true],
    ['steady replaces missing instances only', { kind: 'steady', instances: 3 }, 'OONN', [], 0, false],
    ['steady relaunches a failed instance', { kind: 'steady', instances: 3 }, 'ON', [], 1, false],
  ] as const)('%s', (_name, goal, spec, kill, launch, done) => {
    expect(decide(goal, tasks(spec))).toEqual({ kill: [...kill], launch, done });
  });

  it('kills oldest first when asked', () => {
    expect(killOrder(tasks('OOO'), 'OLDEST_FIRST').map((t) => t.id)).toEqual(['O0', 'O1', 'O2']);
  });

  it('walks a whole (1,0) rolling restart to the end without ever dropping below 3 ready tasks', () => {
    let picture = tasks('OOO');
    let nextId = 0;
    for (let round = 0; round < 20; round++) {
      const decision = decide(restart(3, 1, 0), picture);
      if (decision.done) break;
      const readyNow = picture.filter((t) => t.ready && !t.killing).length;
      expect(readyNow).toBeGreaterThanOrEqual(3);
      // Kills complete, new tasks start and become ready before the next decision.
      picture = picture
        .filter((t) => !t.killing)
        .map((t) => (decision.kill.includes(t.id) ? { ...t, killing: true } : t))
        .map((t) => (t.current ? { ...t, ready: true } : t));
      for (let i = 0; i < decision.launch; i++) {
        picture.push({ id: `new${nextId++}`, current: true, ready: false, killing: false, stagedAt: 100 + nextId });
      }
    }
    expect(decide(restart(3, 1, 0), picture).done).toBe(true);
    expect(picture.every((t) => t.current)).toBe(true);
  });
});

describe('app definitions', () => {
  const ports = () => {
    let next = 10000;
    return { previous: [] as number[], allocate: () => next++ };
  };

  it.each([
    ['shop/web', '/shop/web', 'shop_web'],
    ['/shop/web/', '/shop/web', 'shop_web'],
    ['/a', '/a', 'a'],
  ])('%s is the app %s with safe path %s', (raw, id, safe) => {
    expect(canonicalAppId(raw)).toBe(id);
    expect(safePath(raw)).toBe(safe);
  });

  it('fills Marathon defaults, drops unknown fields and assigns a service port', () => {
    const app = normalizeDefinition({ cmd: 'sleep 1', instance: 3 }, '/x', ports());
    expect(app).toMatchObject({
      id: '/x',
      instances: 1,
      cpus: 1,
      mem: 128,
      upgradeStrategy: { minimumHealthCapacity: 1, maximumOverCapacity: 1 },
      networks: [{ mode: 'host' }],
      portDefinitions: [{ port: 10000, name: 'default', protocol: 'tcp' }],
    });
    expect(app).not.toHaveProperty('instance');
  });

  it('reuses the previous service ports so an unchanged definition stays unchanged', () => {
    const first = normalizeDefinition({ cmd: 'sleep 1' }, '/x', ports());
    const again = normalizeDefinition({ cmd: 'sleep 1' }, '/x', { previous: [10000], allocate: () => 99999 });
    expect(classifyChange(first, again)).toBe('none');
  });

  it.each([
    [{ cmd: 'a', instances: 1 }, { cmd: 'a', instances: 1 }, 'none'],
    [{ cmd: 'a', instances: 1 }, { cmd: 'a', instances: 4 }, 'scale'],
    [{ cmd: 'a', instances: 1 }, { cmd: 'b', instances: 4 }, 'config'],
    [{ cmd: 'a', labels: { x: '1' } }, { cmd: 'a', labels: { x: '2' } }, 'config'],
  ])('%j → %j is a %s change', (from, to, kind) => {
    const allocate = ports();
    const a = normalizeDefinition(from, '/x', allocate);
    const b = normalizeDefinition(to, '/x', { previous: [10000], allocate: allocate.allocate });
    expect(classifyChange(a, b)).toBe(kind);
  });

  it('partial updates replace whole top-level fields and ignore read-only ones', () => {
    expect(mergeUpdate({ cmd: 'a', env: { A: '1', B: '2' } }, { env: { A: '3' }, version: 'x', tasks: [] })).toEqual({
      cmd: 'a',
      env: { A: '3' },
    });
  });

  const docker = (image: string, labels: Record<string, string> = {}) => ({ container: { docker: { image } }, labels });
  it.each([
    [docker('shop/web:2.0.0'), 'normal'],
    [docker('shop/web:2.0.0-crash'), 'crash'],
    [docker('registry:5000/shop/web:1-unhealthy'), 'unhealthy'],
    [docker('registry:5000/stuck/web:1.0'), 'normal'],
    [docker('shop/web:stuck'), 'stuck'],
    [docker('shop/web:1.0', { EMULATOR_BEHAVIOUR: 'crash' }), 'crash'],
    [docker('shop/web:1.0-crash', { EMULATOR_BEHAVIOUR: 'unhealthy' }), 'unhealthy'],
    [docker('shop/web:2.0.0-crash-after-healthy'), 'crash-after-healthy'],
    [docker('shop/web:2.0.0-hc-kill'), 'hc-kill'],
    [docker('shop/web:2.0.0-lost'), 'lost'],
    [docker('shop/web:1.0', { EMULATOR_BEHAVIOUR: 'lost' }), 'lost'],
    [docker('shop/web:1.0', { EMULATOR_BEHAVIOUR: 'crash-after-healthy' }), 'crash-after-healthy'],
    [docker('shop/web:1.0', { EMULATOR_BEHAVIOUR: 'explode' }), 'normal'],
    [{ cmd: 'sleep 1' }, 'normal'],
  ])('%j behaves %s', (definition, behaviour) => {
    expect(behaviourOf(definition as never)).toBe(behaviour);
  });
});

describe('label selectors (GET /v2/apps?label=)', () => {
  const labels = { environment: 'production', tier: 'frontend', 'odd key': 'a,b' };
  it.each([
    ['environment', true],
    ['missing', false],
    ['environment==production', true],
    ['environment==staging', false],
    ['tier!=frontend', false],
    ['tier!=backend', true],
    ['environment in (staging, production)', true],
    ['environment notin (staging, production)', false],
    ['environment, tier==frontend', true],
    ['environment, tier==backend', false],
    ['odd\\ key==a\\,b', true],
  ])('%s → %s', (query, matches) => {
    expect(parseLabelSelector(query)?.(labels)).toBe(matches);
  });

  it('rejects an empty term', () => {
    expect(parseLabelSelector('a,,b')).toBeNull();
  });
});
