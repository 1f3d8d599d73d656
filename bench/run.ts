// npm run bench: offline analysis at three sizes, incremental re-evaluation, and the controller on a
// real API server. Prints the figures with the machine and writes bench/RESULTS.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { cpus, totalmem, tmpdir, release } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { clusterBench, type ClusterResult } from './cluster.js';
import { generateMesh } from './generate-mesh.js';
import { dump } from 'js-yaml';
import { median, ms } from './stats.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,10000,50000' },
    runs: { type: 'string', default: '5' },
    incremental: { type: 'string', default: '500' },
    trials: { type: 'string', default: '50' },
    'steady-seconds': { type: 'string', default: '300' },
    background: { type: 'string', default: '1000' },
    'skip-cluster': { type: 'boolean', default: false },
    'cli-runs': { type: 'string', default: '3' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
  },
});

interface OfflineResult {
  objects: number;
  floorMedianMs: number;
  fullMedianMs: number;
  coldMs: number;
  findings: number;
  maxRssMb: number;
  incrementalMedianMs: number | null;
  incrementalP99Ms: number | null;
  cliMs?: number;
  cliRssMb?: number;
  /** Paired on one YAML file: `meshmedic analyze F -o json` and `istioctl analyze --use-kube=false -A F`, medians. */
  yamlCliMs?: number;
  istioctlMs?: number;
}

/** istioctl as the test bed builds it (from the oracle's istio.io/istio pin), if it is built. */
function istioctlPath(): string | undefined {
  const r = spawnSync('bash', ['scripts/testbed/build.sh', '--paths', 'istioctl'], { encoding: 'utf8' });
  return r.status === 0 ? /^ISTIOCTL=(.*)$/m.exec(r.stdout)?.[1] : undefined;
}

function wallMs(cmd: string, args: string[], runs: number): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 1 << 28 });
    times.push(performance.now() - t0);
    if (r.error) throw r.error;
  }
  return median(times);
}

const log = (s: string): void => void process.stderr.write(`${s}\n`);
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${release()}, Node ${process.version}`;
const sizes = values.sizes.split(',').map(Number);
const dir = mkdtempSync(join(tmpdir(), 'meshmedic-bench-'));
const offline: OfflineResult[] = [];
const istioctl = istioctlPath();
const cliRuns = Number(values['cli-runs']);
for (const size of sizes) {
  const file = join(dir, `mesh-${size}.json`);
  const objects = generateMesh({ size }).objects;
  writeFileSync(file, JSON.stringify(objects));
  const yamlFile = join(dir, `mesh-${size}.yaml`);
  writeFileSync(yamlFile, objects.map((o) => dump(o, { noRefs: true, lineWidth: -1 })).join('---\n'));
  const largest = size === Math.max(...sizes);
  log(`offline ${size} objects…`);
  const out = execFileSync(process.execPath, [...process.execArgv, 'bench/offline.ts', file, values.runs, largest ? values.incremental : '0'], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const result = JSON.parse(out) as OfflineResult;
  // The real CLI once, as a user runs it: `meshmedic analyze FILE -o json`, wall time and peak RSS.
  const t0 = performance.now();
  const cli = spawnSync(process.execPath, ['--import', './bench/report-rss.mjs', 'dist/cli/main.js', 'analyze', file, '-o', 'json'], { encoding: 'utf8', maxBuffer: 1 << 28 });
  result.cliMs = performance.now() - t0;
  result.cliRssMb = Number(/MESHMEDIC_BENCH_MAXRSS_KB (\d+)/.exec(cli.stderr)?.[1] ?? NaN) / 1024;
  if (cli.status !== 0 && cli.status !== 1) throw new Error(`meshmedic analyze failed: ${cli.stderr}`);
  // The same YAML file through both tools, as users run them.
  log(`  ${size} objects as YAML: meshmedic and ${istioctl ? 'istioctl' : '(istioctl not built)'}…`);
  result.yamlCliMs = wallMs(process.execPath, ['dist/cli/main.js', 'analyze', yamlFile, '-o', 'json'], cliRuns);
  if (istioctl) result.istioctlMs = wallMs(istioctl, ['analyze', '--use-kube=false', '-A', yamlFile], cliRuns);
  offline.push(result);
}

let cluster: ClusterResult | undefined;
if (!values['skip-cluster']) {
  log(`controller on a real API server (${values.trials} trials, ${values['steady-seconds']} s steady state)…`);
  cluster = await clusterBench({ trials: Number(values.trials), steadySeconds: Number(values['steady-seconds']), background: Number(values.background), log });
}

const perObject = offline.map((r) => (r.fullMedianMs / r.objects) * 1000);
const lines: string[] = [];
lines.push(`# meshmedic benchmark results`, '', `Run ${new Date().toISOString().slice(0, 10)} on ${machine}. \`npm run bench\` (${values.runs} runs per size, medians).`, '');
lines.push('| objects | full analysis (median) | first run (cold process) | floor: JSON.parse + index | ratio to floor | µs per object | `meshmedic analyze -o json` wall | its peak RSS | findings |', '|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
offline.forEach((r, i) => lines.push(`| ${r.objects} | ${ms(r.fullMedianMs)} | ${ms(r.coldMs)} | ${ms(r.floorMedianMs)} | ${(r.fullMedianMs / r.floorMedianMs).toFixed(2)}× | ${perObject[i]?.toFixed(1)} | ${ms(r.cliMs ?? NaN)} | ${(r.cliRssMb ?? NaN).toFixed(0)} MB | ${r.findings} |`));
lines.push('', 'Full analysis = JSON.parse + schema checks of every object + index + all rules, in-process (median of the runs after a warm-up; the first run of a fresh process is shown apart). The CLI columns run the built `meshmedic analyze FILE -o json` once per size as a user would: process start, module loading, reading, analysis and the JSON output included. (The benchmark process itself, holding the text, repeated runs and the incremental loop, peaked at ' + offline.map((r) => `${r.maxRssMb.toFixed(0)} MB`).join(' / ') + '.)');
const big = offline[offline.length - 1];
lines.push('');
if (big?.incrementalMedianMs != null) lines.push(`Incremental re-evaluation after one DestinationRule changes, at ${big.objects} objects (${values.incremental} changes): median ${ms(big.incrementalMedianMs)}, p99 ${ms(big.incrementalP99Ms ?? NaN)}.`);
if (offline.length > 1) lines.push(`Growth: time per object at ${offline[offline.length - 1]?.objects} objects is ${((perObject[perObject.length - 1] ?? 0) / (perObject[0] ?? 1)).toFixed(2)}× that at ${offline[0]?.objects} (1.00× = linear).`);
lines.push('');
if (cluster) {
  lines.push(`Controller on a real kube-apiserver ${cluster.kubernetesVersion} + etcd (test bed, loopback), ${cluster.backgroundObjects} background objects:`);
  lines.push(`- faulty DestinationRule created → its MeshRemediation seen by a watch: median ${ms(cluster.eventToProposalMedianMs)}, p99 ${ms(cluster.eventToProposalP99Ms)} over ${cluster.trials} trials`);
  lines.push(`- API writes during ${cluster.steadySeconds} s of steady state (${cluster.resyncsDuringSteadyState} full resyncs): ${cluster.steadyWrites}`);
} else lines.push('Controller benchmark skipped (--skip-cluster).');
lines.push('', `Paired with istioctl on the same YAML file (median of ${cliRuns} runs each, wall time of the whole command): \`meshmedic analyze F -o json\` against \`istioctl analyze --use-kube=false -A F\` (istioctl built by the test bed from the oracle's istio.io/istio pin).`, '');
lines.push('| objects | meshmedic (YAML) | istioctl analyze | istioctl / meshmedic |', '|---:|---:|---:|---:|');
for (const r of offline) lines.push(`| ${r.objects} | ${ms(r.yamlCliMs ?? NaN)} | ${r.istioctlMs !== undefined ? ms(r.istioctlMs) : 'not built'} | ${r.istioctlMs !== undefined && r.yamlCliMs ? `${(r.istioctlMs / r.yamlCliMs).toFixed(2)}×` : '–'} |`);
lines.push('');
lines.push('Targets (issue 6): 50k objects ≤ 2 s and ≤ 400 MB RSS; full analysis ≤ 3× the floor; incremental ≤ 5 ms p99; event → proposal ≤ 1 s p99; zero steady-state writes; linear growth.');
const text = lines.join('\n') + '\n';
process.stdout.write(text);
writeFileSync(values.out, text);
