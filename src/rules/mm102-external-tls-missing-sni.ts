import { fill, type MessageType } from '../catalogue/message-type.js';
import { MM102, MM102_WHERE } from '../catalogue/rules/mm102.js';
import { report, type Report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { isWildcard, nameFromHost, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { ClientTlsSettings, DestinationRule, KubeObject, ServiceEntry, VirtualService } from '../model/types.js';
import { entryPort, externalEntryFor, isTlsProtocol } from './external-tls.js';
import { outboundCluster } from './claims.js';
import { routeProxy } from './route-call.js';
import { effectiveTls } from './tls-levels.js';
import { atLeast, type Finding, type PatchOperation, type Rule, type RuleContext } from './types.js';

type Problem =
  | { type: typeof MM102.messages.NoDestinationRule }
  | { type: typeof MM102.messages.NoClientTls | typeof MM102.messages.IstioMtlsToExternal; dr: string }
  | { type: typeof MM102.messages.WrongSni; dr: string; sni: string }
  | { type: typeof MM102.messages.SniFromOriginalHost | typeof MM102.messages.NoSniUnderOtherHost; dr: string; otherHosts: string; originalHost: string };

function judge(tls: ClientTlsSettings | undefined, dr: DestinationRule | undefined, host: string, otherHosts: string[], ctx: RuleContext): Problem | undefined {
  if (!dr) return { type: MM102.messages.NoDestinationRule };
  const name = describeRef(refOf(dr));
  const mode = tls?.mode;
  if (!mode || mode === 'DISABLE') return { type: MM102.messages.NoClientTls, dr: name };
  if (mode === 'ISTIO_MUTUAL') return { type: MM102.messages.IstioMtlsToExternal, dr: name };
  if (tls.sni !== undefined && tls.sni !== host) return { type: MM102.messages.WrongSni, dr: name, sni: tls.sni };
  if (tls.sni === undefined && otherHosts.length > 0) {
    const type = atLeast(ctx.istioVersion, 1, 21) ? MM102.messages.SniFromOriginalHost : MM102.messages.NoSniUnderOtherHost;
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
  return { ...(existing && existing.mode !== 'ISTIO_MUTUAL' && existing.mode !== 'DISABLE' ? existing : {}), mode, sni: host, subjectAltNames: existing?.subjectAltNames ?? [host] };
}

function createRule(se: ServiceEntry, host: string, port: number): DestinationRule {
  const multiPort = (se.spec?.ports ?? []).some((p) => p.number !== port && !isTlsProtocol(p.protocol));
  const tls = tlsSettingsFor(host);
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: `${nameFromHost(host)}-tls`, namespace: se.metadata.namespace ?? 'default', annotations: { 'meshmedic.io/generated-by': MM102.id } },
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
    return [{ op: current ? 'replace' : 'add', path: pointer(...base, 'portLevelSettings', plsIndex, 'tls'), value: tlsSettingsFor(host, current) }];
  }
  if (!stp) {
    const value = otherPlainPorts ? { portLevelSettings: [{ port: { number: port }, tls: tlsSettingsFor(host) }] } : { tls: tlsSettingsFor(host) };
    return [{ op: 'add', path: pointer(...base), value }];
  }
  if (otherPlainPorts) {
    const entry = { port: { number: port }, tls: tlsSettingsFor(host) };
    return stp.portLevelSettings ? [{ op: 'add', path: pointer(...base, 'portLevelSettings', '-'), value: entry }] : [{ op: 'add', path: pointer(...base, 'portLevelSettings'), value: [entry] }];
  }
  return [{ op: stp.tls ? 'replace' : 'add', path: pointer(...base, 'tls'), value: tlsSettingsFor(host, stp.tls) }];
}

function patchRule(dr: DestinationRule, host: string, port: number, se: ServiceEntry, subset?: string): PatchOperation[] {
  if (subset !== undefined) {
    const j = (dr.spec?.subsets ?? []).findIndex((s) => s.name === subset);
    if (j >= 0) return patchSubset(dr, j, host, port, se);
  }
  const tp = dr.spec?.trafficPolicy;
  const plsIndex = (tp?.portLevelSettings ?? []).findIndex((p) => p.port?.number === port);
  const base = plsIndex >= 0 ? ['spec', 'trafficPolicy', 'portLevelSettings', plsIndex] : ['spec', 'trafficPolicy'];
  const current = plsIndex >= 0 ? tp?.portLevelSettings?.[plsIndex]?.tls : tp?.tls;
  const otherPlainPorts = (se.spec?.ports ?? []).some((p) => p.number !== port && !isTlsProtocol(p.protocol));
  if (plsIndex < 0 && !current?.mode && otherPlainPorts) {
    // A new port-level entry replaces connectionPool, loadBalancer, outlierDetection and tls as a block:
    // copy the top-level ones so that only tls changes for this port.
    const entry: Record<string, unknown> = { port: { number: port } };
    for (const k of ['connectionPool', 'loadBalancer', 'outlierDetection'] as const) if (tp?.[k] !== undefined) entry[k] = tp[k];
    entry['tls'] = tlsSettingsFor(host);
    if (!tp) return [{ op: 'add', path: pointer('spec', 'trafficPolicy'), value: { portLevelSettings: [entry] } }];
    if (!tp.portLevelSettings) return [{ op: 'add', path: pointer('spec', 'trafficPolicy', 'portLevelSettings'), value: [entry] }];
    return [{ op: 'add', path: pointer('spec', 'trafficPolicy', 'portLevelSettings', '-'), value: entry }];
  }
  if (!tp) return [{ op: 'add', path: pointer('spec', 'trafficPolicy'), value: { tls: tlsSettingsFor(host) } }];
  if (!current || current.mode === 'ISTIO_MUTUAL' || current.mode === 'DISABLE' || !current.mode) {
    const ops: PatchOperation[] = current?.mode ? [{ op: 'test', path: pointer(...base, 'tls', 'mode'), value: current.mode }] : [];
    ops.push({ op: current ? 'replace' : 'add', path: pointer(...base, 'tls'), value: tlsSettingsFor(host) });
    return ops;
  }
  const ops: PatchOperation[] = [];
  if (current.sni !== undefined) ops.push({ op: 'test', path: pointer(...base, 'tls', 'sni'), value: current.sni });
  ops.push({ op: current.sni !== undefined ? 'replace' : 'add', path: pointer(...base, 'tls', 'sni'), value: host });
  if (!current.subjectAltNames) ops.push({ op: 'add', path: pointer(...base, 'tls', 'subjectAltNames'), value: [host] });
  return ops;
}

export const mm102: Rule = {
  ...MM102,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const vsNs = vs.metadata.namespace ?? '';
    const proxy = routeProxy(vs, ctx);
    const client = proxy.namespace;
    const vsHosts = (vs.spec?.hosts ?? []).map((h) => resolveHost(h, vsNs, ctx.index.domain));
    const seen = new Set<string>();
    const findings: Finding[] = [];
    (vs.spec?.http ?? []).forEach((route) => {
      for (const rd of route.route ?? []) {
        const host = resolveHost(rd.destination.host, vsNs, ctx.index.domain);
        // Never a DestinationRule for "*" or an sni "*": it would change TLS for every host of the namespace.
        if (isWildcard(host)) continue;
        const se = externalEntryFor(ctx.index, host, vsNs);
        if (!se) continue;
        const port = entryPort(se, rd.destination.port?.number);
        if (!port || !isTlsProtocol(port.protocol)) continue;
        const subset = rd.destination.subset;
        const key = `${host}:${port.number}:${subset ?? ''}`;
        if (seen.has(key)) continue;
        seen.add(key);
        const dr = ctx.index.destinationRulesFor(host, client, se.metadata.namespace)[0];
        // A route to a subset the rule does not define is a missing subset (MM202, 503 NC), not a TLS question.
        if (subset !== undefined && !dr?.spec?.subsets?.some((s) => s.name === subset)) continue;
        const tls = dr ? effectiveTls(dr, port.number, subset).tls : undefined;
        const otherHosts = vsHosts.filter((h) => h !== host && h !== '*');
        const problem = judge(tls, dr, host, otherHosts, ctx);
        if (!problem) continue;
        const related = [refOf(se), ...(dr ? [refOf(dr)] : [])];
        const where = fill(MM102_WHERE, { vs: describeRef(refOf(vs)), host, port: port.number, subset: subset !== undefined ? ` subset ${subset}` : '', protocol: port.protocol ?? '', entry: describeRef(refOf(se)) });
        findings.push(
          problemFinding(problem, where, host, {
            resource: refOf(vs),
            related,
            ...(problem.type === MM102.messages.SniFromOriginalHost
              ? { versionNote: `Istio >= 1.21 sets auto_sni from the original Host header; judged for Istio ${ctx.istioVersion.major}.${ctx.istioVersion.minor}` }
              : {}),
            claim: { kind: 'upstream-tls-sni', client: proxy, cluster: outboundCluster(host, port.number, subset), wantSni: host },
            fix: dr
              ? { patches: [{ target: refOf(dr), patch: patchRule(dr, host, port.number, se, subset) }], create: [] }
              : { patches: [], create: [createRule(se, host, port.number)] },
          }),
        );
      }
    });
    return findings;
  },
};
