// autoscaler/Dockerfile without Docker (none on the test machines): its stages read as text and held against what the
// deploy configs run, the daemon's default port and autoscaler/README.md; its runtime `npm ci` run for real in a temp
// dir with the compiled program, as the image's last stage assembles it (needs `npm run build`; `npm test` builds first).
import { cp, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, test } from 'vitest';
import { autoscalerConfigSchema } from '../autoscaler/config/schema.js';
import { repoRoot, runProcess } from './support/cli.js';

interface Instruction {
  keyword: string;
  args: string;
}
interface Stage {
  from: string;
  name: string | undefined;
  instructions: Instruction[];
}

/** Dockerfile instructions by stage: comments dropped, `\` continuations joined, keywords upper-cased. */
function parseDockerfile(text: string): Stage[] {
  const logical: string[] = [];
  let pending = '';
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (!pending && (line === '' || line.startsWith('#'))) continue;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      continue;
    }
    logical.push(pending + line);
    pending = '';
  }
  const stages: Stage[] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') {
      const [, from = '', name] = /^(\S+)(?:\s+AS\s+(\S+))?$/i.exec(args) ?? [];
      stages.push({ from, name, instructions: [] });
    } else {
      stages.at(-1)?.instructions.push({ keyword: keyword.toUpperCase(), args });
    }
  }
  return stages;
}

const read = (file: string) => readFile(path.join(repoRoot, file), 'utf8');
const stagesPromise = read('autoscaler/Dockerfile').then(parseDockerfile);
const runtimeStage = async () => (await stagesPromise).at(-1)!;
const args = (stage: Stage, keyword: string) => stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);

async function deployConfigs(): Promise<{ file: string; app: any; config: any }[]> {
  const dir = 'deploy-configs/baton-autoscaler';
  const files = (await readdir(path.join(repoRoot, dir))).filter((name) => name.endsWith('-deploy.json')).sort();
  expect(files).toEqual(['prod-deploy.json', 'qa-deploy.json', 'yz-deploy.json']);
  return Promise.all(
    files.map(async (file) => {
      const app = JSON.parse(await read(path.join(dir, file)));
      return { file, app, config: JSON.parse(app.env.BATON_AUTOSCALER_CONFIG) };
    }),
  );
}

/** The `docker build` command autoscaler/README.md documents, and the image name it tags. */
async function documentedBuild(): Promise<{ command: string; image: string }> {
  const match = /^docker build -f autoscaler\/Dockerfile -t (\S+):<version> \.$/m.exec(await read('autoscaler/README.md'));
  expect(match, 'autoscaler/README.md shows `docker build -f autoscaler/Dockerfile -t <image>:<version> .`').not.toBeNull();
  return { command: match![0], image: match![1]! };
}

describe('autoscaler/Dockerfile', () => {
  test('two stages on Node 20 slim: the build stage compiles, the runtime stage copies its dist/', async () => {
    const stages = await stagesPromise;
    expect(stages.length).toBeGreaterThanOrEqual(2);
    for (const stage of stages) expect(stage.from).toMatch(/^node:20(\.\d+)*-(bookworm-)?slim$/);
    const build = stages[0]!;
    expect(build.name).toBeDefined();
    const buildRuns = args(build, 'RUN').join('\n');
    expect(buildRuns).toMatch(/\bnpm ci\b/);
    expect(buildRuns).toContain('npm run build');
    const copiesFromBuild = args(await runtimeStage(), 'COPY').filter((a) => a.startsWith(`--from=${build.name} `));
    expect(copiesFromBuild.map((a) => a.split(/\s+/)[1])).toEqual(['/app/dist/src', '/app/dist/autoscaler']);
  });

  test('the runtime stage installs production dependencies only and runs as a non-root user', async () => {
    const runtime = await runtimeStage();
    const installs = args(runtime, 'RUN').filter((a) => /\bnpm (ci|install|i)\b/.test(a));
    expect(installs).toHaveLength(1);
    expect(installs[0]).toMatch(/\bnpm ci\b.*--omit=dev/);
    const users = args(runtime, 'USER');
    expect(users.length).toBeGreaterThan(0);
    expect(users.at(-1)).not.toMatch(/^(root|0)(:|$)/);
    const keywords = runtime.instructions.map((i) => i.keyword);
    expect(keywords.lastIndexOf('USER')).toBeLessThan(keywords.indexOf('ENTRYPOINT'));
    expect(args(runtime, 'ENTRYPOINT')).toEqual(['["/app/bin/baton-autoscaler"]']);
  });

  test("EXPOSE is the daemon's default port and the port the deploy configs listen on and health-check", async () => {
    const exposed = args(await runtimeStage(), 'EXPOSE');
    const defaultPort = autoscalerConfigSchema.parse({ marathon: { url: 'http://m:8080' }, influx: { url: 'http://i:8086' } }).listen.port;
    expect(exposed).toEqual([String(defaultPort)]);
    for (const { app, config } of await deployConfigs()) {
      expect(app.portDefinitions.map((p: { port: number }) => p.port)).toEqual([defaultPort]);
      expect(config.listen.port).toBe(defaultPort);
      expect(app.healthChecks[0]).toMatchObject({ path: '/healthz', portIndex: 0 });
    }
  });

  test('the deploy configs name the image autoscaler/README.md builds from it, and run the daemon by the name on its PATH', async () => {
    const { command, image } = await documentedBuild();
    expect(await read('autoscaler/Dockerfile')).toContain(command);
    for (const { app } of await deployConfigs()) {
      expect(app.container.docker.image.replace(/:[^:/]+$/, '')).toBe(image);
      expect(app.cmd).toContain('exec baton-autoscaler --config ');
      // The sandbox may belong to another user than the image's: the config is written where the `node` user can.
      expect(app.cmd).not.toContain('$MESOS_SANDBOX');
    }
    expect(args(await runtimeStage(), 'ENV')).toContain('PATH=/app/bin:$PATH');
  });

  test('.dockerignore keeps out what the image is not built from, and nothing the Dockerfile copies', async () => {
    const ignored = (await read('.dockerignore')).split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    for (const entry of ['.git', 'node_modules', 'dist', 'test']) expect(ignored).toContain(entry);
    const stages = await stagesPromise;
    const sources = stages
      .flatMap((stage) => args(stage, 'COPY'))
      .filter((a) => !a.startsWith('--from='))
      .flatMap((a) => a.split(/\s+/).slice(0, -1));
    expect(sources).toContain('bin');
    for (const source of sources) expect(ignored, source).not.toContain(source);
  });
});

describe("the runtime stage's steps, without Docker", () => {
  let dir: string | undefined;
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test("its npm ci gives a baton-autoscaler that starts (production dependencies, the repository's dist/)", async () => {
    const runtime = await runtimeStage();
    dir = await mkdtemp(path.join(os.tmpdir(), 'baton-image-'));
    for (const file of ['package.json', 'package-lock.json']) await cp(path.join(repoRoot, file), path.join(dir, file));
    const install = args(runtime, 'RUN').find((a) => a.includes('npm ci'))!;
    const env = { NODE_ENV: 'production', PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter) };
    for (const key of Object.keys(process.env)) if (/^npm_/i.test(key)) (env as Record<string, string | undefined>)[key] = undefined;
    // Offline first: the npm cache of the `npm ci` that set up this checkout has every production dependency.
    const installed = await runProcess('sh', ['-c', install.replace('npm ci', 'npm ci --prefer-offline --no-audit --no-fund')], {
      cwd: dir,
      env,
      direct: true,
      timeoutMs: 300_000,
    });
    expect(installed.code, installed.stderr).toBe(0);
    expect(await readdir(path.join(dir, 'node_modules'))).not.toContain('typescript');
    for (const source of ['dist/src', 'dist/autoscaler', 'bin']) await cp(path.join(repoRoot, source), path.join(dir, source), { recursive: true });
    const help = await runProcess(path.join(dir, 'bin/baton-autoscaler'), ['--help'], { cwd: os.tmpdir(), env, direct: true });
    expect(help.code, help.stderr).toBe(0);
    expect(help.stdout).toMatch(/^Usage: baton-autoscaler /m);
  }, 300_000);
});
