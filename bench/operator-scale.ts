// npm run bench:operator: the operator at scale on the REAL test bed (kube-apiserver + etcd, no fakes).
// One dedicated control plane; per size (ascending): the generated mesh is loaded into the API server (only
// the objects the previous size did not have: each mesh is a prefix of the next), the MeshRemediations of
// the previous size are deleted, and ONE Operator runs in a child process (bench/operator-child.ts, on the
// built dist) that measures its own sync, RSS, CPU, writes and HTTP requests. Two probes then change one
// DestinationRule (a new finding, then the finding resolved) and count the writes each change costs.
// The figures are printed and written as the section "Operator at scale (real kube-apiserver)" of --out.
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:https';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import { analyze } from '../src/analysis/analyze.js';
import { groupFindings } from '../src/controller/remediation.js';
import { collectionPath, RESOURCES, resourceForKind } from '../src/kube/resources.js';
import { decodeDocuments } from '../src/model/decode.js';
import { objectKey } from '../src/model/kinds.js';
import type { KubeObject } from '../src/model/types.js';
import { MeshIndex } from '../src/model/mesh-index.js';
import type { TestbedBinaries } from '../test/testbed/binaries.js';
import { dedicatedBinaries, dedicatedSkipReason, startDedicatedControlPlane } from '../test/testbed/dedicated.js';
import { kubeRequest } from '../test/testbed/http.js';
import type {
  ChildConfig,
  ChildMessage,
  Counts,
  DoneReport,
  ParentCommand,
  ProbeReport,
  SteadyReport,
} from './operator-child.js';
import { generateMesh } from './generate-mesh.js';
import { writeSection } from './results-file.js';
import { ms } from './stats.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '10000,50000' },
    concurrency: { type: 'string', default: '32' },
    'steady-seconds': { type: 'string', default: '60' },
    'rss-seconds': { type: 'string', default: '30' },
    'load-timeout-minutes': { type: 'string', default: '6' },
    seed: { type: 'string', default: '42' },
    out: { type: 'string', default: 'bench/RESULTS.md' },
  },
});

const SECTION = '## Operator at scale (real kube-apiserver)';
const LEASE_NAMESPACE = 'meshmedic-system';
const CHILD = fileURLToPath(new URL('./operator-child.ts', import.meta.url));
const log = (s: string): void => void process.stderr.write(`${s}\n`);

// ---- raw HTTP to the API server (a keep-alive pool: loading is not the operator's time) ----------------

interface Api {
  kc: KubeConfig;
  agent: Agent;
}

interface Reply {
  status: number;
  body: string;
}

function apiFor(kc: KubeConfig, sockets: number): Api {
  return { kc, agent: new Agent({ keepAlive: true, maxSockets: sockets }) };
}

function call(
  api: Api,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<Reply> {
  return kubeRequest(api.kc, method, path, body, contentType, 'application/json', api.agent);
}

const retriable = (status: number): boolean => status === 429 || status >= 500;

/** The call, retried (up to 5 times, with backoff) on 429, 5xx and connection errors. */
async function callRetrying(
  api: Api,
  method: string,
  path: string,
  body?: unknown,
  contentType?: string,
): Promise<Reply> {
  for (let attempt = 0; ; attempt++) {
    const last = attempt >= 5;
    try {
      const reply = await call(api, method, path, body, contentType);
      if (!retriable(reply.status) || last) return reply;
    } catch (err) {
      if (last) throw err;
    }
    await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
  }
}

function pathOf(o: KubeObject): string {
  const r = resourceForKind(o.kind);
  if (!r) throw new Error(`no API resource for kind ${o.kind}`);
  return collectionPath(r, o.metadata.namespace);
}

/** Creates the object; one that exists already (a previous run's) counts as created. */
async function createObject(api: Api, o: KubeObject): Promise<void> {
  const reply = await callRetrying(api, 'POST', pathOf(o), o);
  if (reply.status !== 201 && reply.status !== 409)
    throw new Error(`creating ${objectKey(o)}: HTTP ${reply.status}: ${reply.body.slice(0, 500)}`);
}

/** Runs fn over the items, `concurrency` at a time, starting none after the deadline; returns how many ran. */
async function pool<T>(
  items: readonly T[],
  concurrency: number,
  fn: (item: T) => Promise<void>,
  deadline = Infinity,
): Promise<number> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && performance.now() < deadline) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return next;
}

// ---- the mesh --------------------------------------------------------------------------------------

/** The bench generator's mesh; Services headless (the test bed's Service range is a /24). */
function meshOf(size: number, seed: number): KubeObject[] {
  const objects = generateMesh({ size, seed }).objects;
  for (const o of objects) if (o.kind === 'Service') (o.spec as { clusterIP?: string }).clusterIP = 'None';
  return objects;
}

/** Proposals the operator should make: the offline analyzer's finding groups over the same objects. */
function expectedProposals(objects: KubeObject[]): number {
  const decoded = decodeDocuments(objects.map((value, i) => ({ value, file: 'generated', line: i + 1 })));
  return groupFindings(analyze(new MeshIndex(decoded.objects)).findings).length;
}

interface LoadResult {
  objects: number;
  loaded: number;
  ms: number;
  complete: boolean;
}

/** Loads the objects not loaded yet (namespaces first), as fast as the API server takes them. */
async function load(
  api: Api,
  objects: KubeObject[],
  loadedKeys: Set<string>,
  concurrency: number,
  timeoutMs: number,
): Promise<LoadResult> {
  const todo = objects.filter((o) => !loadedKeys.has(objectKey(o)));
  const deadline = performance.now() + timeoutMs;
  const t0 = performance.now();
  const create = async (o: KubeObject): Promise<void> => {
    await createObject(api, o);
    loadedKeys.add(objectKey(o));
  };
  const namespaces = todo.filter((o) => o.kind === 'Namespace');
  let loaded = await pool(namespaces, concurrency, create, deadline);
  if (loaded === namespaces.length)
    loaded += await pool(
      todo.filter((o) => o.kind !== 'Namespace'),
      concurrency,
      create,
      deadline,
    );
  return { objects: todo.length, loaded, ms: performance.now() - t0, complete: loaded === todo.length };
}

// ---- the operator's own resources ------------------------------------------------------------------

async function setUpOperatorResources(api: Api): Promise<void> {
  await createObject(api, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: LEASE_NAMESPACE } });
  // Propose, every namespace (neither namespaces nor a selector), every rule.
  await createObject(api, {
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshHealthPolicy',
    metadata: { name: 'scale' },
    spec: { mode: 'Propose' },
  });
}

async function listRemediations(api: Api): Promise<KubeObject[]> {
  const items: KubeObject[] = [];
  let token = '';
  do {
    const path = `${collectionPath(RESOURCES.MeshRemediation)}?limit=500${token ? `&continue=${encodeURIComponent(token)}` : ''}`;
    const reply = await callRetrying(api, 'GET', path);
    if (reply.status !== 200) throw new Error(`listing MeshRemediations: HTTP ${reply.status}`);
    const list = JSON.parse(reply.body) as { items: KubeObject[]; metadata?: { continue?: string } };
    items.push(...list.items);
    token = list.metadata?.continue ?? '';
  } while (token);
  return items;
}

function phases(mmrs: KubeObject[]): Counts {
  const out: Counts = {};
  for (const m of mmrs) {
    const phase = (m.status as { phase?: string } | undefined)?.phase ?? '(no status)';
    out[phase] = (out[phase] ?? 0) + 1;
  }
  return out;
}

/** The previous size's proposals go: each size's operator starts from none. */
async function deleteRemediations(api: Api, concurrency: number): Promise<number> {
  const mmrs = await listRemediations(api);
  await pool(mmrs, concurrency, async (m) => {
    const reply = await callRetrying(api, 'DELETE', `${pathOf(m)}/${m.metadata.name}`);
    if (reply.status !== 200 && reply.status !== 202 && reply.status !== 404)
      throw new Error(`deleting ${m.metadata.name}: HTTP ${reply.status}`);
  });
  if ((await listRemediations(api)).length > 0) throw new Error('MeshRemediations left after deleting them');
  return mmrs.length;
}

// ---- the child process -------------------------------------------------------------------------------

interface Link {
  send(cmd: ParentCommand): void;
  next<T extends ChildMessage['type']>(type: T, timeoutMs: number): Promise<Extract<ChildMessage, { type: T }>>;
  kill(): void;
}

function startChild(cfg: ChildConfig): Link {
  // Plain Node on the built dist: no tsx loader in the measured process.
  const child = spawn(process.execPath, [CHILD, JSON.stringify(cfg)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const inbox: ChildMessage[] = [];
  let wake = (): void => undefined;
  let exited: string | undefined;
  child.on('message', (m: ChildMessage) => (inbox.push(m), wake()));
  child.on('exit', (code, signal) => ((exited = `operator child exited (${code ?? signal})`), wake()));
  const next = async <T extends ChildMessage['type']>(
    type: T,
    timeoutMs: number,
  ): Promise<Extract<ChildMessage, { type: T }>> => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = inbox.shift();
      if (m?.type === 'error') throw new Error(`operator child failed: ${m.message}`);
      if (m?.type === type) return m as Extract<ChildMessage, { type: T }>;
      if (m) throw new Error(`operator child sent ${m.type}, expected ${type}`);
      if (exited) throw new Error(exited);
      if (Date.now() > deadline) throw new Error(`no ${type} from the operator child within ${timeoutMs} ms`);
      await new Promise<void>((r) => ((wake = r), setTimeout(r, 1000)));
    }
  };
  return { send: (cmd) => void child.send(cmd), next, kill: () => void child.kill('SIGKILL') };
}

/** A clean DestinationRule of the mesh: the probes make it faulty, then clean again. */
function probeTarget(objects: KubeObject[]): KubeObject {
  const clean = objects.find((o) => {
    const tp = (
      o.spec as
        { trafficPolicy?: { tls?: { mode?: string }; outlierDetection?: { maxEjectionPercent?: number } } } | undefined
    )?.trafficPolicy;
    return (
      o.kind === 'DestinationRule' &&
      tp?.tls?.mode === 'ISTIO_MUTUAL' &&
      tp.outlierDetection?.maxEjectionPercent !== 100
    );
  });
  if (!clean) throw new Error('the mesh has no clean DestinationRule to probe with');
  return clean;
}

async function probe(api: Api, link: Link, dr: KubeObject, tlsMode: string, timeoutMs: number): Promise<ProbeReport> {
  link.send({ type: 'mark' });
  await link.next('marked', timeoutMs);
  const reply = await callRetrying(
    api,
    'PATCH',
    `${pathOf(dr)}/${dr.metadata.name}`,
    { spec: { trafficPolicy: { tls: { mode: tlsMode } } } },
    'application/merge-patch+json',
  );
  if (reply.status !== 200)
    throw new Error(`patching ${objectKey(dr)}: HTTP ${reply.status}: ${reply.body.slice(0, 300)}`);
  const resourceVersion = (JSON.parse(reply.body) as KubeObject).metadata.resourceVersion ?? '';
  link.send({ type: 'settle', key: objectKey(dr), resourceVersion });
  return link.next('probed', timeoutMs);
}

// ---- one size ----------------------------------------------------------------------------------

interface Measured {
  sync: Omit<SteadyReport, 'steady'>;
  steady: SteadyReport['steady'];
  proposals: number;
  phases: Counts;
  probeNew: ProbeReport;
  probeResolved: ProbeReport;
  done: DoneReport;
}

interface SizeResult {
  size: number;
  objects: number;
  load: LoadResult;
  expectedProposals: number;
  measured?: Measured;
}

async function runOperator(api: Api, kubeconfig: string, objects: KubeObject[]): Promise<Measured> {
  const steadySeconds = Number(values['steady-seconds']);
  const timeoutMs = 15 * 60_000;
  const link = startChild({
    kubeconfig,
    leaseNamespace: LEASE_NAMESPACE,
    rssSeconds: Number(values['rss-seconds']),
    steadySeconds,
    timeoutMs: 10 * 60_000,
  });
  try {
    const { steady, ...sync } = await link.next('steady', timeoutMs + steadySeconds * 1000);
    const mmrs = await listRemediations(api);
    log(`  ${mmrs.length} proposals; probing with one DestinationRule…`);
    const dr = probeTarget(objects);
    const probeNew = await probe(api, link, dr, 'DISABLE', timeoutMs);
    const probeResolved = await probe(api, link, dr, 'ISTIO_MUTUAL', timeoutMs);
    link.send({ type: 'finish' });
    const done = await link.next('done', 60_000);
    return { sync, steady, proposals: mmrs.length, phases: phases(mmrs), probeNew, probeResolved, done };
  } finally {
    link.kill();
  }
}

async function runSize(api: Api, kubeconfig: string, size: number, loadedKeys: Set<string>): Promise<SizeResult> {
  const objects = meshOf(size, Number(values.seed));
  const concurrency = Number(values.concurrency);
  log(
    `${size}: loading ${objects.filter((o) => !loadedKeys.has(objectKey(o))).length} new objects (of ${objects.length}), ${concurrency} at a time…`,
  );
  const loadResult = await load(api, objects, loadedKeys, concurrency, Number(values['load-timeout-minutes']) * 60_000);
  log(`  loaded ${loadResult.loaded}/${loadResult.objects} in ${ms(loadResult.ms)}`);
  const result: SizeResult = {
    size,
    objects: objects.length,
    load: loadResult,
    expectedProposals: expectedProposals(objects),
  };
  if (!loadResult.complete) return result;
  const deleted = await deleteRemediations(api, concurrency);
  if (deleted > 0) log(`  deleted the ${deleted} MeshRemediations of the previous size`);
  log(`  operator (child process) starting; ${result.expectedProposals} proposals expected…`);
  result.measured = await runOperator(api, kubeconfig, objects);
  return result;
}

// ---- the report --------------------------------------------------------------------------------

const sum = (c: Counts, pick: (key: string) => boolean = () => true): number =>
  Object.entries(c)
    .filter(([k]) => pick(k))
    .reduce((s, [, v]) => s + v, 0);
const realWrites = (c: Counts): number => sum(c, (k) => !k.startsWith('dry-run '));
const isConn = (k: string): boolean => k.startsWith('connections');
const isLease = (k: string): boolean => / leases$/.test(k);
const isWatch = (k: string): boolean => k.startsWith('WATCH ');
const isRead = (k: string): boolean => /^(node:https )?GET /.test(k);
const breakdown = (c: Counts): string =>
  Object.entries(c)
    .sort(([, a], [, b]) => b - a)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ') || 'none';
const mb = (n: number): string => `${n.toFixed(0)} MB`;
const pct = (cpuSeconds: number, wallMs: number): string => `${((cpuSeconds / (wallMs / 1000)) * 100).toFixed(1)} %`;

interface RequestRates {
  total: number;
  lease: number;
  watch: number;
  reads: number;
  writes: number;
  connections: number;
}

function requestRates(steady: Measured['steady']): RequestRates {
  const perMin = (n: number): number => n / (steady.wallMs / 60_000);
  const r = steady.requests;
  return {
    total: perMin(sum(r, (k) => !isConn(k))),
    lease: perMin(sum(r, isLease)),
    watch: perMin(sum(r, isWatch)),
    reads: perMin(sum(r, (k) => isRead(k) && !isLease(k))),
    writes: perMin(sum(r, (k) => !isConn(k) && !isLease(k) && !isWatch(k) && !isRead(k))),
    connections: perMin(sum(r, isConn)),
  };
}

type Row = [string, (r: SizeResult, m: Measured) => string];

const ROWS: Row[] = [
  ["objects in the operator's index (mesh + cluster defaults)", (_r, m) => String(m.sync.indexSize)],
  [
    '**caches synced** (start → leading and every informer listed: `isLeader && ready`)',
    (_r, m) => `**${ms(m.sync.readyMs)}**`,
  ],
  ['queue first drained (start → `idle()`: every subject evaluated, proposals written)', (_r, m) => ms(m.sync.idleMs)],
  ['CPU used from start to first drain', (_r, m) => `${m.sync.syncCpuSeconds.toFixed(1)} s`],
  ['HTTP requests from start to first drain', (_r, m) => String(sum(m.sync.syncRequests, (k) => !isConn(k)))],
  [
    'proposals created (MeshRemediations) / expected from the offline analyzer',
    (r, m) => `${m.proposals} / ${r.expectedProposals}`,
  ],
  ['writes during initial reconcile (`writesTotal`)', (_r, m) => String(realWrites(m.sync.initialWrites))],
  [
    '**writes per proposal** (initial writes / proposals)',
    (_r, m) => `**${(realWrites(m.sync.initialWrites) / Math.max(1, m.proposals)).toFixed(2)}**`,
  ],
  ["RSS before `op.start()` (Node + the operator's modules loaded: the floor)", (_r, m) => mb(m.sync.startRssMb)],
  [
    `**RSS steady** (median of 500 ms samples, ${values['rss-seconds']} s after the first drain)`,
    (_r, m) => `**${mb(m.steady.rssMedianMb)}**`,
  ],
  ['JS heap used, same samples (median)', (_r, m) => mb(m.steady.heapUsedMedianMb)],
  [
    'RSS peak (max sampled / `resourceUsage().maxRSS`)',
    (_r, m) => `${mb(m.done.peakRssSampledMb)} / ${mb(m.done.maxRssMb)}`,
  ],
  [
    'one `resyncAll()` in the steady window: time to drain / CPU',
    (_r, m) => `${ms(m.steady.resyncMs)} / ${m.steady.resyncCpuSeconds.toFixed(1)} s`,
  ],
  [
    'CPU in steady state without the resync (% of one core)',
    (_r, m) => pct(m.steady.cpuSecondsQuiet, m.steady.quietWallMs),
  ],
  [
    'CPU over the whole steady window, resync included',
    (_r, m) =>
      `${pct(m.steady.cpuSecondsTotal, m.steady.wallMs)} (${m.steady.cpuSecondsTotal.toFixed(1)} s in ${(m.steady.wallMs / 1000).toFixed(0)} s)`,
  ],
  [
    '**operator writes in the steady window** (`writesTotal` delta, resync included)',
    (_r, m) => `**${realWrites(m.steady.writes)}**`,
  ],
  ['HTTP requests per minute in steady state, all', (_r, m) => requestRates(m.steady).total.toFixed(0)],
  ['… of which Lease GET + PUT (leader election, every 2 s)', (_r, m) => requestRates(m.steady).lease.toFixed(0)],
  ['… watch requests (re)opened', (_r, m) => requestRates(m.steady).watch.toFixed(0)],
  [
    '… other reads / other writes',
    (_r, m) => `${requestRates(m.steady).reads.toFixed(0)} / ${requestRates(m.steady).writes.toFixed(0)}`,
  ],
  ['new TLS connections per minute in steady state', (_r, m) => requestRates(m.steady).connections.toFixed(0)],
  [
    'probe: a clean DestinationRule gets tls DISABLE → new proposal: writes (time to drain)',
    (_r, m) => `${realWrites(m.probeNew.writes)} (${ms(m.probeNew.ms)})`,
  ],
  [
    'probe: the same DestinationRule fixed again → proposal superseded: writes (time to drain)',
    (_r, m) => `${realWrites(m.probeResolved.writes)} (${ms(m.probeResolved.ms)})`,
  ],
];

function machine(bins: TestbedBinaries): string {
  const nproc = execFileSync('nproc', { encoding: 'utf8' }).trim();
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown CPU';
  const memKb = Number(/^MemTotal:\s*(\d+)/m.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? NaN);
  const node = execFileSync(process.execPath, ['--version'], { encoding: 'utf8' }).trim();
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ');
  return `nproc ${nproc}, ${model}, ${(memKb / 2 ** 20).toFixed(1)} GiB RAM, Node ${node} (\`${process.execPath}\`); kube-apiserver ${bins.kubernetesVersion} + etcd ${bins.etcdVersion} on the same machine (test bed, loopback); load average when the run started ${load} (the machine is shared)`;
}

function table(results: SizeResult[]): string[] {
  const done = results.filter((r): r is SizeResult & { measured: Measured } => r.measured !== undefined);
  const lines = [
    `| | ${done.map((r) => `${r.objects} objects`).join(' | ')} |`,
    `|---|${done.map(() => '---:').join('|')}|`,
  ];
  for (const [label, cell] of ROWS) lines.push(`| ${label} | ${done.map((r) => cell(r, r.measured)).join(' | ')} |`);
  return lines;
}

function loading(results: SizeResult[], concurrency: number): string[] {
  const lines = [
    "Loading the mesh into the API server (not the operator's time; each size adds what the previous one lacked):",
    '',
  ];
  for (const r of results) {
    const rate = r.load.loaded / (r.load.ms / 1000);
    const state = r.load.complete
      ? ''
      : ` — **NOT LOADED: only ${r.load.loaded} of ${r.load.objects} within ${values['load-timeout-minutes']} min; this size is not measured**`;
    lines.push(
      `- ${r.objects} objects: ${r.load.loaded} created in ${ms(r.load.ms)} (${rate.toFixed(0)} objects/s, ${concurrency} requests in flight, keep-alive)${state}`,
    );
  }
  return lines;
}

interface Verdict {
  target: string;
  measured: string;
  met: boolean | undefined;
}

function verdicts(results: SizeResult[]): Verdict[] {
  const at = (n: number): Measured | undefined => results.find((r) => r.size === n)?.measured;
  const all = results.flatMap((r) => (r.measured ? [{ r, m: r.measured }] : []));
  const largest = all[all.length - 1];
  const m50 = at(50000);
  const m10 = at(10000);
  const perProposal = all.map(({ r, m }) => ({ r, n: realWrites(m.sync.initialWrites) / Math.max(1, m.proposals) }));
  const probes = all.flatMap(({ m }) => [realWrites(m.probeNew.writes), realWrites(m.probeResolved.writes)]);
  return [
    {
      target: '50k objects synced in ≤ 10 s (caches synced)',
      measured: m50 ? `${ms(m50.sync.readyMs)} (first drain ${ms(m50.sync.idleMs)})` : 'not measured',
      met: m50 ? m50.sync.readyMs <= 10_000 : undefined,
    },
    {
      target: '≤ 200 MB RSS steady at 10k',
      measured: m10 ? mb(m10.steady.rssMedianMb) : 'not measured',
      met: m10 ? m10.steady.rssMedianMb <= 200 : undefined,
    },
    {
      target: '0 steady writes',
      measured:
        all.map(({ r, m }) => `${realWrites(m.steady.writes)} at ${r.objects}`).join(', ') +
        ` (operator writes; Lease renewals apart: ${largest ? requestRates(largest.m.steady).lease.toFixed(0) : '–'} requests/min)`,
      met: all.length ? all.every(({ m }) => realWrites(m.steady.writes) === 0) : undefined,
    },
    {
      target: '≤ 1 write per proposal change',
      measured: `${perProposal.map(({ r, n }) => `${n.toFixed(2)} per proposal created at ${r.objects}`).join(', ')}; probes ${probes.join(' / ')} writes per change`,
      met: all.length ? perProposal.every(({ n }) => n <= 1) && probes.every((n) => n <= 1) : undefined,
    },
  ];
}

function details(results: SizeResult[]): string[] {
  const lines: string[] = [];
  for (const r of results) {
    const m = r.measured;
    if (!m) continue;
    lines.push(
      `- ${r.objects} objects: initial writes ${breakdown(m.sync.initialWrites)}; proposals by phase ${breakdown(m.phases)}; steady-state requests (${(m.steady.wallMs / 1000).toFixed(0)} s) ${breakdown(m.steady.requests)}; probe writes: new proposal ${breakdown(m.probeNew.writes)}, resolved ${breakdown(m.probeResolved.writes)}.`,
    );
  }
  return lines;
}

function render(results: SizeResult[], bins: TestbedBinaries, machineLine: string): string {
  const concurrency = Number(values.concurrency);
  const cmd = `npm run bench:operator -- --sizes ${values.sizes}`;
  const verdictLines = verdicts(results).map(
    (v) => `| ${v.target} | ${v.measured} | ${v.met === undefined ? 'not measured' : v.met ? 'met' : '**MISSED**'} |`,
  );
  const missed = verdicts(results)
    .filter((v) => v.met === false)
    .map((v) => v.target);
  return [
    SECTION,
    '',
    `Run ${new Date().toISOString().slice(0, 10)} with \`${cmd}\` on ${machineLine}.`,
    '',
    `ONE Operator (defaults: 4 workers, 15 s lease renewed every 2 s, resync every 5 min) in a child process of its own (\`bench/operator-child.ts\` on the built dist, plain Node: its RSS and CPU are the operator's alone), against a real kube-apiserver ${bins.kubernetesVersion} holding the bench generator's mesh (seed ${values.seed}; ~2 % of DestinationRules with tls DISABLE, ~1 % ejecting all hosts, ~1 % routes to unknown subsets or with 100 ms timeouts, ~10 % TCP ServiceEntries without addresses; Services headless) and one MeshHealthPolicy in Propose mode over every namespace. Each size is one run (the 50k case is too costly to repeat on this machine): the RSS figure is the median of its samples, the others are single measurements. Steady state: ${values['steady-seconds']} s right after the first drain: the RSS window (${values['rss-seconds']} s), then one \`resyncAll()\` drained, then quiet. HTTP requests are counted in the child at the HTTP level (undici's \`undici:request:create\` diagnostics channel, which @kubernetes/client-node 2.x's fetch reports every request on; a watch counts once, when it is opened).`,
    '',
    ...loading(results, concurrency),
    '',
    ...table(results),
    '',
    'Details:',
    '',
    ...details(results),
    '',
    '| target (issue) | measured | |',
    '|---|---|---|',
    ...verdictLines,
    '',
    missed.length ? `Targets missed: ${missed.join('; ')}.` : 'Every measured target is met.',
    '',
  ].join('\n');
}

async function main(): Promise<void> {
  const bins = await dedicatedBinaries();
  if (!bins) throw new Error(dedicatedSkipReason);
  const machineLine = machine(bins);
  log(`starting kube-apiserver ${bins.kubernetesVersion} + etcd ${bins.etcdVersion} with the test bed's CRDs…`);
  const { plane, kc } = await startDedicatedControlPlane(bins);
  const results: SizeResult[] = [];
  try {
    const api = apiFor(kc, Number(values.concurrency));
    await setUpOperatorResources(api);
    const loadedKeys = new Set<string>();
    for (const size of values.sizes
      .split(',')
      .map(Number)
      .sort((a, b) => a - b)) {
      const r = await runSize(api, plane.kubeconfigPath, size, loadedKeys);
      results.push(r);
      if (!r.load.complete) break; // a larger size would not load either
    }
    api.agent.destroy();
  } finally {
    await plane.stop();
  }
  const section = render(results, bins, machineLine);
  process.stdout.write(`\n${section}`);
  if (values.out) writeSection(values.out, section);
}

await main();
