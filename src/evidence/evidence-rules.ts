import {
  ACCESS_LOG_WORDS,
  ENVOY_DEFAULT_IDLE,
  MM104_LOG,
  MM105_LOG,
  MM106_LOG,
  MM210_LOG,
} from '../catalogue/access-log.js';
import { fill } from '../catalogue/message-type.js';
import { report, type Report } from '../rules/report.js';
import { pointer } from '../fix/json-pointer.js';
import { formatDurationMs, parseDurationMs } from '../model/durations.js';
import { isClusterLocal, isIpAddress, nameFromHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import { autoMtlsOn } from '../model/mesh-config.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type {
  DestinationRule,
  HttpRoute,
  KubeObject,
  ObjectRef,
  ServicePort,
  TrafficPolicy,
  VirtualService,
} from '../model/types.js';
import { generatedEntry, servicePortFor } from '../rules/mm104-external-host-passthrough.js';
import {
  idleTimeoutBelow,
  idleTimeoutPatch,
  keepAliveVersionNote,
  retryOnResetPatches,
} from '../rules/mm106-inbound-keepalive-race.js';
import { routeDestinations } from '../model/route-destinations.js';
import { subsetSelection } from '../rules/mm210-dr-subset-selects-no-pod.js';
import { noFix } from '../rules/report.js';
import { describeLabels } from '../rules/workload-helpers.js';
import type {
  Finding,
  FindingEvidence,
  IstioVersion,
  PatchOperation,
  ResourcePatch,
  RuleParameters,
} from '../rules/types.js';
import type { LogGroup } from './aggregate.js';
import { splitHostPort } from './cluster-name.js';
import { portOfAddress } from './hosts.js';

/**
 * The access-log forms of MM104, MM105, MM106 and MM210: findings built from what the proxies logged (groups of
 * records about one host), with the same Finding type and fixes as the static rules, plus `evidence`.
 * Pure: no I/O.
 */
export interface EvidenceContext {
  index?: MeshIndex;
  params: RuleParameters;
  istioVersion: IstioVersion;
  /** Namespace of generated objects when neither the manifests nor the log tell (--namespace). */
  namespace: string;
}

/**
 * The application keep-alive assumed by MM106's access-log form when the policy states none
 * (keepAliveIdleTimeout): 5 s, Node.js' http.Server keepAliveTimeout default and on the short side of
 * common servers (Tomcat 20-60 s, nginx 75 s; gunicorn 2 s is shorter: state it in the policy).
 */
export const ASSUMED_APP_KEEPALIVE_MS = 5000;

const API = 'networking.istio.io/v1';

function symptomOf(g: LogGroup): string {
  return `${g.responseCode} ${g.responseFlags}`;
}

function timeKey(t: string | undefined): number {
  const ms = t === undefined ? NaN : Date.parse(t);
  return Number.isNaN(ms) ? NaN : ms;
}

/** The evidence of a finding: the groups merged (percentiles are those of the largest group with durations). */
export function evidenceOf(groups: readonly LogGroup[]): FindingEvidence {
  const sorted = [...groups].sort((a, b) => b.count - a.count);
  const first = sorted[0];
  let firstSeen: string | undefined;
  let lastSeen: string | undefined;
  for (const g of groups) {
    if (g.firstSeen !== undefined && (firstSeen === undefined || timeKey(g.firstSeen) < timeKey(firstSeen)))
      firstSeen = g.firstSeen;
    if (g.lastSeen !== undefined && (lastSeen === undefined || timeKey(g.lastSeen) > timeKey(lastSeen)))
      lastSeen = g.lastSeen;
  }
  const withDurations = sorted.find((g) => g.durationMs);
  const d = withDurations?.durationMs;
  const authorities = [...new Set(groups.flatMap((g) => g.authorities))].slice(0, 8);
  return {
    source: 'access-log',
    count: groups.reduce((n, g) => n + g.count, 0),
    symptoms: [...new Set(sorted.map(symptomOf))],
    ...(firstSeen !== undefined ? { firstSeen } : {}),
    ...(lastSeen !== undefined ? { lastSeen } : {}),
    sampleLine: first?.sampleLine ?? '',
    targets: [...new Set(sorted.map((g) => g.target))],
    ...(authorities.length > 0 ? { authorities } : {}),
    ...(d ? { durationMs: { min: d.min, p50: d.p50, p90: d.p90, p99: d.p99, max: d.max } } : {}),
  };
}

function requests(n: number): string {
  return `${n} request${n === 1 ? '' : 's'}`;
}

function were(n: number): string {
  return n === 1 ? 'was' : 'were';
}

/** The port and protocol a group of passthrough records used: HTTP for HTTP requests, TLS with an SNI or on 443, else TCP. */
function observedPort(g: LogGroup): ServicePort | undefined {
  const authorityPort = g.authorities[0] ? splitHostPort(g.authorities[0]).port : undefined;
  const port =
    portOfAddress(g.upstreamHosts[0]) ??
    authorityPort ??
    portOfAddress(g.downstreamLocalAddresses[0]) ??
    (g.protocols.length > 0 ? 80 : undefined);
  if (port === undefined) return undefined;
  const protocol = g.protocols.length > 0 ? 'HTTP' : g.requestedServerNames.length > 0 || port === 443 ? 'TLS' : 'TCP';
  return servicePortFor(port, protocol);
}

function vsRoutingTo(index: MeshIndex | undefined, host: string): VirtualService[] {
  if (!index) return [];
  const byKey = new Map<string, VirtualService>();
  for (const vs of index.virtualServicesRoutingTo(host)) byKey.set(`${vs.metadata.namespace}/${vs.metadata.name}`, vs);
  return [...byKey.values()];
}

/** Some ServiceEntry in the manifests declares the host (which namespaces see it is not known from a log). */
function declared(index: MeshIndex | undefined, host: string): boolean {
  return (index?.entriesForHost(host).length ?? 0) > 0;
}

function createRef(o: KubeObject): ObjectRef {
  return refOf(o);
}

/**
 * MM104 from the logs: traffic to an external host left through PassthroughCluster and failed (503 UF/UC):
 * a MESH_EXTERNAL ServiceEntry with the observed ports and protocols, resolution DNS. Undefined when the
 * host is an IP address or an entry already declares it (the diagnosis says why, in words).
 */
export function passthroughEntryFinding(
  host: string,
  groups: readonly LogGroup[],
  ctx: EvidenceContext,
): Finding | undefined {
  if (host === '' || isIpAddress(host) || isClusterLocal(host, ctx.index?.domain) || declared(ctx.index, host))
    return undefined;
  const ports = observedPorts(groups);
  const routes = vsRoutingTo(ctx.index, host);
  const namespace = routes[0]?.metadata.namespace ?? ctx.namespace;
  const se = generatedEntry(
    host,
    namespace,
    [...ports].sort((a, b) => a.number - b.number),
  );
  const evidence = evidenceOf(groups);
  const upstream = [...new Set(groups.flatMap((g) => g.upstreamHosts))].slice(0, 3);
  const portText = ports.map((p) => `${p.number}/${p.protocol}`).join(', ');
  const args = {
    requests: requests(evidence.count),
    host,
    upstream: upstream.length ? ` (upstream ${upstream.join(', ')})` : '',
    ports: portText,
  };
  return {
    ...report(MM104_LOG.PassthroughStaleConnections, args, {
      resource: createRef(se),
      related: routes.map(refOf),
      fix: { patches: [], create: [se] },
    }),
    evidence,
  };
}

function matches(durationMs: number, timeoutMs: number | undefined): boolean {
  if (timeoutMs === undefined || timeoutMs <= 0) return false;
  return durationMs >= timeoutMs - 50 && durationMs <= timeoutMs + Math.max(1000, timeoutMs * 0.1);
}

function roundTimeoutText(durationMs: number): string {
  const s = Math.round(durationMs / 1000);
  return Math.abs(durationMs - s * 1000) <= 100 && s > 0 ? `${s} s` : `${durationMs} ms`;
}

export interface TimeoutFindingResult {
  finding?: Finding;
  /** What the diagnosis says when no finding could be built. */
  words?: string;
}

/** The timeouts of a VirtualService's routes to `host` that the durations match. */
interface RouteTimeouts {
  patch?: ResourcePatch;
  /** `VirtualService ns/name http[0] timeout 10s`, below the target: raised. */
  matched: string[];
  /** Matching settings already at least the target: left alone. */
  alreadyLong: string[];
}

/** What the route timeouts are judged against: the logged duration, and the timeout to raise them to. */
interface TimeoutGoal {
  durationMs: number;
  target: number;
  targetText: string;
}

/** The indexes of the VirtualService's http routes that send to `host`, first seen first. */
function httpRouteIndexes(vs: VirtualService, host: string, ctx: EvidenceContext): number[] {
  return [
    ...new Set(
      routeDestinations(vs, ctx.index?.domain ?? 'cluster.local')
        .filter((r) => r.kind === 'http' && r.host === host)
        .map((r) => r.routeIndex),
    ),
  ];
}

function durationOf(value: string | undefined): number | undefined {
  return value !== undefined ? parseDurationMs(value) : undefined;
}

/** The ops raise perTryTimeout but not a route timeout below the target, which would still cut the tries. */
function cutByRouteTimeout(
  routeOps: readonly PatchOperation[],
  routeTimeoutMs: number | undefined,
  target: number,
): boolean {
  return (
    routeOps.some((o) => o.path.endsWith('perTryTimeout')) &&
    routeTimeoutMs !== undefined &&
    routeTimeoutMs > 0 &&
    routeTimeoutMs < target &&
    !routeOps.some((o) => o.path.endsWith('/timeout'))
  );
}

/** The ops that raise http[i]'s timeouts the durations match, recorded in `out` as matched or already long. */
function routeTimeoutOps(
  route: HttpRoute,
  i: number,
  name: string,
  goal: TimeoutGoal,
  out: RouteTimeouts,
): PatchOperation[] {
  const { durationMs, target, targetText } = goal;
  const t = durationOf(route.timeout);
  const perTry = route.retries?.perTryTimeout;
  const routeOps: PatchOperation[] = [];
  for (const [field, value, ms, path] of [
    ['timeout', route.timeout, t, pointer('spec', 'http', i, 'timeout')],
    ['retries.perTryTimeout', perTry, durationOf(perTry), pointer('spec', 'http', i, 'retries', 'perTryTimeout')],
  ] as const) {
    if (value === undefined || !matches(durationMs, ms)) continue;
    if ((ms ?? 0) >= target) {
      out.alreadyLong.push(`${name} ${field} ${value}`);
      continue;
    }
    out.matched.push(`${name} ${field} ${value}`);
    routeOps.push({ op: 'test', path, value }, { op: 'replace', path, value: targetText });
  }
  // A perTryTimeout raised above the route timeout is cut by the route timeout: raise that too.
  if (cutByRouteTimeout(routeOps, t, target)) {
    const path = pointer('spec', 'http', i, 'timeout');
    routeOps.push({ op: 'test', path, value: route.timeout as string }, { op: 'replace', path, value: targetText });
  }
  return routeOps;
}

function routeTimeouts(
  vs: VirtualService,
  host: string,
  durationMs: number,
  target: number,
  ctx: EvidenceContext,
): RouteTimeouts {
  const goal: TimeoutGoal = { durationMs, target, targetText: formatDurationMs(target) };
  const out: RouteTimeouts = { matched: [], alreadyLong: [] };
  const ops: PatchOperation[] = [];
  for (const i of httpRouteIndexes(vs, host, ctx)) {
    const route = vs.spec?.http?.[i];
    if (!route) continue;
    const name = `${describeRef(refOf(vs))} ${route.name ? `route ${route.name}` : `http[${i}]`}`;
    ops.push(...routeTimeoutOps(route, i, name, goal, out));
  }
  return ops.length > 0 ? { ...out, patch: { target: refOf(vs), patch: ops } } : out;
}

/** The ports the groups used, first seen first; port 80/HTTP when none is known. */
function observedPorts(groups: readonly LogGroup[]): ServicePort[] {
  const ports = new Map<number, ServicePort>();
  for (const g of groups) {
    const p = observedPort(g);
    if (p && !ports.has(p.number)) ports.set(p.number, p);
  }
  if (ports.size === 0) ports.set(80, servicePortFor(80, 'HTTP'));
  return [...ports.values()];
}

function generatedVirtualService(host: string, namespace: string, timeout: string): VirtualService {
  return {
    apiVersion: API,
    kind: 'VirtualService',
    metadata: {
      name: nameFromHost(host),
      namespace,
      annotations: { 'meshmedic.io/generated-by': MM105_LOG.TimeoutWithoutRoute.rule },
    },
    spec: { hosts: [host], http: [{ timeout, route: [{ destination: { host } }] }] },
  };
}

type HeadArgs = { requests: string; host: string; were: string; p50: number; rounded: string };

/** An external host no VirtualService routes to: one with the policy's timeout (and the ServiceEntry it needs). */
function withoutRouteFinding(
  host: string,
  groups: readonly LogGroup[],
  ctx: EvidenceContext,
  entryComesWith: boolean,
  head: HeadArgs,
  evidence: FindingEvidence,
): Finding {
  const targetText = formatDurationMs(ctx.params.defaultRouteTimeoutMs);
  const vs = generatedVirtualService(host, ctx.namespace, targetText);
  const needsEntry = !entryComesWith && !declared(ctx.index, host);
  const entry = generatedEntry(host, ctx.namespace, observedPorts(groups));
  entry.metadata.annotations = { 'meshmedic.io/generated-by': MM105_LOG.TimeoutWithoutRoute.rule };
  const passthrough = groups.some((g) => g.cluster?.kind === 'passthrough');
  const args = {
    ...head,
    passthrough: passthrough ? ' through PassthroughCluster' : '',
    target: targetText,
    withEntry: needsEntry ? ' and the MESH_EXTERNAL ServiceEntry it needs (resolution DNS)' : '',
  };
  const fix = {
    patches: [],
    create: needsEntry ? [entry, vs] : [vs],
    ...(entryComesWith ? { notes: [`the ServiceEntry for ${host} comes with the MM104 finding`] } : {}),
  };
  return { ...report(MM105_LOG.TimeoutWithoutRoute, args, { resource: refOf(vs), fix }), evidence };
}

/**
 * MM105 from the logs: 504 UT whose duration matches a timeout. Patches the matching route timeout (or
 * perTryTimeout) of the VirtualServices for the host up to the policy's defaultRouteTimeout; for an external
 * host without any VirtualService, generates one (and the ServiceEntry it needs, unless `entryComesWith`).
 */
export function timeoutFinding(
  host: string,
  groups: readonly LogGroup[],
  ctx: EvidenceContext,
  entryComesWith: boolean,
): TimeoutFindingResult {
  const evidence = evidenceOf(groups);
  const d = evidence.durationMs?.p50;
  if (d === undefined) return { words: fill(ACCESS_LOG_WORDS.noDurations, {}) };
  const target = ctx.params.defaultRouteTimeoutMs;
  const targetText = formatDurationMs(target);
  const head: HeadArgs = {
    requests: requests(evidence.count),
    host,
    were: were(evidence.count),
    p50: d,
    rounded: roundTimeoutText(d),
  };
  const routes = vsRoutingTo(ctx.index, host);
  const timeouts = routes.map((vs) => routeTimeouts(vs, host, d, target, ctx));
  const patches = timeouts.flatMap((t) => (t.patch ? [t.patch] : []));
  const first = patches[0];
  if (first) {
    const matched = timeouts.flatMap((t) => t.matched).join(' and ');
    const finding = report(
      MM105_LOG.RouteTimeoutCut,
      { ...head, matched, target: targetText },
      { resource: first.target, related: patches.slice(1).map((p) => p.target), fix: { patches, create: [] } },
    );
    return { finding: { ...finding, evidence } };
  }
  const alreadyLong = timeouts.flatMap((t) => t.alreadyLong);
  if (alreadyLong.length > 0)
    return {
      words: fill(ACCESS_LOG_WORDS.timeoutAlreadyLong, {
        ...head,
        settings: alreadyLong.join(', '),
        target: targetText,
      }),
    };
  if (routes.length > 0)
    return {
      words: fill(ACCESS_LOG_WORDS.noMatchingRouteTimeout, {
        ...head,
        routes: routes.map((v) => describeRef(refOf(v))).join(', '),
      }),
    };
  if (isIpAddress(host) || host === '' || !host.includes('.') || isClusterLocal(host, ctx.index?.domain)) {
    return { words: fill(ACCESS_LOG_WORDS.noVirtualService, { ...head, subject: host || 'this host' }) };
  }
  return { finding: withoutRouteFinding(host, groups, ctx, entryComesWith, head, evidence) };
}

function copyPolicy(tp: TrafficPolicy | undefined): TrafficPolicy {
  return tp ? (JSON.parse(JSON.stringify(tp)) as TrafficPolicy) : {};
}

type KeepAliveArgs = {
  targets: string;
  requests: string;
  assumed: string;
  keepAlive: string;
  target: string;
  retry: string;
};

/** A DestinationRule for the host alone, copying the policy of a broader one that applies (rules of different levels do not merge). */
function createdKeepAliveRule(
  host: string,
  svc: string,
  ns: string,
  target: string,
  dr: DestinationRule | undefined,
  ctx: EvidenceContext,
  notes: string[],
): DestinationRule {
  const trafficPolicy = copyPolicy(dr?.spec?.trafficPolicy);
  delete trafficPolicy.portLevelSettings;
  trafficPolicy.connectionPool = {
    ...trafficPolicy.connectionPool,
    http: { ...trafficPolicy.connectionPool?.http, idleTimeout: target },
  };
  if (!dr && ctx.index && !autoMtlsOn(ctx.index.meshConfig, ctx.istioVersion)) {
    trafficPolicy.tls = { mode: 'ISTIO_MUTUAL' };
    notes.push(
      'auto mTLS is off in this mesh: the generated DestinationRule sets tls ISTIO_MUTUAL so it does not turn mTLS off (MM101)',
    );
  }
  if (dr) {
    notes.push(
      `the new DestinationRule copies the trafficPolicy of ${describeRef(refOf(dr))} (host ${dr.spec?.host}): DestinationRules of different levels do not merge`,
    );
    if (dr.spec?.trafficPolicy?.portLevelSettings)
      notes.push(`portLevelSettings of ${describeRef(refOf(dr))} were not copied: review them`);
  }
  return {
    apiVersion: API,
    kind: 'DestinationRule',
    metadata: {
      name: `${nameFromHost(svc)}-keepalive`,
      namespace: ns,
      annotations: { 'meshmedic.io/generated-by': MM106_LOG.KeepAliveRace.rule },
    },
    spec: { host, trafficPolicy },
  };
}

/** connectionPool.http.idleTimeout of a DestinationRule, as written. */
function idleTimeoutOf(dr: DestinationRule | undefined): string | undefined {
  return dr?.spec?.trafficPolicy?.connectionPool?.http?.idleTimeout;
}

/** The notes every MM106 access-log fix carries: the keep-alive assumed, and the servers that race the same way. */
function keepAliveNotes(assumed: boolean, keepAlive: number): string[] {
  const notes: string[] = [];
  if (assumed)
    notes.push(
      `the applications' keep-alive is assumed to be ${formatDurationMs(keepAlive)} (no keepAliveIdleTimeout in the policy); state the real value in the MeshHealthPolicy (MM106 parameters.keepAliveIdleTimeout)`,
    );
  notes.push(
    'servers that close a connection after N requests (Tomcat maxKeepAliveRequests) race the same way: let them keep connections (maxKeepAliveRequests -1) and time out idle ones only',
  );
  return notes;
}

/** The words when the host's own DestinationRule already sets an idle timeout below the app's keep-alive. */
function idleTimeoutAlreadyBelow(
  ownRule: DestinationRule | undefined,
  keepAlive: number,
  assumedText: string,
): string | undefined {
  if (!ownRule) return undefined;
  const current = idleTimeoutOf(ownRule);
  const currentMs = current !== undefined ? parseDurationMs(current) : 3_600_000;
  if (currentMs !== undefined && currentMs < keepAlive)
    return fill(ACCESS_LOG_WORDS.idleTimeoutAlreadyBelow, {
      dr: describeRef(refOf(ownRule)),
      current: current ?? ENVOY_DEFAULT_IDLE,
      assumed: assumedText,
      keepAlive: formatDurationMs(keepAlive),
    });
  return undefined;
}

/** One MM106 access-log case: the inbound Service host, the idle timeout to set, and what every fix carries. */
interface KeepAliveCase {
  host: string;
  svc: string;
  ns: string;
  /** The idle timeout to set, formatted. */
  target: string;
  args: KeepAliveArgs;
  retries: ResourcePatch[];
  notes: string[];
  ctx: EvidenceContext;
}

function keepAliveReport(
  c: KeepAliveCase,
  resource: ObjectRef,
  patches: ResourcePatch[],
  create: KubeObject[],
): Report {
  const noRoute = `no VirtualService routes to ${c.host} in the manifests given: add retries {attempts: 2, retryOn: reset,connect-failure,refused-stream,unavailable,cancelled} to the routes that do`;
  return {
    resource,
    related: c.retries.map((p) => p.target),
    versionNote: keepAliveVersionNote(c.ctx.istioVersion),
    fix: {
      patches: [...patches, ...c.retries],
      create,
      proposeOnly: true,
      notes: c.retries.length === 0 ? [...c.notes, noRoute] : c.notes,
    },
  };
}

/** The host's own DestinationRule: patch its idle timeout. */
function ownRuleFinding(c: KeepAliveCase, ownRule: DestinationRule): Finding {
  return report(
    MM106_LOG.KeepAliveRace,
    { ...c.args, dr: describeRef(refOf(ownRule)), current: idleTimeoutOf(ownRule) ?? ENVOY_DEFAULT_IDLE },
    keepAliveReport(c, refOf(ownRule), [{ target: refOf(ownRule), patch: idleTimeoutPatch(ownRule, c.target) }], []),
  );
}

/** No DestinationRule for the host alone: create one (copying a broader one's policy, `dr`, if one applies). */
function createdRuleFinding(c: KeepAliveCase, dr: DestinationRule | undefined): Finding {
  const created = createdKeepAliveRule(c.host, c.svc, c.ns, c.target, dr, c.ctx, c.notes);
  if (!dr)
    return report(
      MM106_LOG.KeepAliveRaceNoRule,
      { ...c.args, host: c.host },
      keepAliveReport(c, refOf(created), [], [created]),
    );
  return report(
    MM106_LOG.KeepAliveRaceBroaderRule,
    {
      ...c.args,
      dr: describeRef(refOf(dr)),
      drHost: dr.spec?.host ?? '',
      current: idleTimeoutOf(dr) ?? ENVOY_DEFAULT_IDLE,
    },
    keepAliveReport(c, refOf(created), [], [created]),
  );
}

/**
 * MM106 from the logs: 503 UC on the inbound cluster of `host` (name.namespace.svc.domain): the app closed a
 * keep-alive connection Envoy reused. connectionPool.http.idleTimeout below the app's keep-alive (the policy's
 * keepAliveIdleTimeout, else ASSUMED_APP_KEEPALIVE_MS) in the DestinationRule that applies, created when none
 * does, and a retry on reset on the routes to the host. Propose only.
 */
export function keepAliveFinding(
  host: string,
  groups: readonly LogGroup[],
  ctx: EvidenceContext,
): TimeoutFindingResult {
  const m = /^([^.]+)\.([^.]+)\.svc\./.exec(host);
  if (!m) return { words: fill(ACCESS_LOG_WORDS.inboundNotAService, { host: host || 'no host' }) };
  const [, svc, ns] = m as unknown as [string, string, string];
  const assumed = ctx.params.keepAliveIdleTimeoutMs === undefined;
  const keepAlive = ctx.params.keepAliveIdleTimeoutMs ?? ASSUMED_APP_KEEPALIVE_MS;
  const target = formatDurationMs(idleTimeoutBelow(keepAlive));
  const evidence = evidenceOf(groups);
  const notes = keepAliveNotes(assumed, keepAlive);
  const dr = ctx.index?.destinationRulesFor(host, ns, ns)[0];
  const ownRule = dr && ctx.index?.drHost(dr) === host ? dr : undefined;
  const assumedText = assumed ? 'assumed ' : '';
  const below = idleTimeoutAlreadyBelow(ownRule, keepAlive, assumedText);
  if (below !== undefined) return { words: below };
  const retries = ctx.index ? retryOnResetPatches(ctx.index, host, undefined) : [];
  const args: KeepAliveArgs = {
    targets: evidence.targets.join(', '),
    requests: requests(evidence.count),
    assumed: assumedText,
    keepAlive: formatDurationMs(keepAlive),
    target,
    retry: retries.length ? ' and a retry on reset' : '',
  };
  const c: KeepAliveCase = { host, svc, ns, target, args, retries, notes, ctx };
  const finding = ownRule ? ownRuleFinding(c, ownRule) : createdRuleFinding(c, dr);
  return { finding: { ...finding, evidence } };
}

/** What MM210's access-log form makes of the groups of one subset cluster: a finding, or why none. */
export interface SubsetFindingResult {
  finding?: Finding;
  words?: string;
  /** Set when the words clear the subset: the rule to suspect instead. */
  suspect?: string;
}

/**
 * MM210 from the logs: 503 UH on `outbound|port|subset|host` where the DestinationRule's subset selects none
 * of the Service's pods in the manifests (as the rule judges it). When the subset selects pods, or the input
 * cannot tell, the subset is not blamed: the words say so.
 */
export function subsetFinding(
  host: string,
  subset: string,
  groups: readonly LogGroup[],
  ctx: EvidenceContext,
): SubsetFindingResult {
  const index = ctx.index;
  if (!index || host === '' || subset === '') return {};
  const drs = index.destinationRulesForExactHost(host).filter((dr) => dr.spec?.subsets?.some((s) => s.name === subset));
  if (drs.length === 0)
    return {
      words: fill(ACCESS_LOG_WORDS.subsetUnknown, { subset, host, why: 'no DestinationRule in it defines the subset' }),
    };
  const verdicts = drs.map((dr) => ({ dr, v: subsetSelection(dr, subset, index) }));
  const none = verdicts.flatMap((x) => (x.v.selects === 'none' ? [{ dr: x.dr, v: x.v }] : []));
  const first = none[0];
  if (!first) {
    const some = verdicts.find((x) => x.v.selects === 'some');
    if (some?.v.selects === 'some')
      return {
        suspect: 'MM107',
        words: fill(ACCESS_LOG_WORDS.subsetSelectsPods, {
          dr: describeRef(refOf(some.dr)),
          subset,
          labels: describeLabels(some.v.subset.labels),
          workloads: some.v.workloads,
        }),
      };
    const why = verdicts.find((x) => x.v.selects === 'unknown');
    return {
      words: fill(ACCESS_LOG_WORDS.subsetUnknown, {
        subset,
        host,
        why: why?.v.selects === 'unknown' ? why.v.why : 'unknown',
      }),
    };
  }
  if (none.length < verdicts.length)
    return {
      words: fill(ACCESS_LOG_WORDS.subsetRulesDisagree, {
        subset,
        host,
        drs: verdicts.map((x) => describeRef(refOf(x.dr))).join(', '),
      }),
    };
  const evidence = evidenceOf(groups);
  const routes = vsRoutingTo(index, host).filter((vs) =>
    routeDestinations(vs, index.domain).some((d) => d.host === host && d.destination.subset === subset),
  );
  const finding = report(
    first.v.endpoints ? MM210_LOG.SubsetSelectsNoEndpointLogged : MM210_LOG.SubsetSelectsNoPodLogged,
    {
      requests: requests(evidence.count),
      cluster: evidence.targets.join(', '),
      dr: describeRef(refOf(first.dr)),
      subset,
      labels: describeLabels(first.v.subset.labels),
      service: describeRef(refOf(first.v.service)),
      workloads: first.v.workloads,
    },
    {
      resource: refOf(first.dr),
      related: [...none.slice(1).map((x) => refOf(x.dr)), refOf(first.v.service), ...routes.map(refOf)],
      fix: noFix(
        first.v.endpoints
          ? "no automatic fix: either the subset labels or the endpoint labels are wrong; fix the subset labels, or label the entry's endpoints"
          : 'no automatic fix: either the subset labels or the pod labels are wrong; fix the subset labels, or label the pods that should serve it',
      ),
    },
  );
  return { finding: { ...finding, evidence } };
}
