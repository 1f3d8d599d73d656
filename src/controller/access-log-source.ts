import { request as httpRequest, type IncomingMessage, type RequestOptions } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { CoreV1Api, type KubeConfig, type V1ContainerStatus, type V1Pod } from '@kubernetes/client-node';
import PQueue from 'p-queue';
import type { Logger } from 'pino';
import {
  DEFAULT_AGGREGATE_LIMITS,
  LogAggregator,
  type AggregateLimits,
  type LogGroup,
  type LogStats,
} from '../evidence/aggregate.js';
import { feedAccessLog } from '../evidence/read-log.js';
import { labelSelectorString, sameSettings, type AccessLogSettings } from './access-log-settings.js';

/**
 * The operator's access-log evidence source (I/O). For every namespace the policies enable it for, it lists
 * the pods (core v1, the policy's podSelector), streams the log of each pod's istio-proxy container through
 * the pods/log API (sinceSeconds, tailLines = maxLinesPerPod) line by line into one bounded LogAggregator per
 * namespace (src/evidence), and hands the groups to the operator; again every intervalSeconds.
 *
 * Memory: no line is kept once aggregated (at most one line per pod being read is in memory, and at most
 * maxLinesPerPod lines of a pod are ever read, even if the server ignored tailLines); what stays is the
 * aggregate (at most 5,000 groups per namespace). Pod logs are read CONCURRENCY at a time, across namespaces.
 *
 * The log is read with a plain HTTP request (the KubeConfig's credentials and TLS settings) rather than the
 * client's Log helper: the helper pipes the response without an error handler on it, so a timeout or an early
 * stop could only abort it by raising an unhandled stream error, and it resolves before the body is read.
 */
export interface PodLogResult {
  pod: string;
  /** Lines read. */
  lines: number;
  /** The pod sent more than maxLinesPerPod lines (the server ignored tailLines): the rest was not read. */
  truncated: boolean;
  error?: string;
}

export interface NamespaceLogs {
  namespace: string;
  settings: AccessLogSettings;
  groups: LogGroup[];
  stats: LogStats;
  pods: PodLogResult[];
  readAt: string;
}

export interface AccessLogSourceOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** A namespace's new aggregate; undefined when its logs are no longer read (no policy enables them). */
  onLogs: (namespace: string, logs: NamespaceLogs | undefined) => void;
  /** Longest a pod's log may take (default 30 s). */
  podTimeoutMs?: number;
  /** Pod logs read at once, all namespaces together (default 4). */
  concurrency?: number;
  limits?: AggregateLimits;
}

interface NamespaceState {
  settings: AccessLogSettings;
  timer: NodeJS.Timeout | undefined;
  reading: Promise<void> | undefined;
  /** The last errors (of the namespace, and per pod): a warning when one appears or changes, not every interval. */
  errors: Map<string, string>;
}

/** A pod whose log is read. */
export interface PodRef {
  name: string;
  node: string;
}

function hasContainer(p: V1Pod, container: string): boolean {
  return [...(p.spec?.containers ?? []), ...(p.spec?.initContainers ?? [])].some((c) => c.name === container);
}

function containerStatus(p: V1Pod, container: string): V1ContainerStatus | undefined {
  return [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])].find(
    (s) => s.name === container,
  );
}

/** Why `container` has never run, when its status says so (waiting, no last state, no restart); else undefined. */
function notStartedReason(status: V1ContainerStatus | undefined, container: string): string | undefined {
  if (
    !status?.state?.waiting ||
    status.lastState?.terminated ||
    status.lastState?.running ||
    (status.restartCount ?? 0) !== 0
  )
    return undefined;
  return `container ${container} has not started (${status.state.waiting.reason ?? 'waiting'})`;
}

/** The node to read a pod's `container` log from, why it is skipped, or undefined when it has no such container. */
function podVerdict(p: V1Pod, container: string): { node: string } | { reason: string } | undefined {
  if (!hasContainer(p, container)) return undefined;
  const node = p.spec?.nodeName;
  if (!node) return { reason: 'not scheduled on a node yet' };
  const reason = notStartedReason(containerStatus(p, container), container);
  return reason === undefined ? { node } : { reason };
}

/**
 * The pods whose `container` log can be read: scheduled (spec.nodeName) and with a container of that name
 * (a regular container, or an init container: Istio's native sidecar mode runs istio-proxy as one), which
 * has run at least once when the pod reports its state. Pure.
 */
export function podsToRead(
  pods: readonly V1Pod[],
  container: string,
): { read: PodRef[]; skipped: { pod: string; reason: string }[] } {
  const read: PodRef[] = [];
  const skipped: { pod: string; reason: string }[] = [];
  for (const p of pods) {
    const verdict = podVerdict(p, container);
    if (verdict === undefined) continue;
    const name = p.metadata?.name ?? '';
    if ('node' in verdict) read.push({ name, node: verdict.node });
    else skipped.push({ pod: name, reason: verdict.reason });
  }
  return { read, skipped };
}

/** The path of a pods/log request (the API server passes sinceSeconds and tailLines on to the kubelet). */
export function podLogPath(
  namespace: string,
  pod: string,
  settings: Pick<AccessLogSettings, 'container' | 'sinceSeconds' | 'maxLinesPerPod'>,
): string {
  const q = new URLSearchParams({
    container: settings.container,
    sinceSeconds: String(settings.sinceSeconds),
    tailLines: String(settings.maxLinesPerPod),
  });
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?${q.toString()}`;
}

function statusMessage(body: string): string {
  try {
    const s = JSON.parse(body) as { message?: string };
    if (s.message) return s.message;
  } catch {
    // not a Status object
  }
  return body.slice(0, 300);
}

export class AccessLogSource {
  private readonly namespaces = new Map<string, NamespaceState>();
  private readonly core: CoreV1Api;
  private readonly pool: PQueue;
  private readonly requests = new Set<{ destroy: (err?: Error) => void }>();
  private stopped = false;

  constructor(private readonly options: AccessLogSourceOptions) {
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.pool = new PQueue({ concurrency: options.concurrency ?? 4 });
  }

  /**
   * Reads the namespaces in `wanted` (at once for a new namespace or new settings, then every intervalSeconds)
   * and stops reading the others (their evidence is dropped: onLogs(namespace, undefined)).
   */
  configure(wanted: ReadonlyMap<string, AccessLogSettings>): void {
    if (this.stopped) return;
    for (const [ns, state] of this.namespaces) {
      if (wanted.has(ns)) continue;
      if (state.timer) clearInterval(state.timer);
      this.namespaces.delete(ns);
      this.options.log.info({ namespace: ns }, 'access logs: no longer read');
      this.options.onLogs(ns, undefined);
    }
    for (const [ns, settings] of wanted) {
      const state = this.namespaces.get(ns);
      if (state && sameSettings(state.settings, settings)) continue;
      if (state?.timer) clearInterval(state.timer);
      const timer = setInterval(() => void this.read(ns), settings.intervalSeconds * 1000);
      timer.unref();
      this.namespaces.set(ns, {
        settings,
        timer,
        reading: state?.reading,
        errors: state?.errors ?? new Map<string, string>(),
      });
      this.options.log.info({ namespace: ns, ...settings }, 'access logs: reading');
      // A read under way may be for the previous settings: read again after it.
      void this.read(ns, true);
    }
  }

  /** Reads now (the given namespaces, default all); resolves when their aggregates have been handed over. */
  async readNow(namespaces?: Iterable<string>): Promise<void> {
    await Promise.all([...(namespaces ?? this.namespaces.keys())].map((ns) => this.read(ns, true)));
  }

  /** Stops reading: no new reads, log requests under way are cut (a pod list under way is waited for, 5 s at most). */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.namespaces.values()) if (s.timer) clearInterval(s.timer);
    for (const r of this.requests) r.destroy(new Error('access-log source stopped'));
    this.pool.clear();
    const reads = Promise.all([...this.namespaces.values()].map((s) => s.reading ?? Promise.resolve()));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([reads, new Promise<void>((r) => (timer = setTimeout(r, 5000)))]);
    clearTimeout(timer);
    this.namespaces.clear();
  }

  /** One read of a namespace at a time; `again` waits for a read under way and starts a fresh one. */
  private async read(ns: string, again = false): Promise<void> {
    const state = this.namespaces.get(ns);
    if (!state || this.stopped) return;
    if (state.reading) {
      await state.reading;
      if (!again) return;
      return this.read(ns, false);
    }
    const settings = state.settings;
    const run = (async () => {
      try {
        const logs = await this.readNamespace(ns, settings);
        // Settings changed or the namespace was dropped meanwhile: this aggregate no longer applies.
        if (logs && !this.stopped && this.namespaces.get(ns)?.settings === settings) this.options.onLogs(ns, logs);
        this.noteError(ns, '', undefined);
      } catch (err) {
        this.noteError(ns, '', (err as Error).message);
      } finally {
        const s = this.namespaces.get(ns);
        if (s) s.reading = undefined;
      }
    })();
    state.reading = run;
    await run;
  }

  /** Logs an error of a namespace (pod '') or pod when it appears or changes (warn) and when it is gone (info). */
  private noteError(ns: string, pod: string, error: string | undefined): void {
    const errors = this.namespaces.get(ns)?.errors;
    if (!errors) return;
    const before = errors.get(pod);
    const where = pod ? { namespace: ns, pod } : { namespace: ns };
    if (error === undefined) {
      if (before === undefined) return;
      errors.delete(pod);
      this.options.log.info(
        where,
        pod ? 'access logs: the pod log can be read again' : 'access logs: the namespace can be read again',
      );
    } else if (error !== before) {
      errors.set(pod, error);
      this.options.log.warn(
        { ...where, err: error },
        pod
          ? 'access logs: cannot read the pod log'
          : 'access logs: reading the namespace failed; the previous evidence stays',
      );
    } else this.options.log.debug({ ...where, err: error }, 'access logs: still failing');
  }

  private async listPods(ns: string, settings: AccessLogSettings): Promise<V1Pod[]> {
    const labelSelector = labelSelectorString(settings.podSelector);
    const pods: V1Pod[] = [];
    let cont: string | undefined;
    do {
      const page = await this.core.listNamespacedPod({
        namespace: ns,
        limit: 500,
        ...(labelSelector ? { labelSelector } : {}),
        ...(cont ? { _continue: cont } : {}),
      });
      pods.push(...page.items);
      cont = page.metadata?._continue || undefined;
    } while (cont);
    return pods;
  }

  /** Undefined when there were pods to read and none could be read (the previous evidence stays). */
  private async readNamespace(ns: string, settings: AccessLogSettings): Promise<NamespaceLogs | undefined> {
    const started = Date.now();
    const { read, skipped } = podsToRead(await this.listPods(ns, settings), settings.container);
    if (this.stopped) return undefined;
    const agg = new LogAggregator(this.options.limits ?? DEFAULT_AGGREGATE_LIMITS);
    const results = await Promise.all(
      read.map((p) =>
        this.pool.add(async (): Promise<PodLogResult> => {
          if (this.stopped) return { pod: p.name, lines: 0, truncated: false, error: 'access-log source stopped' };
          try {
            return { pod: p.name, ...(await this.readPod(ns, p.name, settings, agg)) };
          } catch (err) {
            return { pod: p.name, lines: 0, truncated: false, error: (err as Error).message };
          }
        }),
      ),
    );
    const pods = results.filter((r): r is PodLogResult => r !== undefined);
    const failed = pods.filter((r) => r.error);
    for (const r of pods) this.noteError(ns, r.pod, r.error);
    const errors = this.namespaces.get(ns)?.errors;
    for (const pod of errors?.keys() ?? []) if (pod !== '' && !pods.some((r) => r.pod === pod)) errors?.delete(pod);
    for (const s of skipped) this.options.log.debug({ namespace: ns, ...s }, 'access logs: pod skipped');
    const truncated = pods.filter((r) => r.truncated).map((r) => r.pod);
    if (truncated.length > 0)
      this.options.log.warn(
        { namespace: ns, pods: truncated, maxLinesPerPod: settings.maxLinesPerPod },
        'access logs: the server sent more than tailLines lines; the rest was not read',
      );
    this.options.log.debug(
      {
        namespace: ns,
        pods: pods.length,
        failed: failed.length,
        lines: agg.stats.lines,
        records: agg.stats.parsed,
        groups: agg.groupCount,
        ms: Date.now() - started,
      },
      'access logs read',
    );
    if (pods.length > 0 && failed.length === pods.length) return undefined;
    return { namespace: ns, settings, groups: agg.groups(), stats: agg.stats, pods, readAt: new Date().toISOString() };
  }

  /** Streams one pod's log into the aggregator, at most maxLinesPerPod lines. */
  private async readPod(
    ns: string,
    pod: string,
    settings: AccessLogSettings,
    agg: LogAggregator,
  ): Promise<{ lines: number; truncated: boolean }> {
    const kc = this.options.kubeConfig;
    const cluster = kc.getCurrentCluster();
    if (!cluster) throw new Error('the kubeconfig has no current cluster');
    const url = new URL(cluster.server.replace(/\/$/, '') + podLogPath(ns, pod, settings));
    // pods/log answers text/plain but negotiates like every endpoint: Accept text/plain alone gets a 406.
    const options: RequestOptions = { method: 'GET', headers: { Accept: '*/*' } };
    await kc.applyToHTTPSOptions(options);
    const plain = url.protocol === 'http:';
    if (plain) delete options.agent;
    const timeoutMs = this.options.podTimeoutMs ?? 30_000;
    return new Promise((resolve, reject) => {
      let settled = false;
      const done = (err: Error | undefined, value?: { lines: number; truncated: boolean }): void => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.requests.delete(req);
        if (err) reject(err);
        else resolve(value ?? { lines: 0, truncated: false });
      };
      const onResponse = (res: IncomingMessage): void => {
        res.on('error', (err) => done(err));
        if (res.statusCode !== 200) {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            if (body.length < 4096) body += c;
          });
          res.on('end', () => done(new Error(`HTTP ${res.statusCode}: ${statusMessage(body)}`)));
          return;
        }
        feedAccessLog(res, agg, { maxLines: settings.maxLinesPerPod }).then(
          (r) => {
            if (r.truncated) res.destroy();
            done(undefined, r);
          },
          (err: unknown) => {
            res.destroy();
            done(err as Error);
          },
        );
      };
      const req = plain ? httpRequest(url, options, onResponse) : httpsRequest(url, options, onResponse);
      const deadline = setTimeout(() => req.destroy(new Error(`no complete answer within ${timeoutMs} ms`)), timeoutMs);
      this.requests.add(req);
      req.on('error', (err) => done(err));
      req.end();
    });
  }
}
