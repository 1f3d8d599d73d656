import { fill } from '../catalogue/message-type.js';
import {
  MM103,
  MM103_FIX,
  MM103_NO_AUTO_ADDRESS,
  MM103_PORT,
  MM103_SCOPE,
  MM103_SNIFFED,
  MM103_VERSION_NOTE,
} from '../catalogue/rules/mm103.js';
import { pointer } from '../fix/json-pointer.js';
import { isIpAddress, isVisibleFrom, isWildcard } from '../model/hosts.js';
import { describeRef, objectKey, refOf } from '../model/kinds.js';
import { dnsCaptureOn } from '../model/mesh-config.js';
import { clusterIpOf, serviceNamedBy } from '../model/service-lookup.js';
import type { KubeObject, ObjectRef, ServiceEntry, ServicePort } from '../model/types.js';
import { isTlsProtocol } from './external-tls.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import { report } from './report.js';
import { atLeast, type Finding, type Fix, type Rule, type RuleContext } from './types.js';

/** Protocols whose listener has no Host/SNI to match on: a 0.0.0.0:port catch-all. */
const CATCH_ALL_PROTOCOLS = new Set(['', 'TCP', 'MONGO', 'MYSQL', 'REDIS']);

const AUTOALLOCATE_LABEL = 'networking.istio.io/enable-autoallocate-ip';

/** A namespace with no objects of its own: a client that only sees what is exported to every namespace. */
const PROBE_NAMESPACE = 'meshmedic-probe';

type NoAutoAddress = keyof typeof MM103_NO_AUTO_ADDRESS;
type FixPlan = keyof typeof MM103_FIX;
interface Derived {
  addresses: string[];
  from: ObjectRef[];
}

function isCatchAll(p: ServicePort): boolean {
  return CATCH_ALL_PROTOCOLS.has((p.protocol ?? '').toUpperCase());
}

function versionText(ctx: RuleContext): string {
  return `${ctx.istioVersion.major}.${ctx.istioVersion.minor}`;
}

/**
 * Why sidecars get no address of the entry's own instead of 0.0.0.0, or undefined when they do
 * (pilot/pkg/model/service.go nodeUsesAutoallocatedIPs): only with DNS capture, and only for entries that
 * get an address — resolution not NONE, a non-wildcard host, no opt-out label. The address comes from
 * istiod's IP auto-allocation controller (PILOT_ENABLE_IP_AUTOALLOCATE, on by default since 1.25, written
 * to status.addresses) or from the older in-memory allocation the proxy asks for with ISTIO_META_DNS_AUTO_ALLOCATE.
 */
function noAutoAddress(se: ServiceEntry, ctx: RuleContext): NoAutoAddress | undefined {
  const cfg = ctx.index.meshConfig;
  if (!dnsCaptureOn(cfg)) return 'noDnsCapture';
  if (se.spec?.resolution === 'NONE') return 'resolutionNone';
  if ((se.spec?.hosts ?? []).every(isWildcard)) return 'wildcardHosts';
  if ((se.status?.addresses ?? []).length > 0 || cfg.proxyMetadata['ISTIO_META_DNS_AUTO_ALLOCATE'] === 'true')
    return undefined;
  if (!atLeast(ctx.istioVersion, 1, 25)) return 'beforeAutoAllocation';
  return (se.metadata.labels?.[AUTOALLOCATE_LABEL] ?? '').toLowerCase() === 'false' ? 'optedOut' : undefined;
}

/** Addresses the entry really points at: IP endpoints as /32, Services named by endpoints or hosts as their ClusterIP. */
function deriveAddresses(se: ServiceEntry, ctx: RuleContext): Derived | undefined {
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

/** Namespaces named in exportTo ("." as the entry's own). */
function exportedNamespaces(se: ServiceEntry): string[] {
  const ns = se.metadata.namespace ?? '';
  return (se.spec?.exportTo ?? []).filter((e) => e !== '*' && e !== '~').map((e) => (e === '.' ? ns : e));
}

function exportsEverywhere(se: ServiceEntry): boolean {
  const e = se.spec?.exportTo;
  return !e || e.length === 0 || e.includes('*');
}

/** exportTo ["~"]: no sidecar gets the entry, nor its listener. */
function visibleAnywhere(se: ServiceEntry): boolean {
  return exportsEverywhere(se) || exportedNamespaces(se).length > 0;
}

function scopeText(se: ServiceEntry): string {
  const ns = se.metadata.namespace ?? '';
  if (exportsEverywhere(se)) return MM103_SCOPE.everyNamespace;
  const names = [...new Set(exportedNamespaces(se))];
  return names.length === 1 && names[0] === ns
    ? fill(MM103_SCOPE.ownNamespace, { namespace: ns })
    : fill(MM103_SCOPE.namespaces, { namespaces: names.join(', ') });
}

/** A namespace other than its own whose sidecars see the entry (for the oracle's client), if any. */
function namespaceElsewhere(se: ServiceEntry): string | undefined {
  const ns = se.metadata.namespace ?? '';
  return exportsEverywhere(se) ? PROBE_NAMESPACE : exportedNamespaces(se).find((n) => n !== ns);
}

/** Whether some namespace's sidecars see both entries (and so both 0.0.0.0 listeners). */
function seenTogether(a: ServiceEntry, b: ServiceEntry): boolean {
  const candidates = [a, b]
    .flatMap((e) => [e.metadata.namespace ?? '', ...exportedNamespaces(e)])
    .concat(PROBE_NAMESPACE);
  return candidates.some((n) => [a, b].every((e) => isVisibleFrom(e.spec?.exportTo, e.metadata.namespace ?? '', n)));
}

/** Other entries whose own catch-all listener on one of these ports some sidecar gets next to this one. */
function sharingEntries(se: ServiceEntry, ports: ServicePort[], ctx: RuleContext): ServiceEntry[] {
  const out = new Map<string, ServiceEntry>();
  for (const p of ports) {
    for (const other of ctx.index.portlessEntriesOnPort(p.number)) {
      if (other === se || !other.spec?.ports?.some((op) => op.number === p.number && isCatchAll(op))) continue;
      if (noAutoAddress(other, ctx) !== undefined && seenTogether(se, other)) out.set(objectKey(other), other);
    }
  }
  return [...out.values()];
}

/** VirtualServices and DestinationRules outside the entry's namespace that name one of its hosts. */
function consumersElsewhere(se: ServiceEntry, ctx: RuleContext): KubeObject[] {
  const ns = se.metadata.namespace ?? '';
  return (se.spec?.hosts ?? [])
    .flatMap((h) => [...ctx.index.virtualServicesRoutingTo(h), ...ctx.index.destinationRulesForExactHost(h)])
    .filter((o) => (o.metadata.namespace ?? '') !== ns);
}

/** Restricting exportTo when no address can be derived: proposed only, and never where it breaks a consumer or hands the port to another entry. */
function exportToFix(se: ServiceEntry, sharing: ServiceEntry[], ctx: RuleContext): { fix: Fix; plan: FixPlan } {
  const hosts = (se.spec?.hosts ?? []).join(', ');
  const consumers = consumersElsewhere(se, ctx);
  if (consumers.length > 0 || sharing.length > 0) {
    const why =
      consumers.length > 0
        ? `${consumers.map((c) => describeRef(refOf(c))).join(', ')} in other namespaces name it`
        : 'another entry without addresses would then keep the listener in those namespaces';
    return {
      plan: 'none',
      fix: {
        patches: [],
        create: [],
        notes: [`no address could be derived for ${hosts}; exportTo is not restricted because ${why}`],
      },
    };
  }
  const patch = {
    target: refOf(se),
    patch: [
      {
        op: se.spec?.exportTo ? ('replace' as const) : ('add' as const),
        path: pointer('spec', 'exportTo'),
        value: ['.'],
      },
    ],
  };
  const note = `no address could be derived for ${hosts}: exportTo is restricted to "." so only the sidecars of namespace ${se.metadata.namespace ?? ''} get its 0.0.0.0 listener (no VirtualService or DestinationRule in another namespace names it)`;
  return { plan: 'exportTo', fix: { patches: [patch], create: [], proposeOnly: true, notes: [note] } };
}

function fixFor(
  se: ServiceEntry,
  derived: Derived | undefined,
  sharing: ServiceEntry[],
  ctx: RuleContext,
): { fix: Fix; plan: FixPlan } {
  if (derived)
    return {
      plan: 'addresses',
      fix: {
        patches: [
          { target: refOf(se), patch: [{ op: 'add', path: pointer('spec', 'addresses'), value: derived.addresses }] },
        ],
        create: [],
      },
    };
  if (namespaceElsewhere(se) !== undefined) return exportToFix(se, sharing, ctx);
  return {
    plan: 'none',
    fix: { patches: [], create: [], notes: [`no address could be derived for ${(se.spec?.hosts ?? []).join(', ')}`] },
  };
}

function fixText(plan: FixPlan, derived: Derived | undefined): string {
  return plan === 'addresses'
    ? fill(MM103_FIX.addresses, { addresses: derived?.addresses.join(', ') ?? '' })
    : MM103_FIX[plan];
}

/** What a catch-all port's listener does: the message type of its finding. */
function catchAllType(se: ServiceEntry, ports: ServicePort[], sharing: ServiceEntry[]) {
  const shared = sharing.length > 0;
  if (se.spec?.resolution === 'NONE') return MM103.messages.OriginalDstShared;
  if (ports.every((p) => !p.protocol)) return shared ? MM103.messages.SniffedShared : MM103.messages.SniffedCatchAll;
  if (shared) return MM103.messages.CatchAllShared;
  return namespaceElsewhere(se) === undefined ? MM103.messages.CatchAllContained : MM103.messages.CatchAllListener;
}

function catchAllClaim(
  se: ServiceEntry,
  ports: ServicePort[],
  sharing: ServiceEntry[],
  ctx: RuleContext,
): FindingClaim {
  if (se.spec?.resolution === 'NONE' || sharing.some((o) => o.spec?.resolution === 'NONE')) {
    return {
      kind: 'inexpressible',
      reason:
        'an entry with resolution NONE shares the port: whether connections keep their destination depends on which entry keeps the listener, an ordering detail of the generator',
    };
  }
  const port = ports[0]?.number ?? 0;
  return {
    kind: 'catch-all',
    // A client in another namespace when the entry is exported there: the catch-all reaches it too.
    client: {
      type: 'sidecar',
      namespace: namespaceElsewhere(se) ?? se.metadata.namespace ?? '',
      dnsCapture: dnsCaptureOn(ctx.index.meshConfig),
    },
    port,
    cluster: outboundCluster(se.spec?.hosts[0] ?? '', port),
    ...(sharing.length > 0
      ? { alternatives: sharing.flatMap((o) => (o.spec?.hosts ?? []).map((h) => outboundCluster(h, port))) }
      : {}),
  };
}

interface Judged {
  se: ServiceEntry;
  why: NoAutoAddress;
  derived: Derived | undefined;
  ctx: RuleContext;
}

function common(j: Judged): { se: string; hosts: string; why: string; scope: string } {
  return {
    se: describeRef(refOf(j.se)),
    hosts: (j.se.spec?.hosts ?? []).join(', '),
    why: fill(MM103_NO_AUTO_ADDRESS[j.why], { version: versionText(j.ctx) }),
    scope: scopeText(j.se),
  };
}

function catchAllFinding(j: Judged, ports: ServicePort[]): Finding[] {
  const sharing = sharingEntries(j.se, ports, j.ctx);
  // resolution NONE: the listener's cluster is ORIGINAL_DST, connections keep their destination; only
  // the shadowing of another entry on the same port remains.
  if (j.se.spec?.resolution === 'NONE' && sharing.length === 0) return [];
  const { fix, plan } = fixFor(j.se, j.derived, sharing, j.ctx);
  const args = {
    ...common(j),
    ports: ports.map((p) => fill(MM103_PORT, { port: p.number, protocol: p.protocol ?? MM103_SNIFFED })).join(', '),
    others: sharing.map((o) => describeRef(refOf(o))).join(', '),
    fix: fixText(plan, j.derived),
  };
  const related = sharing.map(refOf).concat(j.derived?.from ?? []);
  return [
    report(catchAllType(j.se, ports, sharing), args, {
      resource: refOf(j.se),
      related,
      fix,
      claim: catchAllClaim(j.se, ports, sharing, j.ctx),
    }),
  ];
}

function tlsAliasFinding(j: Judged, ports: ServicePort[]): Finding {
  const { fix, plan } = fixFor(j.se, j.derived, [], j.ctx);
  const type = atLeast(j.ctx.istioVersion, 1, 12) ? MM103.messages.TlsAliasNoAddress : MM103.messages.TlsAliasCatchAll;
  const version = versionText(j.ctx);
  const args = {
    ...common(j),
    tlsPorts: ports.map((p) => p.number).join(', '),
    port: ports[0]?.number ?? '',
    version,
    fix: fixText(plan, j.derived),
  };
  return report(type, args, {
    resource: refOf(j.se),
    related: j.derived?.from ?? [],
    versionNote: fill(MM103_VERSION_NOTE, { version }),
    fix,
    claim: {
      kind: 'inexpressible',
      reason:
        'the catch-all of a TLS port is an Istio 1.11 behaviour; the generator judged here matches TLS ports on SNI',
    },
  });
}

export const mm103: Rule = {
  ...MM103,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const se = subject as ServiceEntry;
    const why = noAutoAddress(se, ctx);
    if ((se.spec?.addresses ?? []).length > 0 || why === undefined || !visibleAnywhere(se)) return [];
    const ports = se.spec?.ports ?? [];
    // A sniffed port shares 0.0.0.0:PORT with the HTTP services of that port (HTTP listeners are
    // wildcard): the generator then sends non-HTTP bytes to PassthroughCluster, not to this entry.
    const catchAll = ports.filter(
      (p) =>
        isCatchAll(p) &&
        (p.protocol || !ctx.index.httpDeclaredOnPort(p.number).some((o) => objectKey(o) !== objectKey(se))),
    );
    const tlsAlias =
      se.spec?.location === 'MESH_INTERNAL' && se.spec.resolution === 'DNS'
        ? ports.filter((p) => isTlsProtocol(p.protocol))
        : [];
    const j: Judged = {
      se,
      why,
      derived: catchAll.length + tlsAlias.length > 0 ? deriveAddresses(se, ctx) : undefined,
      ctx,
    };
    if (catchAll.length > 0) return catchAllFinding(j, catchAll);
    return tlsAlias.length > 0 ? [tlsAliasFinding(j, tlsAlias)] : [];
  },
};
