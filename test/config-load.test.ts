import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseEnvironments } from '../src/config/environments.js';
import { locateJsonError, parseJsonText } from '../src/config/json-text.js';
import { ConfigError, listApps, loadAppDefinition, loadEnvironments, resolveAppDefinition, resolveConfigDir } from '../src/config/load.js';

const environmentsJson = {
  environments: {
    qa: { confirm: false, datacenters: { AA: { marathon: 'http://marathon.aa.qa.example.com:8080', credentialsEnv: 'BATON_MARATHON_QA_AA' } } },
    prod: {
      confirm: true,
      mutableTags: ['latest', 'stable'],
      datacenters: {
        BB: { marathon: 'https://marathon.bb.prod.example.com/', tokenEnv: 'BATON_DCOS_TOKEN_PROD_BB' },
        AA: { marathon: 'http://marathon.aa.prod.example.com:8080' },
      },
    },
  },
};

describe('parseEnvironments', () => {
  it('returns environments and datacenters in file order with defaults filled in', () => {
    const result = parseEnvironments(environmentsJson);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect([...result.environments.keys()]).toEqual(['qa', 'prod']);
    expect(result.environments.get('qa')).toMatchObject({
      name: 'qa',
      confirm: false,
      mutableTags: ['latest'],
      datacenters: [{ name: 'AA', marathon: 'http://marathon.aa.qa.example.com:8080', credentialsEnv: 'BATON_MARATHON_QA_AA' }],
    });
    const prod = result.environments.get('prod')!;
    expect(prod.mutableTags).toEqual(['latest', 'stable']);
    expect(prod.datacenters.map((dc) => dc.name)).toEqual(['BB', 'AA']);
    expect(prod.datacenters[0]).toEqual({ name: 'BB', marathon: 'https://marathon.bb.prod.example.com', tokenEnv: 'BATON_DCOS_TOKEN_PROD_BB' });
  });

  const invalid: { name: string; file: unknown; path: string; message: RegExp }[] = [
    { name: 'no environments', file: {}, path: '/environments', message: /is required: expected an object/ },
    { name: 'confirm missing', file: { environments: { qa: { datacenters: { AA: { marathon: 'http://m:8080' } } } } }, path: '/environments/qa/confirm', message: /is required: expected true/ },
    { name: 'confirm as a string', file: { environments: { qa: { confirm: 'yes', datacenters: { AA: { marathon: 'http://m:8080' } } } } }, path: '/environments/qa/confirm', message: /expected true or false/ },
    { name: 'typo in a field', file: { environments: { qa: { confirm: false, datacenter: {} } } }, path: '/environments/qa/datacenter', message: /did you mean datacenters\?/ },
    { name: 'no datacenters', file: { environments: { qa: { confirm: false, datacenters: {} } } }, path: '/environments/qa/datacenters', message: /at least one datacenter/ },
    { name: 'not a URL', file: { environments: { qa: { confirm: false, datacenters: { AA: { marathon: 'marathon:8080x' } } } } }, path: '/environments/qa/datacenters/AA/marathon', message: /expected an http/ },
    { name: 'bad env var name', file: { environments: { qa: { confirm: false, datacenters: { AA: { marathon: 'http://m', credentialsEnv: 'user:pw' } } } } }, path: '/environments/qa/datacenters/AA/credentialsEnv', message: /not an environment variable name/ },
    { name: 'both auth kinds', file: { environments: { qa: { confirm: false, datacenters: { AA: { marathon: 'http://m', credentialsEnv: 'A', tokenEnv: 'B' } } } } }, path: '/environments/qa/datacenters/AA', message: /both credentialsEnv and tokenEnv/ },
    { name: 'datacenter named all', file: { environments: { qa: { confirm: false, datacenters: { all: { marathon: 'http://m' } } } } }, path: '/environments/qa/datacenters/all', message: /not "all"/ },
    { name: 'notify not an array', file: { environments: { qa: { confirm: false, notify: { webhook: { urlEnv: 'X' } }, datacenters: { AA: { marathon: 'http://m' } } } } }, path: '/environments/qa/notify', message: /expected an array of notification targets, e\.g\. \[\{"webhook": \{"urlEnv": "DEPLOY_WEBHOOK_URL"\}\}\]/ },
    { name: 'notify target without webhook', file: { environments: { qa: { confirm: false, notify: [{}], datacenters: { AA: { marathon: 'http://m' } } } } }, path: '/environments/qa/notify/0/webhook', message: /is required: expected \{"urlEnv"/ },
    { name: 'notify target not an object', file: { environments: { qa: { confirm: false, notify: [3], datacenters: { AA: { marathon: 'http://m' } } } } }, path: '/environments/qa/notify/0', message: /expected a notification target/ },
    { name: 'webhook without urlEnv', file: { environments: { qa: { confirm: false, notify: [{ webhook: {} }], datacenters: { AA: { marathon: 'http://m' } } } } }, path: '/environments/qa/notify/0/webhook/urlEnv', message: /is required: expected the name of the environment variable/ },
    { name: 'webhook URL in the file', file: { environments: { qa: { confirm: false, notify: [{ webhook: { urlEnv: 'https://hooks.example.com/T0/B0/tok' } }], datacenters: { AA: { marathon: 'http://m' } } } } }, path: '/environments/qa/notify/0/webhook/urlEnv', message: /not an environment variable name.*never goes into config files/ },
    { name: 'typo in a webhook field', file: { environments: { qa: { confirm: false, notify: [{ webhook: { urlenv: 'X' } }], datacenters: { AA: { marathon: 'http://m' } } } } }, path: '/environments/qa/notify/0/webhook/urlenv', message: /did you mean urlEnv\?/ },
  ];
  it.each(invalid)('rejects $name at $path', ({ file, path: pointer, message }) => {
    const result = parseEnvironments(file);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === pointer);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('reads notify targets in file order; none when left out', () => {
    const result = parseEnvironments({
      environments: {
        qa: { confirm: false, notify: [{ webhook: { urlEnv: 'DEPLOY_WEBHOOK_URL' } }, { webhook: { urlEnv: 'OPS_HOOK' } }], datacenters: { AA: { marathon: 'http://m' } } },
        prod: { confirm: true, datacenters: { AA: { marathon: 'http://m' } } },
      },
    });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.environments.get('qa')!.notify).toEqual([{ webhook: { urlEnv: 'DEPLOY_WEBHOOK_URL' } }, { webhook: { urlEnv: 'OPS_HOOK' } }]);
    expect(result.environments.get('prod')!.notify).toEqual([]);
  });

  it('rejects a webhook URL put in urlEnv without repeating it', () => {
    const result = parseEnvironments({ environments: { qa: { confirm: false, notify: [{ webhook: { urlEnv: 'https://hooks.example.com/T0/B0/s3cretToken' } }], datacenters: { AA: { marathon: 'http://m' } } } } });
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain('s3cretToken');
  });

  it('rejects credentials in a Marathon URL without repeating them', () => {
    const result = parseEnvironments({ environments: { prod: { confirm: true, datacenters: { AA: { marathon: 'http://admin:s3cret@marathon.example.com:8080' } } } } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues).toEqual([{ path: '/environments/prod/datacenters/AA/marathon', message: expect.stringMatching(/contains credentials.*credentialsEnv/) }]);
    expect(JSON.stringify(result.issues)).not.toContain('s3cret');
  });
});

describe('parseJsonText', () => {
  it.each([
    ['{"a": 1,}', 1, 9, /trailing comma/],
    ['{\n  "id": "/a"\n  "cmd": "x"\n}', 3, 3, /expected "," or "}" after a property value/],
    ['{\n  "instances": tru\n}', 2, 16, /unexpected "tru": expected a value/],
    ["{'id': 1}", 1, 2, /expected a property name in double quotes/],
    ['{"a": "x', 1, 7, /unterminated string/],
    ['', 1, 1, /unexpected end of file/],
    ['{"a": 1} x', 1, 10, /after the end of the JSON document/],
    ['[1, 2', 1, 6, /expected "," or "]"/],
    ['{"a": 01}', 1, 8, /invalid number/],
  ])('%j fails at line %i, column %i', (text, line, column, message) => {
    const result = parseJsonText(text);
    expect(result).toMatchObject({ ok: false, line, column });
    if (!result.ok) expect(result.message).toMatch(message);
  });

  it('parses valid JSON (with a byte order mark) and finds no error in it', () => {
    expect(parseJsonText('\ufeff{"a": [1, "\\u00e9", true, null]}')).toEqual({ ok: true, value: { a: [1, 'é', true, null] } });
    expect(locateJsonError('{"a": [1, -2.5e3, "\\n"], "b": {}}')).toBeUndefined();
  });
});

describe('resolveAppDefinition', () => {
  const base = {
    file: 'shop-web/base.json',
    value: {
      id: '/shop/web',
      container: { type: 'DOCKER', docker: { image: 'registry.example.com/shop/web:latest' } },
      env: { LOG_LEVEL: 'info', FEATURE_X: 'on' },
      labels: { team: 'shop' },
    },
  };

  it('merges the env file over base (objects merge, null removes) and reports warnings against the right file', () => {
    const env = { file: 'shop-web/qa-deploy.json', value: { instances: 1, instanse: 2, env: { LOG_LEVEL: 'debug', FEATURE_X: null } } };
    const loaded = resolveAppDefinition([base, env]);
    expect(loaded.definition).toEqual({ ...base.value, instances: 1, instanse: 2, env: { LOG_LEVEL: 'debug' } });
    expect(loaded.files).toEqual(['shop-web/base.json', 'shop-web/qa-deploy.json']);
    expect(loaded.warnings).toEqual([{ file: 'shop-web/qa-deploy.json', path: '/instanse', message: expect.stringContaining('did you mean instances?') }]);
  });

  it('names the file that holds the bad value', () => {
    const env = { file: 'shop-web/prod-deploy.json', value: { instances: 2, labels: { team: 3 } } };
    const error = catchError(() => resolveAppDefinition([{ ...base, value: { ...base.value, cpus: 0 } }, env]));
    expect(error.issues).toEqual([
      { file: 'shop-web/base.json', path: '/cpus', message: expect.stringContaining('is less than 0.001') },
      { file: 'shop-web/prod-deploy.json', path: '/labels/team', message: expect.stringContaining('expected a string') },
    ]);
    expect(error.message).toContain('shop-web/base.json: /cpus: is less than 0.001');
  });

  it('refuses read-only fields copied from GET /v2/apps', () => {
    const env = { file: 'shop-web/qa-deploy.json', value: { tasksRunning: 2, version: '2024-01-01T00:00:00.000Z' } };
    const error = catchError(() => resolveAppDefinition([base, env]));
    expect(error.issues.map((i) => `${i.file}: ${i.path}`)).toEqual(['shop-web/qa-deploy.json: /version', 'shop-web/qa-deploy.json: /tasksRunning']);
    expect(error.issues[0]!.message).toMatch(/read-only field.*remove it/);
  });

  it('refuses a file that is not a JSON object', () => {
    const error = catchError(() => resolveAppDefinition([{ file: 'a/qa-deploy.json', value: [1] }]));
    expect(error.message).toBe('a/qa-deploy.json: /: expected a JSON object (an app definition or part of one)');
  });
});

function catchError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

async function rejection(promise: Promise<unknown>): Promise<ConfigError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loading from a config dir', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'baton-config-'));
    await writeFile(path.join(dir, 'environments.json'), JSON.stringify(environmentsJson));
    await mkdir(path.join(dir, 'web'));
    await writeFile(path.join(dir, 'web/base.json'), JSON.stringify({ id: '/web', cmd: 'serve', env: { A: '1' } }));
    await writeFile(path.join(dir, 'web/qa-deploy.json'), '{"instances": 2}');
    await writeFile(path.join(dir, 'web/prod-deploy.json'), '{\n  "instances": 4,\n  "cpus": 1\n  "mem": 512\n}\n');
    await mkdir(path.join(dir, 'only-base'));
    await writeFile(path.join(dir, 'only-base/base.json'), '{}');
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists the folders that hold at least one <env>-deploy.json', async () => {
    expect(await listApps(dir)).toEqual(['web']);
  });

  it('loads environments as a map', async () => {
    const environments = await loadEnvironments(dir);
    expect([...environments.keys()]).toEqual(['qa', 'prod']);
  });

  it('loads and merges base.json and the env file', async () => {
    const loaded = await loadAppDefinition(dir, 'web', 'qa');
    expect(loaded.definition).toEqual({ id: '/web', cmd: 'serve', env: { A: '1' }, instances: 2 });
    expect(loaded.files).toEqual([path.join(dir, 'web/base.json'), path.join(dir, 'web/qa-deploy.json')]);
  });

  it('reports invalid JSON with the file, line and column', async () => {
    const error = await rejection(loadAppDefinition(dir, 'web', 'prod'));
    expect(error.file).toBe(path.join(dir, 'web/prod-deploy.json'));
    expect(error.message).toBe(`${path.join(dir, 'web/prod-deploy.json')}:4:3: invalid JSON: unexpected "\\"": expected "," or "}" after a property value`);
  });

  it('says which environments an app has when the env file is missing', async () => {
    const error = await rejection(loadAppDefinition(dir, 'web', 'yz'));
    expect(error.message).toMatch(/yz-deploy\.json: does not exist: web has no config for yz \(it has: prod, qa\)/);
  });

  it('refuses app names that leave the config dir', async () => {
    const error = await rejection(loadAppDefinition(dir, '../etc', 'qa'));
    expect(error.message).toMatch(/not an app folder name/);
  });

  it('reports a missing environments.json', async () => {
    await rm(path.join(dir, 'environments.json'));
    const error = await rejection(loadEnvironments(dir));
    expect(error.message).toBe(`${path.join(dir, 'environments.json')}: does not exist`);
  });

  it('resolves the config dir from the flag, then BATON_CONFIG_DIR, then ./deploy-configs', () => {
    const saved = process.env.BATON_CONFIG_DIR;
    try {
      delete process.env.BATON_CONFIG_DIR;
      expect(resolveConfigDir()).toBe('deploy-configs');
      process.env.BATON_CONFIG_DIR = '/etc/baton/';
      expect(resolveConfigDir()).toBe('/etc/baton/');
      expect(resolveConfigDir('./configs')).toBe('configs');
    } finally {
      if (saved === undefined) delete process.env.BATON_CONFIG_DIR;
      else process.env.BATON_CONFIG_DIR = saved;
    }
  });
});
