import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runBaton } from './support/cli.js';

// Drives `bin/baton validate` as a process (needs `npm run build`; `npm test` builds first).

describe('baton validate on the shipped deploy-configs', () => {
  it('passes (exit 0) and shows the deprecation warnings of the Jenkins-style app', async () => {
    const result = await runBaton(['validate']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^ok {4}deploy-configs\/environments\.json \(local, qa, yz, prod\)$/m);
    expect(result.stdout).toMatch(/^ok {4}shop-web\/prod +\(base\.json \+ prod-deploy\.json\)$/m);
    expect(result.stdout).toMatch(/^ok {4}order-worker\/qa +\(qa-deploy\.json\) {2}2 warnings$/m);
    expect(result.stdout).toContain(
      'warning: deploy-configs/order-worker/qa-deploy.json: /container/docker/network: is deprecated since Marathon 1.5: use "networks": [{"mode": "container", "name": "dcos"}]',
    );
    expect(result.stdout).toMatch(/^valid: \d+ apps, \d+ app\/environment pairs checked, 0 with errors, \d+ warnings$/m);
  });

  it('--strict fails on warnings (exit 2), with the same lines and a verdict that says why', async () => {
    const result = await runBaton(['validate', '--strict']);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^ok {4}order-worker\/qa +\(qa-deploy\.json\) {2}2 warnings$/m);
    expect(result.stdout).toMatch(/^INVALID \(--strict: warnings fail\): \d+ apps, .*0 with errors, \d+ warnings$/m);
    const json = await runBaton(['validate', '--strict', '--json']);
    expect([json.code, JSON.parse(json.stdout).ok, JSON.parse(json.stdout).strict]).toEqual([2, false, true]);
  });

  it('prints one JSON document with --json', async () => {
    const result = await runBaton(['validate', '--json']);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as {
      ok: boolean;
      results: { app: string; env: string; files: string[]; errors: unknown[]; warnings: { path: string }[] }[];
    };
    expect(report.ok).toBe(true);
    const shopProd = report.results.find((r) => r.app === 'shop-web' && r.env === 'prod');
    expect(shopProd).toEqual({
      app: 'shop-web',
      env: 'prod',
      files: ['deploy-configs/shop-web/base.json', 'deploy-configs/shop-web/prod-deploy.json'],
      errors: [],
      warnings: [],
    });
    const worker = report.results.find((r) => r.app === 'order-worker' && r.env === 'qa');
    expect(worker?.warnings.map((w) => w.path)).toEqual(['/container/docker/network', '/ipAddress']);
    expect(report.results.filter((r) => r.app === 'shop-web').map((r) => r.env)).toEqual(['local', 'qa', 'yz', 'prod']);
  });

  it('documents itself in --help', async () => {
    const result = await runBaton(['validate', '--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--config-dir <dir>');
    expect(result.stdout).toContain('baton validate --config-dir ./deploy-configs --json');
  });
});

describe('baton validate on broken configs', () => {
  let dir: string;
  const environments = {
    environments: {
      qa: { confirm: false, datacenters: { AA: { marathon: 'http://127.0.0.1:1' } } },
      prod: { confirm: true, datacenters: { AA: { marathon: 'http://127.0.0.1:2' } } },
    },
  };
  const write = (file: string, content: unknown) =>
    writeFile(path.join(dir, file), typeof content === 'string' ? content : JSON.stringify(content, null, 2));

  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'baton-validate-'));
    await write('environments.json', environments);
    await mkdir(path.join(dir, 'web'));
    await write('web/base.json', { id: '/web', container: { docker: { image: 'registry.example.com/web:latest' } }, instances: 1 });
    await write('web/qa-deploy.json', { instances: -1, labels: { team: 'web' } });
    await write('web/prod-deploy.json', '{\n  "instances": 2,\n  "cpus": 1\n  "mem": 512\n}\n');
    await write('web/staging-deploy.json', { instances: 1 });
    await mkdir(path.join(dir, 'api'));
    await write('api/qa-deploy.json', { id: '/api', cmd: 'serve', tasksRunning: 2, instance: 3 });
    await write('api/prod.json', { id: '/api' });
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('lists each error as <file>: <json path>: <message> and exits 2', async () => {
    const result = await runBaton(['validate', '--config-dir', dir]);
    expect(result.code).toBe(2);
    const out = result.stdout;
    expect(out).toContain(`error: ${dir}/web/qa-deploy.json: /instances: is less than 0: expected an integer >= 0`);
    expect(out).toContain(`error: ${dir}/web/prod-deploy.json:4:3: invalid JSON: unexpected "\\"": expected "," or "}" after a property value`);
    expect(out).toContain(`error: ${dir}/web/staging-deploy.json: is for environment "staging", which ${dir}/environments.json does not define (it defines: qa, prod)`);
    expect(out).toContain(`error: ${dir}/api/qa-deploy.json: /tasksRunning: is a read-only field`);
    expect(out).toContain(`warning: ${dir}/api/qa-deploy.json: /instance: unknown field "instance" (Marathon ignores it): did you mean instances?`);
    expect(out).toContain(`note  ${dir}/api/prod.json: is ignored: app folders hold base.json and <env>-deploy.json files`);
    expect(out).toMatch(/^FAIL {2}web\/qa +\(base\.json \+ qa-deploy\.json\) {2}1 error$/m);
    expect(out).toMatch(/^INVALID: 2 apps, 4 app\/environment pairs checked, 4 with errors, 2 warnings$/m);
  });

  it('reports the same problems as JSON', async () => {
    const result = await runBaton(['validate', '--config-dir', dir, '--json']);
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as { ok: boolean; results: { app: string; env: string; errors: Record<string, unknown>[] }[] };
    expect(report.ok).toBe(false);
    const errorsOf = (app: string, env: string) => report.results.find((r) => r.app === app && r.env === env)?.errors;
    expect(errorsOf('web', 'qa')).toEqual([{ file: `${dir}/web/qa-deploy.json`, path: '/instances', message: 'is less than 0: expected an integer >= 0' }]);
    expect(errorsOf('web', 'prod')).toEqual([
      { file: `${dir}/web/prod-deploy.json`, path: '', line: 4, column: 3, message: expect.stringContaining('invalid JSON') },
    ]);
  });

  it('checks environments.json itself, without echoing credentials', async () => {
    const envDir = await mkdtemp(path.join(tmpdir(), 'baton-validate-env-'));
    try {
      await writeFile(
        path.join(envDir, 'environments.json'),
        JSON.stringify({ environments: { prod: { confirm: true, datacenters: { AA: { marathon: 'http://deployer:hunter2@marathon.example.com:8080' } } } } }),
      );
      const result = await runBaton(['validate', '--config-dir', envDir]);
      expect(result.code).toBe(2);
      expect(result.stdout).toMatch(/^FAIL {2}.*environments\.json$/m);
      expect(result.stdout).toContain('/environments/prod/datacenters/AA/marathon: contains credentials (user:password@)');
      expect(result.stdout + result.stderr).not.toContain('hunter2');
    } finally {
      await rm(envDir, { recursive: true, force: true });
    }
  });

  it('exits 2 when the config dir does not exist', async () => {
    const missing = path.join(dir, 'nope');
    const result = await runBaton(['validate', '--config-dir', missing]);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(`baton: config dir: ${missing}: does not exist\n`);
  });
});
