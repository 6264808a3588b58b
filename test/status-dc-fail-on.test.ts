import { describe, expect, it } from 'vitest';
import { conditionsHeld, parseFailConditions, statusVerdict, type FailCondition } from '../src/status/gate.js';
import type { StatusCell } from '../src/status/matrix.js';
import { selectDatacenters, splitList } from '../src/status/selection.js';

describe('splitList: a flag repeated and/or comma-separated', () => {
  const cases: { values: string[]; names: string[] }[] = [
    { values: ['AA'], names: ['AA'] },
    { values: ['AA,BB'], names: ['AA', 'BB'] },
    { values: ['AA', 'BB,CC'], names: ['AA', 'BB', 'CC'] },
    { values: [' AA , BB '], names: ['AA', 'BB'] },
    { values: ['AA,AA', 'AA'], names: ['AA'] },
    { values: ['', ',,'], names: [] },
  ];
  for (const c of cases) {
    it(`${JSON.stringify(c.values)} → ${JSON.stringify(c.names)}`, () => expect(splitList(c.values)).toEqual(c.names));
  }
});

describe('selectDatacenters', () => {
  const qa = { name: 'qa', datacenters: [{ name: 'AA' }, { name: 'BB' }] };
  const prod = { name: 'prod', datacenters: [{ name: 'AA' }, { name: 'CC' }] };
  const shown = (selection: ReturnType<typeof selectDatacenters<typeof qa>>) =>
    selection.ok ? selection.environments.map((e) => `${e.name}:${e.datacenters.map((d) => d.name).join('+')}`) : selection;
  const cases: { name: string; names: string[]; expected: unknown }[] = [
    { name: 'no names: every datacenter', names: [], expected: ['qa:AA+BB', 'prod:AA+CC'] },
    { name: '"all" alone: every datacenter', names: ['all'], expected: ['qa:AA+BB', 'prod:AA+CC'] },
    { name: 'a name several environments have: in each', names: ['AA'], expected: ['qa:AA', 'prod:AA'] },
    { name: 'a name one environment has: the other keeps none', names: ['CC'], expected: ['qa:', 'prod:CC'] },
    { name: 'several names, config order kept', names: ['CC', 'AA'], expected: ['qa:AA', 'prod:AA+CC'] },
    { name: 'an unknown name: reported with every known one', names: ['AA', 'DD'], expected: { ok: false, unknown: ['DD'], known: ['AA', 'BB', 'CC'] } },
    { name: '"all" among names is just an unknown name', names: ['AA', 'all'], expected: { ok: false, unknown: ['all'], known: ['AA', 'BB', 'CC'] } },
  ];
  for (const c of cases) it(c.name, () => expect(shown(selectDatacenters([qa, prod], c.names))).toEqual(c.expected));

  it('no environments: every name is unknown, nothing is known', () => {
    expect(selectDatacenters([], ['AA'])).toEqual({ ok: false, unknown: ['AA'], known: [] });
  });
});

describe('parseFailConditions', () => {
  it('accepts the documented names in the order given', () => {
    expect(parseFailConditions(['drift', 'unhealthy'])).toEqual({ ok: true, conditions: ['drift', 'unhealthy'] });
  });
  it('reports every unknown name', () => {
    expect(parseFailConditions(['drift', 'sick', 'Drift'])).toEqual({ ok: false, unknown: ['sick', 'Drift'] });
  });
});

function cell(over: Partial<StatusCell> = {}): StatusCell {
  return {
    app: 'web',
    env: 'prod',
    dc: 'AA',
    appId: '/shop/web',
    marathon: 'http://aa.example:8080',
    reachable: true,
    deployed: true,
    health: 'healthy',
    deployment: null,
    autoscaler: null,
    configDrift: [],
    versionDrift: false,
    ...over,
  };
}

describe('conditionsHeld: which listed conditions a row fails', () => {
  const every: FailCondition[] = ['unhealthy', 'deploying', 'not-deployed', 'drift', 'config-drift', 'version-drift'];
  const memDrift = [{ path: 'mem', kind: 'changed' as const, before: 256, after: 128 }];
  const cases: { name: string; cell: StatusCell; held: FailCondition[] }[] = [
    { name: 'healthy, in line with the config', cell: cell(), held: [] },
    { name: 'degraded', cell: cell({ health: 'degraded' }), held: ['unhealthy'] },
    { name: 'deploying (counts in flux: not unhealthy)', cell: cell({ health: 'deploying', deployment: { id: 'd1' } }), held: ['deploying'] },
    { name: 'suspended is none of them', cell: cell({ health: 'suspended' }), held: [] },
    { name: 'not deployed', cell: cell({ deployed: false, health: 'not-deployed', configDrift: null }), held: ['not-deployed'] },
    { name: 'config drift', cell: cell({ configDrift: memDrift }), held: ['drift', 'config-drift'] },
    { name: 'versions drift', cell: cell({ versionDrift: true }), held: ['drift', 'version-drift'] },
    { name: 'broken config: drift unknown, not held', cell: cell({ configDrift: null, configError: 'bad' }), held: [] },
    {
      name: 'unreachable: nothing known, nothing held',
      cell: cell({ reachable: false, deployed: false, health: 'unknown', configDrift: null, reason: 'ECONNREFUSED' }),
      held: [],
    },
  ];
  for (const c of cases) it(c.name, () => expect(conditionsHeld(c.cell, every)).toEqual(c.held));

  it('only the listed conditions, in the order listed', () => {
    const drifting = cell({ health: 'degraded', configDrift: memDrift, versionDrift: true });
    expect(conditionsHeld(drifting, ['version-drift', 'unhealthy'])).toEqual(['version-drift', 'unhealthy']);
    expect(conditionsHeld(drifting, ['deploying'])).toEqual([]);
  });
});

describe('statusVerdict', () => {
  const cases: { complete: boolean; configBroken: boolean; conditionHeld: boolean; verdict: string }[] = [
    { complete: true, configBroken: false, conditionHeld: false, verdict: 'ok' },
    { complete: false, configBroken: false, conditionHeld: false, verdict: 'incomplete' },
    { complete: true, configBroken: true, conditionHeld: false, verdict: 'incomplete' },
    { complete: true, configBroken: false, conditionHeld: true, verdict: 'condition-held' },
    // A failure seen in one datacenter is not hidden by another being down.
    { complete: false, configBroken: true, conditionHeld: true, verdict: 'condition-held' },
  ];
  for (const { verdict, ...facts } of cases) it(`${JSON.stringify(facts)} → ${verdict}`, () => expect(statusVerdict(facts)).toBe(verdict));
});
