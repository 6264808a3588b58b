#!/usr/bin/env node
// Times `baton promote` on loopback against a real docker-registry: the library call (what deploy --promote does) and the
// CLI process (what CI runs, Node start-up included). Usage: npm run build && npm run bench:promote [-- --runs 50]
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const runs = Number(argument('--runs') ?? 50);
const cliRuns = Number(argument('--cli-runs') ?? Math.min(runs, 20));
const library = path.join(root, 'dist/src/registry/index.js');
if (!existsSync(library)) {
  console.error('dist/ is missing: run `npm run build` first.');
  process.exit(2);
}

const work = await mkdtemp(path.join(os.tmpdir(), 'baton-bench-promote-'));
// The test harness is TypeScript with only node: imports: strip its types instead of duplicating it here.
const harnessSource = await readFile(path.join(root, 'test/support/registry.ts'), 'utf8');
const harnessFile = path.join(work, 'registry-harness.mjs');
await writeFile(
  harnessFile,
  ts.transpileModule(harnessSource, { compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 } }).outputText,
);
const { startRegistry, pushTestImage, pushManifestList } = await import(pathToFileURL(harnessFile).href);
const { promoteTag } = await import(pathToFileURL(library).href);
const run = promisify(execFile);

const registry = await startRegistry();
try {
  const env = { HOME: work, PATH: process.env.PATH };
  const image = `${registry.host}/bench/web`;
  const single = await pushTestImage(registry.url, 'bench/web', 'latest');
  const amd64 = { architecture: 'amd64', os: 'linux' };
  const arm64 = { architecture: 'arm64', os: 'linux' };
  const arm = await pushTestImage(registry.url, 'bench/web', 'arm64', { platform: arm64 });
  await pushManifestList(registry.url, 'bench/web', 'multi', [
    { manifest: single, platform: amd64 },
    { manifest: arm, platform: arm64 },
  ]);

  // Warm-up: JIT, module load, keep-alive connection.
  await promoteTag({ image, from: 'latest', to: 'warmup', env });

  const results = [];
  results.push(await time(`library promote (new tag: GET + HEAD + PUT), ${runs} runs`, runs, (i) => promoteTag({ image, from: 'latest', to: `lib-${i}`, env })));
  results.push(await time(`library promote of a manifest list, ${runs} runs`, runs, (i) => promoteTag({ image, from: 'multi', to: `list-${i}`, env })));
  results.push(await time(`library promote, tag already there (no-op: GET + HEAD), ${runs} runs`, runs, () => promoteTag({ image, from: 'latest', to: 'lib-0', env })));
  results.push(
    await time(`CLI process \`baton promote\` (Node start-up included), ${cliRuns} runs`, cliRuns, (i) =>
      run(process.execPath, [path.join(root, 'bin/baton'), 'promote', image, '--to', `cli-${i}`], { env: { ...env, NO_COLOR: '1' } }),
    ),
  );

  console.log(`\nbaton promote on loopback (docker-registry ${registry.host}, Node ${process.version}, ${os.cpus().length} CPUs)`);
  for (const r of results) console.log(`  ${r.label}: median ${r.median.toFixed(1)} ms, p95 ${r.p95.toFixed(1)} ms`);
} finally {
  await registry.stop();
  await rm(work, { recursive: true, force: true });
}

async function time(label, count, action) {
  const samples = [];
  for (let i = 0; i < count; i += 1) {
    const started = process.hrtime.bigint();
    await action(i);
    samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const at = (q) => samples[Math.min(samples.length - 1, Math.ceil(q * samples.length) - 1)];
  return { label, median: at(0.5), p95: at(0.95) };
}

function argument(name) {
  const index = process.argv.indexOf(name);
  return index >= 0 ? process.argv[index + 1] : undefined;
}
