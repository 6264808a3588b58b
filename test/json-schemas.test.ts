import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type RunningEmulator } from '../src/emulator/index.js';
import { MarathonClient } from '../src/marathon/client.js';
import { repoRoot, runBaton } from './support/cli.js';
import { makeDeployFixture, webApp } from './support/deploy-fixture.js';

describe('JSON Schemas of Baton files (schemas/)', () => {
  it('are exactly what `npm run schemas` generates from the zod schemas that validate the files', async () => {
    const { jsonSchemas } = (await import(pathToFileURL(path.join(repoRoot, 'scripts/json-schemas.mjs')).href)) as {
      jsonSchemas: () => Promise<Record<string, unknown>>;
    };
    for (const [file, schema] of Object.entries(await jsonSchemas())) {
      const shipped = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas', file), 'utf8'));
      expect(shipped, `schemas/${file} is stale: run npm run schemas`).toEqual(schema);
    }
  });

  it('describe the fields the validator knows (environments: confirm, datacenters.marathon, notify)', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(repoRoot, 'schemas/environments.schema.json'), 'utf8'));
    const environment = schema.properties.environments.additionalProperties;
    expect(Object.keys(environment.properties)).toEqual(expect.arrayContaining(['confirm', 'datacenters', 'stableSeconds', 'notify']));
    expect(environment.properties.datacenters.additionalProperties.required).toEqual(['marathon']);
  });
});

describe('a "$schema" key for editors', () => {
  let marathon: RunningEmulator;
  beforeAll(async () => {
    marathon = await startEmulator({ timings: { stagingMs: 20, healthyMs: 30, crashMs: 30, killMs: 10, backoffMs: 30 } });
  });
  afterAll(async () => marathon?.close());

  it('is accepted in environments.json and app files, and never sent to Marathon', async () => {
    const f = makeDeployFixture({ qa: { datacenters: { AA: { url: marathon.url } } } });
    try {
      const envFile = path.join(f.configDir, 'environments.json');
      fs.writeFileSync(envFile, JSON.stringify({ $schema: '../schemas/environments.schema.json', ...JSON.parse(fs.readFileSync(envFile, 'utf8')) }));
      f.writeApp('web', { 'qa-deploy.json': { $schema: '../../schemas/app-definition.schema.json', ...webApp('/schema/web', { instances: 1 }) } });
      const validate = await runBaton(['validate', '--strict', '--config-dir', f.configDir]);
      expect(validate.code, validate.stdout).toBe(0);
      expect(validate.stdout).not.toContain('$schema');
      const deploy = await runBaton(['deploy', 'web', '--env', 'qa', '--version', '1.0.0'], { env: f.env });
      expect(deploy.code, deploy.stderr).toBe(0);
      expect(deploy.stdout).not.toContain('$schema');
      expect(Object.keys(await new MarathonClient({ url: marathon.url }).getApp('/schema/web'))).not.toContain('$schema');
    } finally {
      f.cleanup();
    }
  });
});
