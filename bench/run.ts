// npm run bench: `meshmedic analyze -o json` on YAML and JSON files of 1k to 500k objects (cold and warm,
// peak RSS, where the time goes), paired with istioctl analyze on the same YAML; the in-process analysis
// of JSON with incremental re-evaluation; the controller on a real API server. Prints the figures and
// writes them as the section "CLI and offline analysis" of bench/RESULTS.md (other sections are kept).
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dump } from 'js-yaml';
import { clusterBench, type ClusterResult } from './cluster.js';
import { generateMesh } from './generate-mesh.js';
import { writeSection } from './results-file.js';
import { median, ms } from './stats.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000,500000' },
    runs: { type: 'string', default: '5' },
    'inprocess-max': { type: 'string', default: '50000' },
    incremental: { type: 'string', default: '500' },
    trials: { type: 'string', default: '50' },
    'steady-seconds': { type: 'string', default: '300' },
    background: { type: 'string', default: '1000' },
    'skip-cluster': { type: 'boolean', default: false },
    'cli-runs': { type: 'string', default: '5' },
    /** Sizes above 50k are costly: this many warm runs. */
    'large-runs': { type: 'string', default: '2' },
    'istioctl-runs': { type: 'string', default: '3' },
    /** istioctl analyze takes about a minute at 50k objects and grows faster than linearly. */
    'istioctl-max': { type: 'string', default: '50000' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
  },
});

const SECTION = '## CLI and offline analysis (`npm run bench`)';
const CLI = 'dist/cli/main.js';

interface OfflineResult {
  objects: number;
  floorMedianMs: number;
  fullMedianMs: number;
  coldMs: number;
  findings: number;
  maxRssMb: number;
  incrementalMedianMs: number | null;
  incrementalP99Ms: number | null;
  jsonParseMedianMs: number;
  parseDocumentsMedianMs: number;
}

interface CliResult {
  /** The first run with an empty compile cache (module compilation included). */
  coldMs: number;
  /** Median of the runs after it. */
  warmMs: number;
  warmRuns: number;
  /** Peak RSS of the process (worker threads included), median of the warm runs. */
  rssMb: number;
  phases: Record<string, number>;
  phasesTotalMs: number;
  partsInWorkers: number;
  findings: number;
}

interface SizeResult {
  objects: number;
  yamlMb: number;
  jsonMb: number;
  yaml: CliResult;
  json: CliResult;
  istioctlMs?: number;
  offline?: OfflineResult;
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const loads: number[] = [];
const noteLoad = (): void => void loads.push(loadavg()[0] ?? NaN);

/** istioctl as the test bed builds it (from the oracle's istio.io/istio pin), if it is built. */
function istioctlPath(): string | undefined {
  const r = spawnSync('bash', ['scripts/testbed/build.sh', '--paths', 'istioctl'], { encoding: 'utf8' });
  return r.status === 0 ? /^ISTIOCTL=(.*)$/m.exec(r.stdout)?.[1] : undefined;
}

/** One run of the built CLI as a user runs it: wall time and peak RSS (bench/report-rss.mjs). */
function cliRun(file: string, cacheDir: string): { ms: number; rssMb: number } {
  noteLoad();
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ['--import', './bench/report-rss.mjs', CLI, 'analyze', file, '-o', 'json'], {
    encoding: 'utf8',
    maxBuffer: 1 << 30,
    env: { ...process.env, NODE_COMPILE_CACHE: cacheDir },
  });
  const wall = performance.now() - t0;
  if (r.status !== 0 && r.status !== 1)
    throw new Error(`meshmedic analyze ${file} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  return { ms: wall, rssMb: Number(/MESHMEDIC_BENCH_MAXRSS_KB (\d+)/.exec(r.stderr)?.[1] ?? NaN) / 1024 };
}

function cliBench(file: string, runs: number): CliResult {
  const cacheDir = mkdtempSync(join(tmpdir(), 'meshmedic-compile-cache-'));
  try {
    const cold = cliRun(file, cacheDir);
    const warm = Array.from({ length: runs }, () => cliRun(file, cacheDir));
    const phases = JSON.parse(
      execFileSync(process.execPath, ['bench/phases.ts', file], {
        encoding: 'utf8',
        maxBuffer: 1 << 20,
        env: { ...process.env, NODE_COMPILE_CACHE: cacheDir },
      }),
    ) as { phases: Record<string, number>; total: number; partsInWorkers: number; findings: number };
    return {
      coldMs: cold.ms,
      warmMs: median(warm.map((w) => w.ms)),
      warmRuns: runs,
      rssMb: median(warm.map((w) => w.rssMb)),
      phases: phases.phases,
      phasesTotalMs: phases.total,
      partsInWorkers: phases.partsInWorkers,
      findings: phases.findings,
    };
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
}

function wallMs(cmd: string, args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    noteLoad();
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push(performance.now() - t0);
    if (r.error) throw r.error;
  }
  return median(times);
}

function offlineBench(file: string, incremental: boolean): OfflineResult {
  const out = execFileSync(
    process.execPath,
    [...process.execArgv, 'bench/offline.ts', file, values.runs, incremental ? values.incremental : '0'],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  return JSON.parse(out) as OfflineResult;
}

function benchSize(size: number, dir: string, istioctl: string | undefined, inprocessMax: number): SizeResult {
  const objects = generateMesh({ size }).objects;
  const jsonFile = join(dir, `mesh-${size}.json`);
  const yamlFile = join(dir, `mesh-${size}.yaml`);
  writeFileSync(jsonFile, JSON.stringify(objects));
  writeFileSync(yamlFile, objects.map((o) => dump(o, { noRefs: true, lineWidth: -1 })).join('---\n'));
  const runs = Number(size > 50_000 ? values['large-runs'] : values['cli-runs']);
  log(`${objects.length} objects: meshmedic on YAML and JSON (1 cold + ${runs} warm runs each)…`);
  const result: SizeResult = {
    objects: objects.length,
    yamlMb: statSync(yamlFile).size / 2 ** 20,
    jsonMb: statSync(jsonFile).size / 2 ** 20,
    yaml: cliBench(yamlFile, runs),
    json: cliBench(jsonFile, runs),
  };
  if (istioctl && size <= Number(values['istioctl-max'])) {
    log(`  istioctl analyze on the YAML (${values['istioctl-runs']} runs)…`);
    result.istioctlMs = wallMs(
      istioctl,
      ['analyze', '--use-kube=false', '-A', yamlFile],
      Number(values['istioctl-runs']),
    );
  }
  if (size <= inprocessMax) {
    log('  in-process analysis of the JSON…');
    result.offline = offlineBench(jsonFile, size === inprocessMax);
  }
  return result;
}

// ---- report --------------------------------------------------------------------------------------------

const mb = (n: number): string => `${n.toFixed(0)} MB`;
const perObjectUs = (r: SizeResult): number =>
  ((r.yaml.warmMs - (r.yaml.phases['start + modules'] ?? 0)) / r.objects) * 1000;

function cliTable(results: SizeResult[]): string[] {
  const lines = [
    '| objects | YAML size | YAML cold | **YAML warm** | YAML peak RSS | JSON size | JSON cold | **JSON warm** | JSON peak RSS | istioctl analyze (YAML) | istioctl / meshmedic (YAML warm) | findings |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of results) {
    const ist = r.istioctlMs !== undefined ? ms(r.istioctlMs) : 'not run';
    const ratio = r.istioctlMs !== undefined ? `${(r.istioctlMs / r.yaml.warmMs).toFixed(2)}×` : '–';
    lines.push(
      `| ${r.objects} | ${r.yamlMb.toFixed(1)} MB | ${ms(r.yaml.coldMs)} | **${ms(r.yaml.warmMs)}** | ${mb(r.yaml.rssMb)} | ${r.jsonMb.toFixed(1)} MB | ${ms(r.json.coldMs)} | **${ms(r.json.warmMs)}** | ${mb(r.json.rssMb)} | ${ist} | ${ratio} | ${r.yaml.findings} |`,
    );
  }
  return lines;
}

function phaseTable(results: SizeResult[]): string[] {
  const names = Object.keys(results[0]?.yaml.phases ?? {});
  const lines = [
    `| objects | format | ${names.join(' | ')} | total | parts parsed in workers |`,
    `|---:|---|${names.map(() => '---:|').join('')}---:|---:|`,
  ];
  for (const r of results) {
    for (const [format, c] of [
      ['YAML', r.yaml],
      ['JSON', r.json],
    ] as const)
      lines.push(
        `| ${r.objects} | ${format} | ${names.map((n) => ms(c.phases[n] ?? NaN)).join(' | ')} | ${ms(c.phasesTotalMs)} | ${c.partsInWorkers} |`,
      );
  }
  return lines;
}

function offlineTable(results: SizeResult[]): string[] {
  const rows = results.filter((r) => r.offline);
  if (rows.length === 0) return [];
  const lines = [
    '',
    `### In-process analysis of the JSON (bench/offline.ts, ${values.runs} runs per size, medians)`,
    '',
    '| objects | full analysis | first run (cold process) | floor: JSON.parse + index | ratio to floor | JSON.parse alone | parseDocuments (JSON.parse + duplicate-key scan) | findings |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const { offline: o } of rows) {
    if (o)
      lines.push(
        `| ${o.objects} | ${ms(o.fullMedianMs)} | ${ms(o.coldMs)} | ${ms(o.floorMedianMs)} | ${(o.fullMedianMs / o.floorMedianMs).toFixed(2)}× | ${ms(o.jsonParseMedianMs)} | ${ms(o.parseDocumentsMedianMs)} (${(o.parseDocumentsMedianMs / o.jsonParseMedianMs).toFixed(2)}×) | ${o.findings} |`,
      );
  }
  lines.push(
    '',
    'Full analysis = JSON.parse + decoding and schema checks + index + all rules, in one process (no start-up, no output, no duplicate-key scan: the last two columns measure that apart). The process peaked at ' +
      rows.map((r) => mb(r.offline?.maxRssMb ?? NaN)).join(' / ') +
      '.',
  );
  const big = rows.at(-1)?.offline;
  if (big?.incrementalMedianMs != null)
    lines.push(
      '',
      `Incremental re-evaluation after one DestinationRule changes, at ${big.objects} objects (${values.incremental} changes): median ${ms(big.incrementalMedianMs)}, p99 ${ms(big.incrementalP99Ms ?? NaN)}.`,
    );
  return lines;
}

function clusterLines(cluster: ClusterResult | undefined): string[] {
  if (!cluster) return ['', 'Controller benchmark skipped (--skip-cluster).'];
  return [
    '',
    `### Controller on a real kube-apiserver ${cluster.kubernetesVersion} + etcd (test bed, loopback), ${cluster.backgroundObjects} background objects`,
    '',
    `- faulty DestinationRule created → its MeshRemediation seen by a watch: median ${ms(cluster.eventToProposalMedianMs)}, p99 ${ms(cluster.eventToProposalP99Ms)} over ${cluster.trials} trials`,
    `- API writes during ${cluster.steadySeconds} s of steady state (${cluster.resyncsDuringSteadyState} full resyncs): ${cluster.steadyWrites}`,
  ];
}

function targetLines(results: SizeResult[]): string[] {
  const at = (n: number): SizeResult | undefined => results.find((r) => Math.abs(r.objects - n) / n < 0.05);
  const verdict = (ok: boolean | undefined): string => (ok === undefined ? 'not measured' : ok ? 'met' : '**MISSED**');
  const k50 = at(50_000);
  const k1 = at(1000);
  const k500 = at(500_000);
  const growth = k50 && k500 ? perObjectUs(k500) / perObjectUs(k50) : undefined;
  const rows: [string, string, boolean | undefined][] = [
    [
      '50k objects of YAML ≤ 1.0 s (warm median)',
      k50 ? ms(k50.yaml.warmMs) : '–',
      k50 ? k50.yaml.warmMs <= 1000 : undefined,
    ],
    [
      '1k objects of YAML ≤ istioctl analyze on them',
      k1 ? `${ms(k1.yaml.warmMs)} against ${k1.istioctlMs !== undefined ? ms(k1.istioctlMs) : '–'}` : '–',
      k1?.istioctlMs !== undefined ? k1.yaml.warmMs <= k1.istioctlMs : undefined,
    ],
    ['peak RSS ≤ 300 MB at 50k (YAML)', k50 ? mb(k50.yaml.rssMb) : '–', k50 ? k50.yaml.rssMb <= 300 : undefined],
    [
      'linear growth to 500k: time per object (start-up apart) at 500k ≤ 1.25× that at 50k',
      growth !== undefined ? `${growth.toFixed(2)}×` : '–',
      growth !== undefined ? growth <= 1.25 : undefined,
    ],
  ];
  return [
    '| target (issue 13) | measured | |',
    '|---|---|---|',
    ...rows.map(([t, m, ok]) => `| ${t} | ${m} | ${verdict(ok)} |`),
  ];
}

function render(results: SizeResult[], cluster: ClusterResult | undefined, machine: string): string {
  const lo = Math.min(...loads).toFixed(2);
  const hi = Math.max(...loads).toFixed(2);
  const runs = `1 cold run + ${values['cli-runs']} warm runs per file (${values['large-runs']} above 50k objects)`;
  return [
    SECTION,
    '',
    `Run ${new Date().toISOString().slice(0, 10)} on ${machine}. 1-minute load average when each run started: ${lo} to ${hi} (the machine may be shared: figures taken above ~0.7 are inflated).`,
    '',
    `### \`meshmedic analyze FILE -o json\`, wall time of the whole command (${runs})`,
    '',
    ...cliTable(results),
    '',
    "The files are the bench generator's mesh (seed 42), as one multi-document YAML file and as one JSON array. Cold: the first run with an empty Node compile cache (what the first run after installing sees); warm: the median of the runs after it. Peak RSS: the process's, worker threads included. istioctl: `istioctl analyze --use-kube=false -A F` on the YAML (built by the test bed from the oracle's istio.io/istio pin), median of " +
      values['istioctl-runs'] +
      ' runs' +
      `; not run above ${values['istioctl-max']} objects.`,
    '',
    '### Where the time goes (bench/phases.ts: the first run of a fresh process on the built dist, compile cache warm)',
    '',
    ...phaseTable(results),
    '',
    `Growth (YAML, warm, start-up apart): ${results.map((r) => `${r.objects}: ${perObjectUs(r).toFixed(1)} µs per object`).join('; ')}.`,
    ...offlineTable(results),
    ...clusterLines(cluster),
    '',
    ...targetLines(results),
    '',
  ].join('\n');
}

// ---- main ----------------------------------------------------------------------------------------------

const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
const sizes = values.sizes.split(',').map(Number);
const inprocessMax = Math.max(...sizes.filter((s) => s <= Number(values['inprocess-max'])));
const dir = mkdtempSync(join(tmpdir(), 'meshmedic-bench-'));
const istioctl = istioctlPath();
if (!istioctl) log('istioctl is not built (npm run oracle:build): the istioctl columns stay empty');
const results: SizeResult[] = [];
try {
  for (const size of sizes) results.push(benchSize(size, dir, istioctl, inprocessMax));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

let cluster: ClusterResult | undefined;
if (!values['skip-cluster']) {
  log(`controller on a real API server (${values.trials} trials, ${values['steady-seconds']} s steady state)…`);
  cluster = await clusterBench({
    trials: Number(values.trials),
    steadySeconds: Number(values['steady-seconds']),
    background: Number(values.background),
    log,
  });
}

const section = render(results, cluster, machine);
process.stdout.write(section);
writeSection(values.out, section);
