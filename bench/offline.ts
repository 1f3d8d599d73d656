// One size of the in-process benchmark on JSON, in its own process so that its peak RSS is its own.
// Usage: tsx bench/offline.ts FILE RUNS INCREMENTAL_ITERATIONS
import { readFileSync } from 'node:fs';
import { analyze } from '../src/analysis/analyze.js';
import { affectedSubjects } from '../src/controller/affected.js';
import { parseDocuments } from '../src/input/parse-documents.js';
import { decodeDocuments } from '../src/model/decode.js';
import { objectKey } from '../src/model/kinds.js';
import { MeshIndex } from '../src/model/mesh-index.js';
import type { DestinationRule, KubeObject } from '../src/model/types.js';
import { median, percentile } from './stats.js';

const [file = '', runsArg = '5', incArg = '0'] = process.argv.slice(2);
const runs = Number(runsArg);
const text = readFileSync(file, 'utf8');

function floorRun(): number {
  const t0 = performance.now();
  const objects = JSON.parse(text) as KubeObject[];
  const index = new MeshIndex(objects.map((object, i) => ({ object, source: { file, line: i } })));
  if (index.size === 0) throw new Error('empty');
  return performance.now() - t0;
}

function fullRun(): { ms: number; findings: number; index: MeshIndex } {
  const t0 = performance.now();
  const objects = JSON.parse(text) as unknown[];
  const decoded = decodeDocuments(objects.map((value, i) => ({ value, file, line: i })));
  const index = new MeshIndex(decoded.objects);
  const { findings } = analyze(index);
  return { ms: performance.now() - t0, findings: findings.length, index };
}

/** JSON.parse alone, and parseDocuments (JSON.parse + the scan for duplicate keys, depth and numbers). */
function parseRuns(): { jsonParse: number; parseDocuments: number } {
  let t0 = performance.now();
  JSON.parse(text);
  const jsonParse = performance.now() - t0;
  t0 = performance.now();
  parseDocuments(text, file);
  return { jsonParse, parseDocuments: performance.now() - t0 };
}

floorRun();
const coldMs = fullRun().ms; // the first run in a fresh process: JIT and schema compilation included
const floor: number[] = [];
const full: number[] = [];
const parses: { jsonParse: number; parseDocuments: number }[] = [];
for (let i = 0; i < runs; i++) {
  parses.push(parseRuns());
  floor.push(floorRun());
  full.push(fullRun().ms); // nothing kept: peak RSS is that of one analysis
}
const last = fullRun();

const incremental: number[] = [];
const iterations = Number(incArg);
if (iterations > 0) {
  const index = last.index;
  const rules = index.ofKind<DestinationRule>('DestinationRule');
  for (let i = 0; i < iterations + 20; i++) {
    const dr = rules[(i * 7919) % rules.length] as DestinationRule;
    const t0 = performance.now();
    const changed = structuredClone(dr);
    const tp = changed.spec?.trafficPolicy;
    if (tp?.tls) tp.tls.mode = tp.tls.mode === 'DISABLE' ? 'ISTIO_MUTUAL' : 'DISABLE';
    const touched = affectedSubjects(dr, index);
    index.upsert({ object: changed, source: { file: 'event', line: 0 } });
    for (const k of affectedSubjects(changed, index)) touched.add(k);
    const subjects = [...touched].map((k) => index.get(k)?.object).filter((o): o is KubeObject => o !== undefined);
    analyze(index, {}, subjects);
    const dt = performance.now() - t0;
    if (i >= 20) incremental.push(dt); // the first iterations warm up
    rules[(i * 7919) % rules.length] = changed;
    void objectKey;
  }
}

process.stdout.write(
  JSON.stringify({
    objects: (JSON.parse(text) as unknown[]).length,
    floorMedianMs: median(floor),
    fullMedianMs: median(full),
    jsonParseMedianMs: median(parses.map((p) => p.jsonParse)),
    parseDocumentsMedianMs: median(parses.map((p) => p.parseDocuments)),
    coldMs,
    findings: last.findings,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    incrementalMedianMs: incremental.length ? median(incremental) : null,
    incrementalP99Ms: incremental.length ? percentile(incremental, 99) : null,
  }) + '\n',
);
