/**
 * The shape of src/: no import cycle between files (type-only imports and re-exports count), and
 * each layer imports only the layers below it (docs/architecture.md). Imports are read with the
 * TypeScript compiler's own scanner, so `import type`, `export ... from` and `require()` are seen.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

const SRC = path.resolve(__dirname, '..', '..', 'src');

function sources(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? sources(p) : /\.ts$/.test(e.name) && !/\.d\.ts$/.test(e.name) ? [p] : [];
  });
}

/** The src/ files a file imports (relative specifiers only; packages are not followed). */
function importsOf(file: string): string[] {
  const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
  const out: string[] = [];
  for (const { fileName } of info.importedFiles) {
    if (!fileName.startsWith('.')) continue;
    const base = path.resolve(path.dirname(file), fileName);
    const hit = [`${base}.ts`, path.join(base, 'index.ts'), base].find((p) => fs.existsSync(p) && fs.statSync(p).isFile());
    if (hit && hit.endsWith('.ts')) out.push(hit);
  }
  return out;
}

const files = sources(SRC);
const graph = new Map(files.map((f) => [f, importsOf(f)]));
const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');

/** Every cycle's files, one list per strongly connected component with more than one file (or a self-import). */
export function cycles(g: Map<string, string[]>): string[][] {
  let index = 0;
  const idx = new Map<string, number>(), low = new Map<string, number>(), onStack = new Set<string>(), stack: string[] = [];
  const found: string[][] = [];
  const visit = (v: string) => {
    idx.set(v, index); low.set(v, index); index++;
    stack.push(v); onStack.add(v);
    for (const w of g.get(v) ?? []) {
      if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v)!, low.get(w)!)); } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do { w = stack.pop()!; onStack.delete(w); comp.push(w); } while (w !== v);
      if (comp.length > 1 || (g.get(v) ?? []).includes(v)) found.push(comp.sort());
    }
  };
  for (const v of g.keys()) if (!idx.has(v)) visit(v);
  return found;
}

/** Which folders of src/ a folder may import from (besides itself). */
const ALLOWED: Record<string, string[]> = {
  core: [],
  models: ['core'],
  runtime: ['core', 'models'],
  engine: ['core', 'models', 'runtime'],
  app: ['core', 'models', 'engine'],
  platform: ['core', 'models', 'runtime', 'engine'],
  eval: ['core', 'models', 'runtime', 'engine', 'platform'],
  cli: ['core', 'models', 'engine', 'app', 'platform'],
  'hosts/photoshop': ['core', 'models', 'engine', 'app', 'platform'],
  'hosts/photopea': ['core', 'models', 'engine', 'app', 'platform'],
};

function layerOf(file: string): string {
  const r = rel(file);
  return r.startsWith('hosts/') ? r.split('/').slice(0, 2).join('/') : r.split('/')[0];
}

describe('src/ imports', () => {
  test('the scanner sees type-only imports and re-exports', () => {
    const info = ts.preProcessFile("import type { A } from './a';\nexport { B } from './b';\nexport type { C } from './c';\nconst d = require('./d');", true, true);
    expect(info.importedFiles.map((f) => f.fileName)).toEqual(['./a', './b', './c', './d']);
  });

  test('the cycle finder finds a cycle', () => {
    expect(cycles(new Map([['a', ['b']], ['b', ['c']], ['c', ['a']], ['d', ['a']]]))).toEqual([['a', 'b', 'c']]);
  });

  test('no import cycle between files', () => {
    expect(cycles(graph).map((c) => c.map(rel))).toEqual([]);
  });

  test('each layer imports only the layers below it', () => {
    const bad: string[] = [];
    for (const [file, deps] of graph) {
      const from = layerOf(file);
      const allowed = ALLOWED[from];
      if (!allowed) { bad.push(`${rel(file)}: folder ${from} has no rule`); continue; }
      for (const d of deps) {
        const to = layerOf(d);
        if (to !== from && !allowed.includes(to)) bad.push(`${rel(file)} imports ${rel(d)}`);
      }
    }
    expect(bad).toEqual([]);
  });
});
