import { resolveGatewayName } from './gateway-names.js';
import { isVisibleFrom } from './hosts.js';
import type { MeshIndex } from './mesh-index.js';
import type { Service, ServiceEntry, VirtualService } from './types.js';

/** The Service annotation that sets its exportTo (pilot/pkg/serviceregistry/kube/conversion.go). */
export const SERVICE_EXPORT_TO = 'networking.istio.io/exportTo';

/**
 * The exportTo of a Service (its annotation, comma-separated) or ServiceEntry (spec.exportTo), falling
 * back to meshConfig.defaultServiceExportTo; undefined: every namespace.
 */
export function serviceExportTo(o: Service | ServiceEntry, index: MeshIndex): string[] | undefined {
  let own: string[] | undefined;
  if (o.kind === 'Service') {
    const anno = o.metadata.annotations?.[SERVICE_EXPORT_TO];
    own =
      anno === undefined
        ? undefined
        : anno
            .split(',')
            .map((s) => s.trim())
            .filter((s) => s !== '');
  } else {
    own = (o as ServiceEntry).spec?.exportTo;
  }
  if (own && own.length > 0) return own;
  const dflt = index.meshConfig.defaultServiceExportTo;
  return dflt && dflt.length > 0 ? dflt : undefined;
}

/** Whether a Service or ServiceEntry is visible to proxies in `clientNamespace`. */
export function serviceVisibleFrom(o: Service | ServiceEntry, clientNamespace: string, index: MeshIndex): boolean {
  return isVisibleFrom(serviceExportTo(o, index), o.metadata.namespace ?? '', clientNamespace);
}

/** The Service and ServiceEntries that declare `host` (a resolved FQDN or wildcard). */
export function declarationsOf(host: string, index: MeshIndex): (Service | ServiceEntry)[] {
  const svc = index.serviceForHost(host);
  return [...(svc ? [svc] : []), ...index.entriesForHost(host)];
}

/**
 * The namespaces whose proxies run a VirtualService's routes, as istioctl's IST0101 looks the destinations up
 * (pkg/config/analysis/analyzers/util/service_lookup.go GetDestinationHost): its exportTo ("." its own
 * namespace; "*" and none: its own namespace stands for all), plus the namespaces of the Gateways it binds.
 */
export function routeClientNamespaces(vs: VirtualService, index: MeshIndex): string[] {
  const own = vs.metadata.namespace ?? 'default';
  const exportTo = vs.spec?.exportTo?.length ? vs.spec.exportTo : index.meshConfig.defaultVirtualServiceExportTo;
  const out = new Set<string>();
  const gateways = vs.spec?.gateways ?? [];
  if (gateways.length === 0 || gateways.includes('mesh')) {
    for (const e of exportTo?.length ? exportTo : ['*']) {
      if (e === '~') continue;
      out.add(e === '.' || e === '*' ? own : e);
    }
  }
  for (const g of gateways) {
    const r = resolveGatewayName(g, own);
    if (r.kind === 'gateway') out.add(r.namespace);
  }
  return [...out];
}

/** The namespaces an exportTo makes an object visible in: 'all', or a set ("." resolved, "~" none). */
export function exportScope(exportTo: string[] | undefined, ownNamespace: string): 'all' | Set<string> {
  if (!exportTo || exportTo.length === 0 || exportTo.includes('*')) return 'all';
  return new Set(exportTo.filter((e) => e !== '~').map((e) => (e === '.' ? ownNamespace : e)));
}

/** Whether some namespace sees both objects. */
export function scopesOverlap(a: 'all' | Set<string>, b: 'all' | Set<string>): boolean {
  if (a === 'all') return b === 'all' || b.size > 0;
  if (b === 'all') return a.size > 0;
  return [...a].some((ns) => b.has(ns));
}
