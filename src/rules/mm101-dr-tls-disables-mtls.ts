import { MM101, MM101_OFFENDER } from '../catalogue/rules/mm101.js';
import { fill } from '../catalogue/message-type.js';
import { report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { hostsMatch, isWildcard, serviceFqdn } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import { autoMtlsOn } from '../model/mesh-config.js';
import { effectiveMtls } from '../model/peer-authentication.js';
import { isHttpPortName } from '../model/protocols.js';
import type { DestinationRule, KubeObject, ObjectRef, Service } from '../model/types.js';
import { tlsLevels, type TlsLevel } from './tls-levels.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import type { Finding, PatchOperation, Rule, RuleContext } from './types.js';

/** Fields Istio's validation refuses next to ISTIO_MUTUAL (istio certificates are used instead). */
const NOT_WITH_ISTIO_MUTUAL = ['clientCertificate', 'privateKey', 'caCertificates', 'caCrl', 'credentialName'] as const;
const MAX_SERVICES_FOR_WILDCARD = 200;

type ClientSends = 'istio-mtls' | 'plaintext' | 'plaintext-auto' | 'non-istio-tls';

function clientSends(level: TlsLevel, autoMtls: boolean, autoMtlsMode: string): ClientSends {
  const mode = level.tls?.mode;
  if (mode === 'ISTIO_MUTUAL') return 'istio-mtls';
  if (mode === 'DISABLE') return 'plaintext';
  if (mode === 'SIMPLE' || mode === 'MUTUAL') return 'non-istio-tls';
  if (!autoMtls) return 'plaintext';
  return autoMtlsMode === 'DISABLE' ? 'plaintext-auto' : 'istio-mtls';
}

function describeSends(s: ClientSends, level: TlsLevel): string {
  switch (s) {
    case 'plaintext':
      return level.tls?.mode === 'DISABLE' ? 'plaintext (tls.mode DISABLE)' : 'plaintext (no tls while auto mTLS is off)';
    case 'plaintext-auto':
      return 'plaintext (auto mTLS follows the namespace/mesh PeerAuthentication DISABLE, not the workload STRICT)';
    case 'non-istio-tls':
      return `TLS with non-Istio certificates (tls.mode ${level.tls?.mode ?? ''})`;
    default:
      return 'Istio mTLS';
  }
}

function servicesFor(dr: DestinationRule, ctx: RuleContext): Service[] {
  const host = ctx.index.drHost(dr);
  if (!isWildcard(host)) {
    const s = ctx.index.serviceForHost(host);
    return s ? [s] : [];
  }
  const out: Service[] = [];
  for (const s of ctx.index.ofKind<Service>('Service')) {
    if (hostsMatch(host, `${s.metadata.name}.${s.metadata.namespace ?? ''}.svc.${ctx.index.domain}`)) out.push(s);
    if (out.length >= MAX_SERVICES_FOR_WILDCARD) break;
  }
  return out;
}

function portsOf(svc: Service, level: TlsLevel): (number | undefined)[] {
  const ports = (svc.spec?.ports ?? []).map((p) => p.port);
  if (level.port !== undefined) return ports.includes(level.port) ? [level.port] : [];
  const covered = ports.filter((p) => !level.excludedPorts.includes(p));
  return covered.length > 0 ? covered : ports.length === 0 ? [undefined] : [];
}

export function istioMutualPatch(dr: DestinationRule, level: TlsLevel): PatchOperation[] {
  const holder = pointer(...level.path);
  if (!level.holderExists) return [{ op: 'add', path: holder, value: { tls: { mode: 'ISTIO_MUTUAL' } } }];
  if (!level.tls) return [{ op: 'add', path: `${holder}/tls`, value: { mode: 'ISTIO_MUTUAL' } }];
  const ops: PatchOperation[] = [];
  if (level.tls.mode !== undefined) {
    ops.push({ op: 'test', path: `${holder}/tls/mode`, value: level.tls.mode });
    ops.push({ op: 'replace', path: `${holder}/tls/mode`, value: 'ISTIO_MUTUAL' });
  } else {
    ops.push({ op: 'add', path: `${holder}/tls/mode`, value: 'ISTIO_MUTUAL' });
  }
  for (const f of NOT_WITH_ISTIO_MUTUAL) if (level.tls[f] !== undefined) ops.push({ op: 'remove', path: `${holder}/tls/${f}` });
  void dr;
  return ops;
}

/** The claim: a sidecar in the DestinationRule's namespace sends non-mTLS, and the server's sidecar refuses it. */
function claimFor(dr: DestinationRule, level: TlsLevel, svc: Service, port: number | undefined, ctx: RuleContext): FindingClaim {
  const svcPort = (svc.spec?.ports ?? []).find((p) => port === undefined || p.port === port);
  const selector = svc.spec?.selector;
  if (!svcPort || !selector || Object.keys(selector).length === 0) {
    return { kind: 'inexpressible', reason: 'the Service has no port or no selector: there is no server pod to simulate' };
  }
  const drNs = dr.metadata.namespace ?? 'default';
  const svcNs = svc.metadata.namespace ?? 'default';
  const client = drNs === ctx.index.meshConfig.rootNamespace ? svcNs : drNs;
  const target = typeof svcPort.targetPort === 'number' ? svcPort.targetPort : svcPort.port;
  return {
    kind: 'server-rejects',
    client: { type: 'sidecar', namespace: client },
    cluster: outboundCluster(serviceFqdn(svc.metadata.name, svcNs, ctx.index.domain), svcPort.port, level.subset),
    server: { namespace: svcNs, labels: selector, port: target, protocol: isHttpPortName(svcPort.appProtocol ?? svcPort.name) ? 'http' : 'tcp' },
  };
}

export const mm101: Rule = {
  ...MM101,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    const services = servicesFor(dr, ctx);
    if (services.length === 0) return [];
    const autoMtls = autoMtlsOn(ctx.index.meshConfig, ctx.istioVersion);
    const byVersion = !autoMtls && ctx.index.meshConfig.enableAutoMtls;
    const offending: { level: TlsLevel; sends: ClientSends; svc: Service; port: number | undefined; pa: ObjectRef | undefined }[] = [];
    for (const level of tlsLevels(dr)) {
      if (level.inherits) continue;
      for (const svc of services) {
        const hit = portsOf(svc, level)
          .map((port) => ({ port, m: effectiveMtls(ctx.index, svc, port) }))
          .find(({ m }) => m.mode === 'STRICT' && clientSends(level, autoMtls, m.autoMtlsMode) !== 'istio-mtls');
        if (hit) {
          offending.push({
            level,
            sends: clientSends(level, autoMtls, hit.m.autoMtlsMode),
            svc,
            port: hit.port,
            pa: hit.m.source ? refOf(hit.m.source) : undefined,
          });
          break;
        }
      }
    }
    if (offending.length === 0) return [];
    const related = new Map<string, ObjectRef>();
    for (const o of offending) {
      related.set(`svc/${o.svc.metadata.namespace}/${o.svc.metadata.name}`, refOf(o.svc));
      if (o.pa) related.set(`pa/${o.pa.namespace}/${o.pa.name}`, o.pa);
    }
    const parts = offending.map((o) => {
      const where = o.port !== undefined ? `${o.svc.metadata.name}.${o.svc.metadata.namespace}:${o.port}` : `${o.svc.metadata.name}.${o.svc.metadata.namespace}`;
      const pa = o.pa ? `PeerAuthentication ${o.pa.namespace}/${o.pa.name}` : 'the mesh';
      return fill(MM101_OFFENDER, { level: o.level.label, sends: describeSends(o.sends, o.level), where, pa });
    });
    const args = { dr: describeRef(refOf(dr)), offenders: parts.join('; '), levels: offending.map((o) => o.level.label).join(', ') };
    return [
      report(MM101.messages.PlaintextToStrict, args, {
        resource: refOf(dr),
        related: [...related.values()],
        ...(byVersion ? { versionNote: `judged for Istio ${ctx.istioVersion.major}.${ctx.istioVersion.minor}: auto mTLS is on by default only since 1.5` } : {}),
        fix: { patches: [{ target: refOf(dr), patch: offending.flatMap((o) => istioMutualPatch(dr, o.level)) }], create: [] },
        ...(offending[0] ? { claim: claimFor(dr, offending[0].level, offending[0].svc, offending[0].port, ctx) } : {}),
      }),
    ];
  },
};
