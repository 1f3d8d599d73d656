// Where one `meshmedic analyze FILE -o json` spends its time, phase by phase, in a fresh process on the
// built dist (as the CLI runs: the first run, nothing warmed up but the compile cache, if any).
// Usage: node bench/phases.ts FILE (Node strips the types) — prints one JSON line of milliseconds.
import { readFile } from 'node:fs/promises';

type Modules = [
  typeof import('../src/input/parse-pool.js'),
  typeof import('../src/model/decode.js'),
  typeof import('../src/analysis/load-mesh.js'),
  typeof import('../src/model/mesh-index.js'),
  typeof import('../src/analysis/analyze.js'),
  typeof import('../src/cli/findings-document.js'),
];

const dist = (path: string): Promise<unknown> => import(new URL(`../dist/${path}`, import.meta.url).href);
const [{ ParsePool }, { decodeDocuments }, { duplicates }, { MeshIndex }, { analyze }, { findingsDocument }] =
  (await Promise.all(
    [
      'input/parse-pool.js',
      'model/decode.js',
      'analysis/load-mesh.js',
      'model/mesh-index.js',
      'analysis/analyze.js',
      'cli/findings-document.js',
    ].map(dist),
  )) as Modules;

const file = process.argv[2] ?? '';
const phases: Record<string, number> = { 'start + modules': performance.now() };
let last = performance.now();
const lap = (name: string): void => {
  const now = performance.now();
  phases[name] = now - last;
  last = now;
};

const bytes = await readFile(file);
lap('read');
const pool = new ParsePool();
const parsed = await pool.parse(bytes, file);
lap('parse');
const workers = pool.partsParsedInWorkers;
await pool.close();
const decoded = decodeDocuments(parsed.documents);
lap('decode + schema');
const dups = duplicates(decoded.inOrder);
const index = new MeshIndex(decoded.objects.filter((o) => o.object.kind !== 'MeshHealthPolicy'));
lap('duplicates + index');
const result = analyze(index);
lap('rules');
const out = JSON.stringify(
  findingsDocument(result.findings, [...parsed.diagnostics, ...decoded.diagnostics, ...dups]),
  null,
  2,
);
lap('output');
process.stdout.write(
  JSON.stringify({
    phases,
    total: performance.now(),
    partsInWorkers: workers,
    findings: result.findings.length,
    outputBytes: out.length,
  }) + '\n',
);
