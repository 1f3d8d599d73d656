import { fill, type MessageType } from '../catalogue/message-type.js';
import { MM102, MM102_WHERE } from '../catalogue/rules/mm102.js';
import { report, type Report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { isWildcard, nameFromHost, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type {
  ClientTlsSettings,
  DestinationRule,
  GatewayRoute,
  KubeObject,
  ServiceEntry,
  TrafficPolicy,
  VirtualService,
} from '../model/types.js';
import { entryPort, externalEntryFor, isTlsProtocol } from './external-tls.js';
import { outboundCluster, type ClaimProxy } from './claims.js';
import { backendsOf, firstIngress, isHostnameBackend, isRoute, programmedByIstio } from './gateway-api.js';
import { routeProxy } from './route-call.js';
import { effectiveTls } from './tls-levels.js';
import { atLeast, type Finding, type PatchOperation, type Rule, type RuleContext } from './types.js';

type Problem =
  | { type: typeof MM102.messages.NoDestinationRule }
  | { type: typeof MM102.messages.NoClientTls | typeof MM102.messages.IstioMtlsToExternal; dr: string }
  | { type: typeof MM102.messages.WrongSni; dr: string; sni: string }
  | {
      type: typeof MM102.messages.SniFromOriginalHost | typeof MM102.messages.NoSniUnderOtherHost;
      dr: string;
      otherHosts: string;
      originalHost: string;
    };

function judge(
  tls: ClientTlsSettings | undefined,
  dr: DestinationRule | undefined,
  host: string,
  otherHosts: string[],
  ctx: RuleContext,
): Problem | undefined {
  if (!dr) return { type: MM102.messages.NoDestinationRule };
  const name = describeRef(refOf(dr));
  const mode = tls?.mode;
  if (!mode || mode === 'DISABLE') return { type: MM102.messages.NoClientTls, dr: name };
  if (mode === 'ISTIO_MUTUAL') return { type: MM102.messages.IstioMtlsToExternal, dr: name };
  if (tls.sni !== undefined && tls.sni !== host) return { type: MM102.messages.WrongSni, dr: name, sni: tls.sni };
  if (tls.sni === undefined && otherHosts.length > 0) {
    const type = atLeast(ctx.istioVersion, 1, 21)
      ? MM102.messages.SniFromOriginalHost
      : MM102.messages.NoSniUnderOtherHost;
    return { type, dr: name, otherHosts: otherHosts.join(', '), originalHost: otherHosts[0] ?? '' };
  }
  return undefined;
}

/** The finding's prose: the problem's message type, filled with where the route goes. */
function problemFinding(problem: Problem, where: string, host: string, r: Report): Finding {
  // The problem carries exactly its type's other arguments (the union above keeps them paired).
  const { type, ...rest } = problem;
  const generic: MessageType = type;
  return report(generic, { where, host, ...rest }, r);
}

function tlsSettingsFor(host: string, existing?: ClientTlsSettings): ClientTlsSettings {
  const mode = existing?.mode === 'MUTUAL' ? 'MUTUAL' : 'SIMPLE';
  return {
    ...(existing && existing.mode !== 'ISTIO_MUTUAL' && existing.mode !== 'DISABLE' ? existing : {}),
    mode,
    sni: host,
    subjectAltNames: existing?.subjectAltNames ?? [host],
  };
}

function createRule(se: ServiceEntry, host: string, port: number): DestinationRule {
  const multiPort = (se.spec?.ports ?? []).some((p) => p.number !== port && !isTlsProtocol(p.protocol));
  const tls = tlsSettingsFor(host);
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: {
      name: `${nameFromHost(host)}-tls`,
      namespace: se.metadata.namespace ?? 'default',
      annotations: { 'meshmedic.io/generated-by': MM102.id },
    },
    spec: { host, trafficPolicy: multiPort ? { portLevelSettings: [{ port: { number: port }, tls }] } : { tls } },
  };
}

/**
 * The fix for a route to a subset: TLS goes on that subset only (its own trafficPolicy, port-level when the
 * entry has other plain ports), so that other subsets — a tls-passthrough one, say — keep what they send.
 */
function patchSubset(dr: DestinationRule, j: number, host: string, port: number, se: ServiceEntry): PatchOperation[] {
  const stp = dr.spec?.subsets?.[j]?.trafficPolicy;
  const base = ['spec', 'subsets', j, 'trafficPolicy'];
  const otherPlainPorts = (se.spec?.ports ?? []).some((p) => p.number !== port && !isTlsProtocol(p.protocol));
  const plsIndex = (stp?.portLevelSettings ?? []).findIndex((p) => p.port?.number === port);
  if (plsIndex >= 0) {
    const current = stp?.portLevelSettings?.[plsIndex]?.tls;
    return [
      {
        op: current ? 'replace' : 'add',
        path: pointer(...base, 'portLevelSettings', plsIndex, 'tls'),
        value: tlsSettingsFor(host, current),
      },
    ];
  }
  if (!stp) {
    const value = otherPlainPorts
      ? { portLevelSettings: [{ port: { number: port }, tls: tlsSettingsFor(host) }] }
      : { tls: tlsSettingsFor(host) };
    return [{ op: 'add', path: pointer(...base), value }];
  }
  if (otherPlainPorts) {
    const entry = { port: { number: port }, tls: tlsSettingsFor(host) };
    return stp.portLevelSettings
      ? [{ op: 'add', path: pointer(...base, 'portLevelSettings', '-'), value: entry }]
      : [{ op: 'add', path: pointer(...base, 'portLevelSettings'), value: [entry] }];
  }
  return [{ op: stp.tls ? 'replace' : 'add', path: pointer(...base, 'tls'), value: tlsSettingsFor(host, stp.tls) }];
}

/**
 * A new port-level entry for the port, when the other ports of the entry are plain text. The entry replaces
 * connectionPool, loadBalancer, outlierDetection and tls as a block: copy the top-level ones so that only tls
 * changes for this port.
 */
function addPortLevelTls(tp: TrafficPolicy | undefined, host: string, port: number): PatchOperation[] {
  const entry: Record<string, unknown> = { port: { number: port } };
  for (const k of ['connectionPool', 'loadBalancer', 'outlierDetection'] as const)
    if (tp?.[k] !== undefined) entry[k] = tp[k];
  entry['tls'] = tlsSettingsFor(host);
  if (!tp) return [{ op: 'add', path: pointer('spec', 'trafficPolicy'), value: { portLevelSettings: [entry] } }];
  if (!tp.portLevelSettings)
    return [{ op: 'add', path: pointer('spec', 'trafficPolicy', 'portLevelSettings'), value: [entry] }];
  return [{ op: 'add', path: pointer('spec', 'trafficPolicy', 'portLevelSettings', '-'), value: entry }];
}

/** No client TLS to keep (none, DISABLE or ISTIO_MUTUAL): write TLS for the host, testing the mode replaced. */
function replaceTls(base: PointerPath, current: ClientTlsSettings | undefined, host: string): PatchOperation[] {
  const ops: PatchOperation[] = current?.mode
    ? [{ op: 'test', path: pointer(...base, 'tls', 'mode'), value: current.mode }]
    : [];
  ops.push({ op: current ? 'replace' : 'add', path: pointer(...base, 'tls'), value: tlsSettingsFor(host) });
  return ops;
}

/** Client TLS that originates TLS already: only set its sni (and subjectAltNames when it has none). */
function setSni(base: PointerPath, current: ClientTlsSettings, host: string): PatchOperation[] {
  const ops: PatchOperation[] = [];
  if (current.sni !== undefined) ops.push({ op: 'test', path: pointer(...base, 'tls', 'sni'), value: current.sni });
  ops.push({ op: current.sni !== undefined ? 'replace' : 'add', path: pointer(...base, 'tls', 'sni'), value: host });
  if (!current.subjectAltNames)
    ops.push({ op: 'add', path: pointer(...base, 'tls', 'subjectAltNames'), value: [host] });
  return ops;
}

type PointerPath = (string | number)[];

function keepsNoClientTls(current: ClientTlsSettings | undefined): boolean {
  return !current?.mode || current.mode === 'ISTIO_MUTUAL' || current.mode === 'DISABLE';
}

function patchRule(
  dr: DestinationRule,
  host: string,
  port: number,
  se: ServiceEntry,
  subset?: string,
): PatchOperation[] {
  if (subset !== undefined) {
    const j = (dr.spec?.subsets ?? []).findIndex((s) => s.name === subset);
    if (j >= 0) return patchSubset(dr, j, host, port, se);
  }
  const tp = dr.spec?.trafficPolicy;
  const { atPort, base, current } = tlsLevelFor(tp, port);
  const otherPlainPorts = (se.spec?.ports ?? []).some((p) => p.number !== port && !isTlsProtocol(p.protocol));
  if (!atPort && !current?.mode && otherPlainPorts) return addPortLevelTls(tp, host, port);
  if (!tp) return [{ op: 'add', path: pointer('spec', 'trafficPolicy'), value: { tls: tlsSettingsFor(host) } }];
  if (!current || keepsNoClientTls(current)) return replaceTls(base, current, host);
  return setSni(base, current, host);
}

/** Where the port's client TLS is written: its port-level entry when it has one, else the top level. */
function tlsLevelFor(
  tp: TrafficPolicy | undefined,
  port: number,
): { atPort: boolean; base: PointerPath; current: ClientTlsSettings | undefined } {
  const plsIndex = (tp?.portLevelSettings ?? []).findIndex((p) => p.port?.number === port);
  if (plsIndex < 0) return { atPort: false, base: ['spec', 'trafficPolicy'], current: tp?.tls };
  return {
    atPort: true,
    base: ['spec', 'trafficPolicy', 'portLevelSettings', plsIndex],
    current: tp?.portLevelSettings?.[plsIndex]?.tls,
  };
}

/** One destination a route sends HTTP to: where it is written, and who runs it. */
interface RoutedHost {
  resource: KubeObject;
  proxy: ClaimProxy;
  /** The namespace whose ServiceEntries the route sees (the route's own). */
  routeNamespace: string;
  host: string;
  port: number | undefined;
  subset?: string;
  /** The hosts the route is reached under (the original Host of its requests). */
  routeHosts: string[];
}

function judgeRoutedHost(d: RoutedHost, seen: Set<string>, ctx: RuleContext): Finding | undefined {
  // Never a DestinationRule for "*" or an sni "*": it would change TLS for every host of the namespace.
  if (isWildcard(d.host)) return undefined;
  const se = externalEntryFor(ctx.index, d.host, d.routeNamespace);
  if (!se) return undefined;
  const port = entryPort(se, d.port);
  if (!port || !isTlsProtocol(port.protocol)) return undefined;
  const { host, subset } = d;
  const key = `${host}:${port.number}:${subset ?? ''}`;
  if (seen.has(key)) return undefined;
  seen.add(key);
  const dr = ctx.index.destinationRulesFor(host, d.proxy.namespace, se.metadata.namespace)[0];
  // A route to a subset the rule does not define is a missing subset (MM202, 503 NC), not a TLS question.
  if (subset !== undefined && !dr?.spec?.subsets?.some((s) => s.name === subset)) return undefined;
  const tls = dr ? effectiveTls(dr, port.number, subset).tls : undefined;
  const otherHosts = d.routeHosts.filter((h) => h !== host && h !== '*');
  const problem = judge(tls, dr, host, otherHosts, ctx);
  if (!problem) return undefined;
  const related = [refOf(se), ...(dr ? [refOf(dr)] : [])];
  const where = fill(MM102_WHERE, {
    vs: describeRef(refOf(d.resource)),
    host,
    port: port.number,
    subset: subset !== undefined ? ` subset ${subset}` : '',
    protocol: port.protocol ?? '',
    entry: describeRef(refOf(se)),
  });
  return problemFinding(problem, where, host, {
    resource: refOf(d.resource),
    related,
    ...(problem.type === MM102.messages.SniFromOriginalHost
      ? {
          versionNote: `Istio >= 1.21 sets auto_sni from the original Host header; judged for Istio ${ctx.istioVersion.major}.${ctx.istioVersion.minor}`,
        }
      : {}),
    claim: {
      kind: 'upstream-tls-sni',
      client: d.proxy,
      cluster: outboundCluster(host, port.number, subset),
      wantSni: host,
    },
    fix: dr
      ? { patches: [{ target: refOf(dr), patch: patchRule(dr, host, port.number, se, subset) }], create: [] }
      : { patches: [], create: [createRule(se, host, port.number)] },
  });
}

function virtualServiceHosts(vs: VirtualService, ctx: RuleContext): RoutedHost[] {
  const vsNs = vs.metadata.namespace ?? '';
  const proxy = routeProxy(vs, ctx);
  const routeHosts = (vs.spec?.hosts ?? []).map((h) => resolveHost(h, vsNs, ctx.index.domain)).filter((h) => h !== '*');
  return (vs.spec?.http ?? []).flatMap((route) =>
    (route.route ?? []).map((rd) => {
      const d: RoutedHost = {
        resource: vs,
        proxy,
        routeNamespace: vsNs,
        host: resolveHost(rd.destination.host, vsNs, ctx.index.domain),
        port: rd.destination.port?.number,
        routeHosts,
      };
      if (rd.destination.subset !== undefined) d.subset = rd.destination.subset;
      return d;
    }),
  );
}

/**
 * An HTTPRoute's backendRefs of kind Hostname (group networking.istio.io): Istio routes to that host and
 * port as a VirtualService destination would (conversion.go buildDestination). It runs on the pods of its
 * first Istio ingress Gateway, in that Gateway's namespace, where the DestinationRule lookup starts.
 */
function httpRouteHosts(route: GatewayRoute, ctx: RuleContext): RoutedHost[] {
  if (!programmedByIstio(route, ctx.index)) return [];
  const ns = route.metadata.namespace ?? 'default';
  const gw = firstIngress(route, ctx.index);
  const proxy: ClaimProxy = gw
    ? {
        type: 'router',
        namespace: gw.metadata.namespace ?? 'default',
        labels: { 'gateway.networking.k8s.io/gateway-name': gw.metadata.name },
      }
    : { type: 'sidecar', namespace: ns };
  // No hostnames: the route takes the hostnames of the listeners it attaches to.
  const listenerHosts = (gw?.spec?.listeners ?? []).flatMap((l) => (l.hostname !== undefined ? [l.hostname] : []));
  const routeHosts = route.spec?.hostnames?.length ? route.spec.hostnames : listenerHosts;
  return backendsOf(route)
    .filter((b) => isHostnameBackend(b) && b.ref.namespace === undefined && b.ref.port !== undefined)
    .map((b) => ({ resource: route, proxy, routeNamespace: ns, host: b.ref.name, port: b.ref.port, routeHosts }));
}

export const mm102: Rule = {
  ...MM102,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const routed = isRoute(subject)
      ? httpRouteHosts(subject, ctx)
      : virtualServiceHosts(subject as VirtualService, ctx);
    const seen = new Set<string>();
    return routed.flatMap((d) => judgeRoutedHost(d, seen, ctx) ?? []);
  },
};
