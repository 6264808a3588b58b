import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './support/cli.js';

// The module rules the project keeps (README "Layout"): no import cycles, the core never imports the CLI, and the
// emulator shares no rule with the code it tests.

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(file);
    return entry.name.endsWith('.ts') ? [file] : [];
  });
}

/** Relative imports of each file (static, `export … from` and dynamic), resolved to .ts files. */
function importGraph(): Map<string, string[]> {
  const files = [...sourceFiles(path.join(repoRoot, 'src')), ...sourceFiles(path.join(repoRoot, 'autoscaler'))];
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = fs.readFileSync(file, 'utf8');
    const specifiers = [...text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]!);
    graph.set(
      path.relative(repoRoot, file),
      specifiers.map((s) => path.relative(repoRoot, path.resolve(path.dirname(file), s.replace(/\.js$/, '.ts')))),
    );
  }
  return graph;
}

function cycles(graph: Map<string, string[]>): string[][] {
  const found: string[][] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (file: string) => {
    if (state.get(file) === 'done') return;
    if (state.get(file) === 'visiting') {
      found.push([...stack.slice(stack.indexOf(file)), file]);
      return;
    }
    state.set(file, 'visiting');
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    state.set(file, 'done');
  };
  for (const file of graph.keys()) visit(file);
  return found;
}

describe('module structure', () => {
  const graph = importGraph();

  it('has no import cycles (static or dynamic)', () => {
    expect(cycles(graph)).toEqual([]);
  });

  it('keeps the CLI a shell: nothing outside src/cli imports from it', () => {
    const offenders = [...graph].flatMap(([file, imports]) =>
      file.startsWith('src/cli/') ? [] : imports.filter((i) => i.startsWith('src/cli/')).map((i) => `${file} → ${i}`),
    );
    expect(offenders).toEqual([]);
  });

  it('keeps the emulator independent of the code it tests', () => {
    const forbidden = ['src/deploy/', 'src/rollout/', 'src/status/', 'src/marathon/', 'src/cli/', 'autoscaler/'];
    const offenders = [...graph].flatMap(([file, imports]) =>
      file.startsWith('src/emulator/') ? imports.filter((i) => forbidden.some((f) => i.startsWith(f))).map((i) => `${file} → ${i}`) : [],
    );
    expect(offenders).toEqual([]);
  });

  it('sees the imports it checks (the graph is not empty)', () => {
    expect(graph.get('src/rollout/engine.ts')).toContain('src/marathon/client.ts');
  });
});
