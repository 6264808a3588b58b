#!/usr/bin/env node
// `npm run schemas`: JSON Schemas of Baton's own files, generated from the zod schemas that validate them, so editors
// check environments.json, app files and the autoscaler config as Baton does. test/json-schemas.test.ts fails when the
// shipped files in schemas/ are not what this script writes.
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const load = (file) => import(pathToFileURL(path.join(root, 'dist', file)).href);

export async function jsonSchemas() {
  const [{ environmentsFileSchema }, { appSchema }, { autoscalerConfigSchema }, { appDeploySettingsSchema }] = await Promise.all([
    load('src/config/environments.js'),
    load('src/config/app-schema.js'),
    load('autoscaler/config/schema.js'),
    load('src/config/deploy-strategy.js'),
  ]);
  // Rules zod checks in code (URL forms, cross-field rules) are left to `baton validate`: the schema has their shape.
  const generate = (schema, title, description) => ({
    title,
    description,
    ...z.toJSONSchema(schema, { unrepresentable: 'any', io: 'input' }),
  });
  const app = generate(appSchema, 'Baton app file', 'base.json or <env>-deploy.json: a Marathon 1.10 app definition, or part of one (the files are merged, so no field is required in one file)');
  delete app.required;
  app.properties = { $schema: { type: 'string' }, ...app.properties };
  return {
    'environments.schema.json': generate(environmentsFileSchema, 'Baton environments.json', 'Environments, their datacenters and Marathon URLs'),
    'app-definition.schema.json': app,
    'baton.schema.json': generate(appDeploySettingsSchema, 'Baton <app>/baton.json', 'How the app is deployed: strategy (rolling, blue-green), blue/green settings, pre- and post-integration tests'),
    'autoscaler-config.schema.json': generate(autoscalerConfigSchema, 'baton-autoscaler config', 'The daemon configuration (autoscaler/README.md)'),
  };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const [file, schema] of Object.entries(await jsonSchemas())) {
    writeFileSync(path.join(root, 'schemas', file), `${JSON.stringify(schema, null, 2)}\n`);
    process.stdout.write(`schemas/${file}\n`);
  }
}
