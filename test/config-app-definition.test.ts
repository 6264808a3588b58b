import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateAppDefinition, type Issue } from '../src/config/app-definition.js';
import { editDistance, suggestKey } from '../src/config/unknown-fields.js';
import { repoRoot } from './support/cli.js';

const fixtures = path.join(repoRoot, 'test/fixtures/marathon-api/v1.10.26');
const readJson = (file: string): unknown => JSON.parse(readFileSync(file, 'utf8'));

interface Group {
  id: string;
  apps?: Record<string, unknown>[];
  groups?: Group[];
}
const appsOfGroup = (group: Group): Record<string, unknown>[] => [...(group.apps ?? []), ...(group.groups ?? []).flatMap(appsOfGroup)];

const systemTestApps = readdirSync(path.join(fixtures, 'system-test-fixtures/apps')).map((name) => ({
  name,
  app: readJson(path.join(fixtures, 'system-test-fixtures/apps', name)),
}));
const groupApps = readdirSync(path.join(fixtures, 'system-test-fixtures/groups')).flatMap((name) =>
  appsOfGroup(readJson(path.join(fixtures, 'system-test-fixtures/groups', name)) as Group).map((app) => ({ name: `${name} ${String(app.id)}`, app })),
);
const benchmarkGroup = readJson(path.join(fixtures, 'benchmark-mocks/155_100.json')) as Group;
const readOnly = ['version', 'versionInfo', 'tasks', 'tasksStaged', 'tasksRunning', 'tasksHealthy', 'tasksUnhealthy', 'deployments', 'lastTaskFailure', 'tasksStats', 'readinessCheckResults'];
const withoutReadOnly = (app: Record<string, unknown>) => Object.fromEntries(Object.entries(app).filter(([key]) => !readOnly.includes(key)));
const benchmarkApps = appsOfGroup(benchmarkGroup).map((app) => ({ name: String(app.id), app: withoutReadOnly(app) }));

const base = {
  id: '/shop/web',
  instances: 2,
  cpus: 0.5,
  mem: 256,
  container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web:1.4.2' } },
};
const withBase = (changes: Record<string, unknown>) => ({ ...base, ...changes });
const bridged = {
  networks: [{ mode: 'container/bridge' }],
  container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web:1.4.2' }, portMappings: [{ containerPort: 8080, name: 'http' }] },
};

describe('validateAppDefinition accepts what Marathon 1.10 accepts', () => {
  it('has the upstream test data at hand', () => {
    expect(systemTestApps.length).toBe(20);
    expect(groupApps.length).toBe(2);
    expect(benchmarkApps.length).toBe(100);
  });

  it.each(systemTestApps)('system test app $name has no errors', ({ app }) => {
    expect(validateAppDefinition(app).errors).toEqual([]);
  });

  it.each(groupApps)('app in group $name has no errors', ({ app }) => {
    expect(validateAppDefinition(app).errors).toEqual([]);
  });

  it('accepts all 100 benchmark definitions (read-only fields removed) without warnings', () => {
    const failures = benchmarkApps
      .map(({ name, app }) => ({ name, result: validateAppDefinition(app) }))
      .filter(({ result }) => result.errors.length > 0 || result.warnings.length > 0);
    expect(failures).toEqual([]);
  });

  it('treats read-only fields as warnings by default and as errors for config files', () => {
    const app = { ...benchmarkApps[0]!.app, version: '2018-01-11T06:25:26.501Z', tasksRunning: 1 };
    const lenient = validateAppDefinition(app);
    expect(lenient.errors).toEqual([]);
    expect(lenient.warnings.map((w) => w.path)).toEqual(['/version', '/tasksRunning']);
    const strict = validateAppDefinition(app, { readOnlyFields: 'error' });
    expect(strict.errors).toEqual([
      { path: '/version', message: expect.stringContaining('read-only field') },
      { path: '/tasksRunning', message: expect.stringContaining('remove it') },
    ]);
  });

  it('accepts the older Jenkins-pipeline style (docker.network USER + ipAddress) with deprecation warnings', () => {
    const result = validateAppDefinition({
      id: '/legacy/worker',
      instances: 1,
      container: { type: 'DOCKER', docker: { image: 'registry.example.com/legacy/worker:2.0.1', network: 'USER' } },
      ipAddress: { networkName: 'dcos' },
    });
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([
      { path: '/container/docker/network', message: expect.stringMatching(/deprecated since Marathon 1\.5: use "networks": \[\{"mode": "container", "name": "dcos"\}\]/) },
      { path: '/ipAddress', message: expect.stringContaining('deprecated') },
    ]);
  });
});

describe('validateAppDefinition rejects what Marathon rejects', () => {
  it('rejects v2/examples/app.json: cmd together with args, ipAddress.discovery with a Docker container', () => {
    const { errors } = validateAppDefinition(readJson(path.join(fixtures, 'examples/app.json')));
    const paths = errors.map((e) => e.path);
    expect(paths).toContain('/args');
    expect(paths).toContain('/ipAddress/discovery');
    expect(errors.find((e) => e.path === '/args')!.message).toMatch(/cannot be combined with cmd/);
    expect(errors.find((e) => e.path === '/ipAddress/discovery')!.message).toMatch(/not allowed for Docker containers/);
  });

  const cases: { name: string; app: unknown; path: string; message: RegExp }[] = [
    { name: 'not an object', app: [1], path: '/', message: /is an array: expected a JSON object/ },
    { name: 'missing id', app: { cmd: 'sleep 1' }, path: '/id', message: /is required: expected a string/ },
    { name: 'id with upper case', app: withBase({ id: '/Shop/web' }), path: '/id', message: /not a valid id/ },
    { name: 'id ending with a dash', app: withBase({ id: '/shop-/web' }), path: '/id', message: /not a valid id/ },
    { name: 'root id', app: withBase({ id: '/' }), path: '/id', message: /root group/ },
    { name: 'nothing to run', app: { id: '/a' }, path: '/', message: /expected cmd, args, or a container/ },
    { name: 'cmd and args', app: { id: '/a', cmd: 'sleep 1', args: ['sleep', '1'] }, path: '/args', message: /cannot be combined with cmd/ },
    { name: 'empty cmd', app: { id: '/a', cmd: '' }, path: '/cmd', message: /is empty: expected a non-empty string/ },
    { name: 'cpus below 0.001', app: withBase({ cpus: 0 }), path: '/cpus', message: /is less than 0.001: expected a number >= 0.001/ },
    { name: 'cpus as a string', app: withBase({ cpus: '0.5' }), path: '/cpus', message: /is a string \("0.5"\): expected a number/ },
    { name: 'negative mem', app: withBase({ mem: -1 }), path: '/mem', message: /is less than 0/ },
    { name: 'negative disk', app: withBase({ disk: -5 }), path: '/disk', message: /is less than 0/ },
    { name: 'fractional gpus', app: withBase({ gpus: 0.5 }), path: '/gpus', message: /expected an integer/ },
    { name: 'negative instances', app: withBase({ instances: -1 }), path: '/instances', message: /is less than 0: expected an integer >= 0/ },
    { name: 'fractional instances', app: withBase({ instances: 1.5 }), path: '/instances', message: /is the number 1.5: expected an integer/ },
    { name: 'backoffFactor below 1', app: withBase({ backoffFactor: 0.5 }), path: '/backoffFactor', message: /is less than 1/ },
    {
      name: 'minimumHealthCapacity above 1',
      app: withBase({ upgradeStrategy: { minimumHealthCapacity: 1.5, maximumOverCapacity: 0 } }),
      path: '/upgradeStrategy/minimumHealthCapacity',
      message: /^is greater than 1: expected a number between 0 and 1$/,
    },
    {
      name: 'maximumOverCapacity below 0',
      app: withBase({ upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: -0.1 } }),
      path: '/upgradeStrategy/maximumOverCapacity',
      message: /is less than 0: expected a number between 0 and 1/,
    },
    {
      name: 'persistent volume with maximumOverCapacity 0.5',
      app: withBase({
        container: { type: 'MESOS', docker: { image: 'postgres:12' }, volumes: [{ containerPath: 'data', mode: 'RW', persistent: { size: 512 } }] },
        upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0.5 },
      }),
      path: '/upgradeStrategy/maximumOverCapacity',
      message: /is 0.5: must be 0 for an app with persistent volumes/,
    },
    {
      name: 'single-instance label with 2 instances',
      app: withBase({ labels: { MARATHON_SINGLE_INSTANCE_APP: 'true' }, upgradeStrategy: { minimumHealthCapacity: 0, maximumOverCapacity: 0 } }),
      path: '/instances',
      message: /at most 1 instance/,
    },
    {
      name: 'single-instance label with minimumHealthCapacity 0.5',
      app: withBase({ instances: 1, labels: { MARATHON_SINGLE_INSTANCE_APP: 'true' }, upgradeStrategy: { minimumHealthCapacity: 0.5, maximumOverCapacity: 0 } }),
      path: '/upgradeStrategy/minimumHealthCapacity',
      message: /must be 0 for an app labelled MARATHON_SINGLE_INSTANCE_APP=true/,
    },
    { name: 'unknown constraint operator', app: withBase({ constraints: [['hostname', 'UNIQ']] }), path: '/constraints/0/1', message: /is "UNIQ": expected one of UNIQUE, CLUSTER/ },
    { name: 'UNIQUE with a value', app: withBase({ constraints: [['hostname', 'UNIQUE', 'x']] }), path: '/constraints/0/2', message: /UNIQUE takes no value/ },
    { name: 'LIKE with a broken regex', app: withBase({ constraints: [['rack', 'LIKE', 'rack-[1-3']] }), path: '/constraints/0/2', message: /not a valid regular expression/ },
    { name: 'LIKE without a value', app: withBase({ constraints: [['rack', 'LIKE']] }), path: '/constraints/0', message: /LIKE requires a regular expression/ },
    { name: 'MAX_PER with a word', app: withBase({ constraints: [['rack', 'MAX_PER', 'two']] }), path: '/constraints/0/2', message: /MAX_PER requires an integer/ },
    { name: 'GROUP_BY with a word', app: withBase({ constraints: [['rack', 'GROUP_BY', 'all']] }), path: '/constraints/0/2', message: /GROUP_BY takes an integer/ },
    { name: 'IS with a set', app: withBase({ constraints: [['rack', 'IS', '{a,b}']] }), path: '/constraints/0/2', message: /IS only supports Mesos text and scalar/ },
    { name: 'constraint with one element', app: withBase({ constraints: [['hostname']] }), path: '/constraints/0', message: /expected \[field, operator\]/ },
    { name: 'unknown network mode', app: withBase({ networks: [{ mode: 'bridge' }] }), path: '/networks/0/mode', message: /is "bridge": expected one of "container", "container\/bridge", "host"/ },
    {
      name: 'mixed network modes',
      app: withBase({ networks: [{ mode: 'host' }, { mode: 'container/bridge' }] }),
      path: '/networks',
      message: /mixes network modes/,
    },
    { name: 'named host network', app: withBase({ networks: [{ mode: 'host', name: 'dcos' }] }), path: '/networks/0', message: /host network cannot have a name/ },
    {
      name: 'docker.network together with networks',
      app: withBase({ networks: [{ mode: 'container/bridge' }], container: { docker: { image: 'nginx', network: 'BRIDGE' } } }),
      path: '/container/docker/network',
      message: /cannot be combined with networks/,
    },
    {
      name: 'portMappings in both places',
      app: withBase({
        networks: [{ mode: 'container/bridge' }],
        container: { docker: { image: 'nginx', portMappings: [{ containerPort: 80 }] }, portMappings: [{ containerPort: 8080 }] },
      }),
      path: '/container/docker/portMappings',
      message: /cannot be combined with container.portMappings/,
    },
    { name: 'port out of range', app: withBase({ portDefinitions: [{ port: 70000 }] }), path: '/portDefinitions/0/port', message: /between 0 and 65535/ },
    { name: 'duplicate port names', app: withBase({ portDefinitions: [{ port: 0, name: 'http' }, { port: 0, name: 'http' }] }), path: '/portDefinitions/1/name', message: /port names must be unique/ },
    { name: 'health check protocol', app: withBase({ healthChecks: [{ protocol: 'GRPC' }] }), path: '/healthChecks/0/protocol', message: /expected one of "HTTP", "HTTPS", "TCP", "COMMAND"/ },
    {
      name: 'health check portIndex out of range',
      app: withBase({ ...bridged, healthChecks: [{ protocol: 'HTTP', path: '/health', portIndex: 1 }] }),
      path: '/healthChecks/0/portIndex',
      message: /is 1: expected an index into the app's 1 port\(s\) \(0\.\.0\)/,
    },
    {
      name: 'health check without ports to check',
      app: withBase({ portDefinitions: [], healthChecks: [{ protocol: 'TCP' }] }),
      path: '/healthChecks/0',
      message: /declares no ports/,
    },
    { name: 'COMMAND check without a command', app: withBase({ healthChecks: [{ protocol: 'COMMAND' }] }), path: '/healthChecks/0/command', message: /is required for protocol COMMAND/ },
    { name: 'label with a number', app: withBase({ labels: { team: 7 } }), path: '/labels/team', message: /is the integer 7: expected a string/ },
    { name: 'env value as a number', app: withBase({ env: { LOG_LEVEL: 3 } }), path: '/env/LOG_LEVEL', message: /expected a string or \{"secret"/ },
    { name: 'env secret with a typo', app: withBase({ env: { DB: { secrt: 'db' } } }), path: '/env/DB/secret', message: /is required/ },
    { name: 'env secret that is not declared', app: withBase({ env: { DB: { secret: 'db' } } }), path: '/env/DB/secret', message: /secret "db" that is not declared/ },
    { name: 'Docker container without docker', app: { id: '/a', cmd: 'sleep 1', container: { type: 'DOCKER' } }, path: '/container/docker', message: /is required for container.type DOCKER/ },
    { name: 'empty image', app: withBase({ container: { docker: { image: '' } } }), path: '/container/docker/image', message: /is empty/ },
    { name: 'unknown container type', app: withBase({ container: { type: 'RKT', docker: { image: 'x' } } }), path: '/container/type', message: /is "RKT": expected one of "DOCKER", "MESOS"/ },
    { name: 'uris together with fetch', app: withBase({ uris: ['http://a/b'], fetch: [{ uri: 'http://a/c' }] }), path: '/uris', message: /cannot be combined with fetch/ },
    {
      name: 'readiness check naming an unknown port',
      app: withBase({ ...bridged, readinessChecks: [{ portName: 'admin' }] }),
      path: '/readinessChecks/0/portName',
      message: /is "admin": expected the name of one of the app's ports \("http"\)/,
    },
    {
      name: 'unreachable inactive after expunge',
      app: withBase({ unreachableStrategy: { inactiveAfterSeconds: 600, expungeAfterSeconds: 60 } }),
      path: '/unreachableStrategy/inactiveAfterSeconds',
      message: /expected at most expungeAfterSeconds \(60\)/,
    },
    { name: 'GPUs with Docker', app: withBase({ gpus: 1 }), path: '/gpus', message: /Mesos containerizer/ },
  ];

  it.each(cases)('$name → $path', ({ app, path: pointer, message }) => {
    const { errors } = validateAppDefinition(app);
    const match = errors.find((issue) => issue.path === pointer);
    expect(match, `errors: ${JSON.stringify(errors)}`).toBeDefined();
    expect(match!.message).toMatch(message);
  });
});

describe('warnings', () => {
  const warningsOf = (app: unknown): Issue[] => {
    const result = validateAppDefinition(app);
    expect(result.errors).toEqual([]);
    return result.warnings;
  };

  it('suggests the field a typo meant, at the root and in nested objects', () => {
    expect(warningsOf(withBase({ instance: 3 }))).toEqual([{ path: '/instance', message: 'unknown field "instance" (Marathon ignores it): did you mean instances?' }]);
    expect(warningsOf(withBase({ healthCheck: [] }))).toEqual([{ path: '/healthCheck', message: expect.stringContaining('did you mean healthChecks?') }]);
    expect(warningsOf(withBase({ container: { docker: { image: 'nginx', forcePull: true } } }))).toEqual([
      { path: '/container/docker/forcePull', message: expect.stringContaining('did you mean forcePullImage?') },
    ]);
    expect(warningsOf(withBase({ upgradeStrategy: { minimumHealthcapacity: 0.5 } }))).toEqual([
      { path: '/upgradeStrategy/minimumHealthcapacity', message: expect.stringContaining('did you mean minimumHealthCapacity?') },
    ]);
  });

  it('names an unknown field without a guess when nothing is close', () => {
    expect(warningsOf(withBase({ owner: 'shop-team' }))).toEqual([{ path: '/owner', message: 'unknown field "owner" (Marathon ignores it)' }]);
  });

  it('does not treat label, env or secret names as fields', () => {
    expect(warningsOf(withBase({ labels: { instance: 'x' }, env: { instanse: 'y' } }))).toEqual([]);
  });

  it('warns about each deprecated field and what to use instead', () => {
    const warnings = warningsOf({
      id: '/old/app',
      cmd: 'python3 -m http.server $PORT0',
      ports: [0],
      uris: ['https://example.com/app.tgz'],
    });
    expect(warnings).toEqual([
      { path: '/ports', message: expect.stringMatching(/deprecated since Marathon 1\.5: use portDefinitions/) },
      { path: '/uris', message: expect.stringMatching(/deprecated since Marathon 1\.5: use fetch/) },
    ]);
    expect(warningsOf({ id: '/b', container: { docker: { image: 'nginx', network: 'BRIDGE', portMappings: [{ containerPort: 80 }] } } })).toEqual([
      { path: '/container/docker/network', message: expect.stringContaining('use "networks": [{"mode": "container/bridge"}]') },
      { path: '/container/docker/portMappings', message: expect.stringContaining('move the list to container.portMappings') },
    ]);
  });

  it('warns when ports are declared where the network mode makes Marathon drop them', () => {
    expect(warningsOf(withBase({ container: { docker: { image: 'nginx' }, portMappings: [{ containerPort: 80 }] } }))).toEqual([
      { path: '/container/portMappings', message: expect.stringContaining('ignored with host networking') },
    ]);
    expect(warningsOf(withBase({ ...bridged, portDefinitions: [{ port: 0 }] }))).toEqual([
      { path: '/portDefinitions', message: expect.stringContaining('ignored with container networking') },
    ]);
  });
});

describe('suggestKey and editDistance', () => {
  it.each([
    ['instance', 'instances'],
    ['Instances', 'instances'],
    ['intsances', 'instances'],
    ['healthCheck', 'healthChecks'],
    ['forcePull', 'forcePullImage'],
    ['lables', 'labels'],
    ['owner', undefined],
    ['x', undefined],
  ])('%s → %s', (key, expected) => {
    expect(suggestKey(key, ['instances', 'healthChecks', 'forcePullImage', 'labels', 'id'])).toBe(expected);
  });

  it('counts insertions, deletions, substitutions and transpositions', () => {
    expect(editDistance('instance', 'instances')).toBe(1);
    expect(editDistance('cpu', 'cpus')).toBe(1);
    expect(editDistance('intsances', 'instances')).toBe(1);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
  });
});
