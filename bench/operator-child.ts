// One meshmedic Operator in a process of its own, for bench/operator-scale.ts, so that its RSS and CPU
// are the operator's alone. Run by plain Node (type stripping) on the built dist (`npm run build`):
//   node bench/operator-child.ts '<ChildConfig as JSON>'      (with an IPC channel: spawn(..., { stdio: [..., 'ipc'] }))
// It measures the initial sync and a steady state by itself, then answers the parent's probes (a change the
// parent makes to one object) until told to finish. API requests are counted at the HTTP level: client-node
// 2.x sends every request through undici's fetch, which reports each one on node:diagnostics_channel.
import { subscribe } from 'node:diagnostics_channel';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';

type OperatorModule = typeof import('../src/controller/operator.js');
type Operator = InstanceType<OperatorModule['Operator']>;

export interface ChildConfig {
  kubeconfig: string;
  leaseNamespace: string;
  /** Steady RSS is the median of the samples of this many seconds right after the first drain. */
  rssSeconds: number;
  /** The steady window (one resyncAll() in it, right after the RSS window). */
  steadySeconds: number;
  timeoutMs: number;
}

export type Counts = Record<string, number>;

export interface SteadyReport {
  type: 'steady';
  node: { version: string; execPath: string };
  indexSize: number;
  /** RSS with the operator's modules loaded, right before op.start(). */
  startRssMb: number;
  readyMs: number;
  idleMs: number;
  syncCpuSeconds: number;
  syncRequests: Counts;
  initialWrites: Counts;
  steady: {
    wallMs: number;
    rssMedianMb: number;
    heapUsedMedianMb: number;
    cpuSecondsTotal: number;
    cpuSecondsQuiet: number;
    quietWallMs: number;
    resyncMs: number;
    resyncCpuSeconds: number;
    writes: Counts;
    requests: Counts;
  };
}

export interface ProbeReport {
  type: 'probed';
  ms: number;
  writes: Counts;
  requests: Counts;
}

export interface DoneReport {
  type: 'done';
  peakRssSampledMb: number;
  maxRssMb: number;
}

export interface ErrorReport {
  type: 'error';
  message: string;
}

export type ChildMessage = SteadyReport | { type: 'marked' } | ProbeReport | DoneReport | ErrorReport;

/** The parent's commands: mark (before it changes an object), settle (after), finish. */
export type ParentCommand =
  { type: 'mark' } | { type: 'settle'; key: string; resourceVersion: string } | { type: 'finish' };

const MB = 2 ** 20;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const log = (s: string): void => void process.stderr.write(`[operator-child] ${s}\n`);

// ---- HTTP request counting ----------------------------------------------------------------------

/** The resource a request names ("destinationrules", "leases", "meshremediations/status"). */
export function resourceOfPath(path: string): string {
  const segs = (path.split('?')[0] ?? '').split('/').filter((s) => s !== '');
  const rest = segs[0] === 'api' ? segs.slice(2) : segs[0] === 'apis' ? segs.slice(3) : segs;
  const named = rest[0] === 'namespaces' && rest.length >= 3 ? rest.slice(2) : rest;
  const sub = named.length >= 3 ? `/${named[2]}` : '';
  return `${named[0] ?? path}${sub}`;
}

/** "GET destinationrules", "WATCH services", "PUT leases", "POST events", ... */
export function requestClass(method: string, path: string): string {
  const watch = /[?&]watch=(true|1)/.test(path);
  return `${watch ? 'WATCH' : method.toUpperCase()} ${resourceOfPath(path)}`;
}

const requests: Counts = {};
const bump = (counts: Counts, key: string, by = 1): void => void (counts[key] = (counts[key] ?? 0) + by);

function countRequests(): void {
  subscribe('undici:request:create', (msg) => {
    const { request } = msg as { request: { method: string; path: string } };
    bump(requests, requestClass(request.method, request.path));
  });
  // New TCP+TLS connections to the API server.
  subscribe('undici:client:connected', () => bump(requests, 'connections (new TLS)'));
  // node:http(s) requests too (the access-log reader uses them), should any be made.
  subscribe('http.client.request.start', (msg) => {
    const { request } = msg as { request: { method: string; path: string } };
    bump(requests, `node:https ${requestClass(request.method, request.path)}`);
  });
}

export function diff(after: Counts, before: Counts): Counts {
  const out: Counts = {};
  for (const [k, v] of Object.entries(after)) if (v - (before[k] ?? 0) !== 0) out[k] = v - (before[k] ?? 0);
  return out;
}

// ---- RSS sampling -------------------------------------------------------------------------------

interface Sample {
  t: number;
  rss: number;
  heapUsed: number;
}

const samples: Sample[] = [];

function sampleMemory(): void {
  const take = (): void => {
    const m = process.memoryUsage();
    samples.push({ t: performance.now(), rss: m.rss, heapUsed: m.heapUsed });
  };
  take();
  setInterval(take, 500).unref();
}

function medianOf(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor((s.length - 1) / 2)] as number);
}

const between = (from: number, to: number): Sample[] => samples.filter((s) => s.t >= from && s.t <= to);

// ---- the operator ---------------------------------------------------------------------------------

async function operatorWrites(op: Operator): Promise<Counts> {
  const out: Counts = {};
  for (const v of (await op.metrics.apiWrites.get()).values) {
    const dry = v.labels['dry_run'] === 'true' ? 'dry-run ' : '';
    bump(out, `${dry}${String(v.labels['verb'])} ${String(v.labels['kind'])}`, v.value);
  }
  return out;
}

async function within<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>(
    (_, reject) => (timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms)),
  );
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

async function waitUntil(what: string, ms: number, check: () => boolean, pollMs = 5): Promise<void> {
  const deadline = performance.now() + ms;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(pollMs);
  }
}

const cpuSeconds = (since: NodeJS.CpuUsage): number => {
  const d = process.cpuUsage(since);
  return (d.user + d.system) / 1e6;
};

async function startOperator(cfg: ChildConfig): Promise<Operator> {
  const { Operator } = (await import(
    new URL('../dist/controller/operator.js', import.meta.url).href
  )) as OperatorModule;
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromFile(cfg.kubeconfig);
  const level = process.env['MESHMEDIC_BENCH_LOG'] ?? 'warn';
  return new Operator({ kubeConfig, log: pino({ level }, process.stderr), namespace: cfg.leaseNamespace });
}

async function initialSync(op: Operator, cfg: ChildConfig): Promise<Omit<SteadyReport, 'type' | 'node' | 'steady'>> {
  const startRssMb = process.memoryUsage().rss / MB;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  op.start();
  await waitUntil('leading with synced caches', cfg.timeoutMs, () => op.isLeader && op.ready);
  const readyMs = performance.now() - t0;
  log(`caches synced in ${readyMs.toFixed(0)} ms (${op.index.size} objects indexed); reconciling…`);
  await within('first drain of the queue', cfg.timeoutMs, op.idle());
  const idleMs = performance.now() - t0;
  return {
    startRssMb,
    readyMs,
    idleMs,
    syncCpuSeconds: cpuSeconds(cpu0),
    syncRequests: { ...requests },
    initialWrites: await operatorWrites(op),
    indexSize: op.index.size,
  };
}

/** RSS window, then one full resync, then quiet until the steady window is over. */
async function steadyState(op: Operator, cfg: ChildConfig): Promise<SteadyReport['steady']> {
  const [w0, cpu0, writes0, req0] = [performance.now(), process.cpuUsage(), await operatorWrites(op), { ...requests }];
  await sleep(cfg.rssSeconds * 1000);
  const rssWindow = between(w0, performance.now());
  const [r0, cpuR0] = [performance.now(), process.cpuUsage()];
  op.resyncAll();
  await within('resync drain', cfg.timeoutMs, op.idle());
  const [r1, resyncCpuSeconds] = [performance.now(), cpuSeconds(cpuR0)];
  await sleep(Math.max(0, w0 + cfg.steadySeconds * 1000 - performance.now()));
  const [w1, cpuTotal] = [performance.now(), cpuSeconds(cpu0)];
  return {
    wallMs: w1 - w0,
    rssMedianMb: medianOf(rssWindow.map((s) => s.rss)) / MB,
    heapUsedMedianMb: medianOf(rssWindow.map((s) => s.heapUsed)) / MB,
    cpuSecondsTotal: cpuTotal,
    cpuSecondsQuiet: cpuTotal - resyncCpuSeconds,
    quietWallMs: w1 - w0 - (r1 - r0),
    resyncMs: r1 - r0,
    resyncCpuSeconds,
    writes: diff(await operatorWrites(op), writes0),
    requests: diff(requests, req0),
  };
}

// ---- the parent's probes --------------------------------------------------------------------------

let mark: { writes: Counts; requests: Counts } = { writes: {}, requests: {} };

/** After the parent changed one object: waits for its event, then for the queue (twice, 1 s apart). */
async function settle(op: Operator, cfg: ChildConfig, key: string, resourceVersion: string): Promise<ProbeReport> {
  const t0 = performance.now();
  await waitUntil(
    `the event of ${key}@${resourceVersion}`,
    cfg.timeoutMs,
    () => op.index.get(key)?.object.metadata.resourceVersion === resourceVersion,
    2,
  );
  await within('probe drain', cfg.timeoutMs, op.idle());
  const ms = performance.now() - t0;
  await sleep(1000);
  await within('probe drain', cfg.timeoutMs, op.idle());
  return {
    type: 'probed',
    ms,
    writes: diff(await operatorWrites(op), mark.writes),
    requests: diff(requests, mark.requests),
  };
}

function send(msg: ChildMessage): Promise<void> {
  return new Promise((resolve, reject) => {
    if (!process.send) reject(new Error('no IPC channel: run by bench/operator-scale.ts'));
    else process.send(msg, undefined, {}, (err) => (err ? reject(err) : resolve()));
  });
}

async function onCommand(op: Operator, cfg: ChildConfig, cmd: ParentCommand): Promise<void> {
  if (cmd.type === 'mark') {
    mark = { writes: await operatorWrites(op), requests: { ...requests } };
    await send({ type: 'marked' });
  } else if (cmd.type === 'settle') {
    await send(await settle(op, cfg, cmd.key, cmd.resourceVersion));
  } else {
    await op.stop();
    const peak = Math.max(...samples.map((s) => s.rss), process.memoryUsage().rss);
    await send({ type: 'done', peakRssSampledMb: peak / MB, maxRssMb: process.resourceUsage().maxRSS / 1024 });
    process.exit(0);
  }
}

async function main(): Promise<void> {
  const cfg = JSON.parse(process.argv[2] ?? '') as ChildConfig;
  countRequests();
  sampleMemory();
  const op = await startOperator(cfg);
  const sync = await initialSync(op, cfg);
  log(`queue drained ${sync.idleMs.toFixed(0)} ms after start; steady state for ${cfg.steadySeconds} s…`);
  const steady = await steadyState(op, cfg);
  // Commands are handled one at a time, in order.
  let chain = Promise.resolve();
  process.on('message', (cmd: ParentCommand) => {
    chain = chain.then(() => onCommand(op, cfg, cmd)).catch(fail);
  });
  await send({ type: 'steady', node: { version: process.version, execPath: process.execPath }, ...sync, steady });
}

function fail(err: unknown): void {
  const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
  log(message);
  void send({ type: 'error', message }).finally(() => process.exit(1));
}

main().catch(fail);
