import { fill } from '../catalogue/message-type.js';
import { MM103, MM103_FRAGMENTS } from '../catalogue/rules/mm103.js';
import { report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { isIpAddress, isVisibleFrom, isWildcard } from '../model/hosts.js';
import { describeRef, objectKey, refOf } from '../model/kinds.js';
import { dnsCaptureOn } from '../model/mesh-config.js';
import { clusterIpOf, serviceNamedBy } from '../model/service-lookup.js';
import type { KubeObject, ObjectRef, ServiceEntry, ServicePort } from '../model/types.js';
import { isTlsProtocol } from './external-tls.js';
import { outboundCluster } from './claims.js';
import { atLeast, type Finding, type Fix, type Rule, type RuleContext } from './types.js';

/** Protocols whose listener has no Host/SNI to match on: a 0.0.0.0:port catch-all. */
const CATCH_ALL_PROTOCOLS = new Set(['', 'TCP', 'MONGO', 'MYSQL', 'REDIS']);

const AUTOALLOCATE_LABEL = 'networking.istio.io/enable-autoallocate-ip';

/** A namespace with no objects of its own: a client that only sees what is exported to every namespace. */
const PROBE_NAMESPACE = 'meshmedic-probe';

function isCatchAll(p: ServicePort): boolean {
  return CATCH_ALL_PROTOCOLS.has((p.protocol ?? '').toUpperCase());
}

/**
 * Whether sidecars get an address of the entry's own instead of 0.0.0.0 (pilot/pkg/model/service.go
 * nodeUsesAutoallocatedIPs): only with DNS capture, and only for entries that get an address — resolution
 * not NONE, a non-wildcard host, no opt-out label. The address comes from istiod's IP auto-allocation
 * controller (PILOT_ENABLE_IP_AUTOALLOCATE, on by default since 1.25, written to status.addresses) or
 * from the older in-memory allocation the proxy asks for with ISTIO_META_DNS_AUTO_ALLOCATE.
 */
function autoAllocated(se: ServiceEntry, ctx: RuleContext): boolean {
  const cfg = ctx.index.meshConfig;
  if (!dnsCaptureOn(cfg)) return false;
  if (se.spec?.resolution === 'NONE' || (se.spec?.hosts ?? []).every(isWildcard)) return false;
  if ((se.status?.addresses ?? []).length > 0) return true;
  const optOut = (se.metadata.labels?.[AUTOALLOCATE_LABEL] ?? '').toLowerCase() === 'false';
  if (!optOut && atLeast(ctx.istioVersion, 1, 25)) return true;
  return cfg.proxyMetadata['ISTIO_META_DNS_AUTO_ALLOCATE'] === 'true';
}

/** Addresses the entry really points at: IP endpoints as /32, Services named by endpoints or hosts as their ClusterIP. */
function deriveAddresses(se: ServiceEntry, ctx: RuleContext): { addresses: string[]; from: ObjectRef[] } | undefined {
  const ns = se.metadata.namespace ?? '';
  const addresses = new Set<string>();
  const from: ObjectRef[] = [];
  const names = se.spec?.endpoints?.length ? se.spec.endpoints.map((e) => e.address ?? '') : (se.spec?.hosts ?? []);
  for (const n of names) {
    if (isIpAddress(n)) {
      addresses.add(n.includes(':') ? `${n}/128` : `${n}/32`);
      continue;
    }
    const svc = serviceNamedBy(ctx.index, n, ns);
    const ip = svc ? clusterIpOf(svc) : undefined;
    if (!svc || !ip) return undefined;
    addresses.add(ip);
    from.push(refOf(svc));
  }
  return addresses.size > 0 ? { addresses: [...addresses], from } : undefined;
}

function exportScope(se: ServiceEntry): string {
  const e = se.spec?.exportTo;
  if (!e || e.length === 0 || e.includes('*')) return 'exported to every namespace';
  if (e.length === 1 && e[0] === '.') return 'visible in its own namespace only';
  return `exported to ${e.join(', ')}`;
}

/** VirtualServices and DestinationRules outside the entry's namespace that name one of its hosts. */
function consumersElsewhere(se: ServiceEntry, ctx: RuleContext): KubeObject[] {
  const ns = se.metadata.namespace ?? '';
  return (se.spec?.hosts ?? []).flatMap((h) => [...ctx.index.virtualServicesRoutingTo(h), ...ctx.index.destinationRulesForExactHost(h)])
    .filter((o) => (o.metadata.namespace ?? '') !== ns);
}

export const mm103: Rule = {
  ...MM103,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const se = subject as ServiceEntry;
    if ((se.spec?.addresses ?? []).length > 0 || autoAllocated(se, ctx)) return [];
    const ns = se.metadata.namespace ?? '';
    const ports = se.spec?.ports ?? [];
    // A sniffed port shares 0.0.0.0:PORT with the HTTP services of that port (HTTP listeners are
    // wildcard): the generator then sends non-HTTP bytes to PassthroughCluster, not to this entry.
    const catchAll = ports.filter((p) => isCatchAll(p) && (p.protocol || !ctx.index.httpDeclaredOnPort(p.number).some((o) => objectKey(o) !== objectKey(se))));
    const tlsAlias =
      se.spec?.location === 'MESH_INTERNAL' && se.spec.resolution === 'DNS' ? ports.filter((p) => isTlsProtocol(p.protocol)) : [];
    if (catchAll.length === 0 && tlsAlias.length === 0) return [];

    const derived = deriveAddresses(se, ctx);
    const ownOnly = !isVisibleFrom(se.spec?.exportTo, ns, `${ns}~other`);
    const sharing = new Map<string, ServiceEntry>();
    for (const p of catchAll) {
      for (const other of ctx.index.portlessEntriesOnPort(p.number)) {
        if (other === se || !other.spec?.ports?.some((op) => op.number === p.number && isCatchAll(op))) continue;
        sharing.set(`${other.metadata.namespace}/${other.metadata.name}`, other);
      }
    }
    const fix: Fix = { patches: [], create: [], notes: [] };
    if (derived) {
      fix.patches.push({ target: refOf(se), patch: [{ op: 'add', path: pointer('spec', 'addresses'), value: derived.addresses }] });
    } else if (!ownOnly) {
      const consumers = consumersElsewhere(se, ctx);
      if (consumers.length > 0 || sharing.size > 0) {
        // Restricting visibility would break these consumers, or hand the port's listener to another entry.
        fix.notes?.push(`no address could be derived for ${se.spec?.hosts.join(', ')}; exportTo is not restricted because ${consumers.length > 0 ? `${consumers.map((c) => describeRef(refOf(c))).join(', ')} in other namespaces use${consumers.length === 1 ? 's' : ''} it` : 'another entry without addresses would then keep the listener in those namespaces'}: set spec.addresses to the IPs or CIDR the entry serves`);
      } else {
        fix.patches.push({
          target: refOf(se),
          patch: [{ op: se.spec?.exportTo ? 'replace' : 'add', path: pointer('spec', 'exportTo'), value: ['.'] }],
        });
        fix.proposeOnly = true;
        fix.notes?.push(`no address could be derived for ${se.spec?.hosts.join(', ')}: exportTo is restricted to "." so only namespace ${ns} keeps the catch-all (no VirtualService or DestinationRule in another namespace names it; proposed, never applied automatically); set spec.addresses to the IPs or CIDR the entry serves`);
      }
    } else {
      fix.notes?.push(`no address could be derived for ${se.spec?.hosts.join(', ')}: set spec.addresses to the IPs or CIDR the entry serves`);
    }
    const related = [...sharing.values()].map(refOf).concat(derived?.from ?? []);
    const hosts = (se.spec?.hosts ?? []).join(', ');
    const findings: Finding[] = [];
    if (catchAll.length > 0) {
      const originalDst = se.spec?.resolution === 'NONE';
      // resolution NONE: the listener's cluster is ORIGINAL_DST, connections keep their destination; only
      // the shadowing of another entry on the same port remains.
      if (originalDst && sharing.size === 0) return [];
      const sniffedOnly = catchAll.every((p) => !p.protocol);
      const F = MM103_FRAGMENTS;
      const type = originalDst
        ? MM103.messages.OriginalDstShared
        : sniffedOnly
          ? MM103.messages.SniffedCatchAll
          : ownOnly && sharing.size === 0
            ? MM103.messages.CatchAllContained
            : MM103.messages.CatchAllListener;
      const args = {
        se: describeRef(refOf(se)),
        hosts,
        ports: catchAll.map((p) => fill(F.port, { port: p.number, protocol: p.protocol ?? F.sniffed })).join(', '),
        orKeeper: sharing.size > 0 ? F.orKeeper : '',
        scope: exportScope(se),
        shared: sharing.size > 0 ? fill(F.shared, { count: sharing.size, plural: sharing.size === 1 ? 'y' : 'ies', entries: [...sharing.values()].map((x) => describeRef(refOf(x))).join(', ') }) : '',
        dns: dnsCaptureOn(ctx.index.meshConfig) ? '' : F.noDnsCapture,
        fix: derived ? fill(F.fixAddresses, { addresses: derived.addresses.join(', ') }) : F.fixExportTo,
      };
      findings.push(
        report(type, args, {
          resource: refOf(se),
          related,
          fix,
          claim: originalDst || [...sharing.values()].some((o) => o.spec?.resolution === 'NONE')
          ? { kind: 'inexpressible', reason: 'an entry with resolution NONE shares the port: whether connections keep their destination depends on which entry keeps the listener, an ordering detail of the generator' }
          : {
              kind: 'catch-all',
              // A client in another namespace when the entry is exported there: the catch-all reaches it too.
              client: { type: 'sidecar', namespace: ownOnly ? ns : PROBE_NAMESPACE, dnsCapture: dnsCaptureOn(ctx.index.meshConfig) },
              port: catchAll[0]?.number ?? 0,
              cluster: outboundCluster(se.spec?.hosts[0] ?? '', catchAll[0]?.number ?? 0),
              ...(sharing.size > 0
                ? { alternatives: [...sharing.values()].flatMap((o) => (o.spec?.hosts ?? []).map((h) => outboundCluster(h, catchAll[0]?.number ?? 0))) }
                : {}),
            },
        }),
      );
    } else {
      const type = atLeast(ctx.istioVersion, 1, 12) ? MM103.messages.TlsAliasNoAddress : MM103.messages.TlsAliasCatchAll;
      const args = {
        se: describeRef(refOf(se)),
        hosts,
        tlsPorts: tlsAlias.map((p) => p.number).join(', '),
        port: tlsAlias[0]?.number ?? '',
        scope: exportScope(se),
        fix: derived ? fill(MM103_FRAGMENTS.fixAddresses, { addresses: derived.addresses.join(', ') }) : MM103_FRAGMENTS.fixSetAddresses,
      };
      findings.push(
        report(type, args, {
          resource: refOf(se),
          related,
          versionNote: `judged for Istio ${ctx.istioVersion.major}.${ctx.istioVersion.minor}: an error before 1.12, a warning after`,
          fix,
          claim: { kind: 'inexpressible', reason: 'the catch-all of a TLS port is an Istio 1.11 behaviour; the generator judged here matches TLS ports on SNI' },
        }),
      );
    }
    if (fix.notes?.length === 0) delete fix.notes;
    return findings;
  },
};
