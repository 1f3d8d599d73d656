import { hostsMatch, isClusterLocal, isIpAddress, resolveHost, serviceFqdn } from '../model/hosts.js';
import { objectKey } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, ObjectRef, Service, ServiceEntry, VirtualService } from '../model/types.js';
import { routeDestinations } from '../model/route-destinations.js';
import type { Finding } from '../rules/types.js';
import { parseIstioSni, splitHostPort } from './cluster-name.js';
import type { LogGroup } from './aggregate.js';

/** What a group of log records is about: the host (and port) its requests went to. */
export interface GroupHost {
  host: string;
  port?: number;
  /** Where the host came from. */
  from: 'cluster' | 'sni' | 'authority' | 'none';
}

/** The service or external host of a group: the cluster's host, else Istio's SNI, else the authority. */
export function hostOfGroup(g: LogGroup): GroupHost {
  const c = g.cluster;
  if (c?.host) return { host: c.host, ...(c.port !== undefined ? { port: c.port } : {}), from: 'cluster' };
  for (const sni of g.requestedServerNames) {
    const s = parseIstioSni(sni);
    if (s) return { host: s.host, port: s.port, from: 'sni' };
  }
  const authority = g.authorities[0];
  if (authority) {
    const hp = splitHostPort(authority);
    const port = hp.port ?? portOfAddress(g.upstreamHosts[0]);
    return { host: hp.host.toLowerCase(), ...(port !== undefined ? { port } : {}), from: 'authority' };
  }
  const sni = g.requestedServerNames[0];
  if (sni)
    return {
      host: sni.toLowerCase(),
      ...(portOfAddress(g.upstreamHosts[0]) !== undefined ? { port: portOfAddress(g.upstreamHosts[0]) } : {}),
      from: 'sni',
    };
  return { host: '', from: 'none' };
}

export function portOfAddress(address: string | undefined): number | undefined {
  return address === undefined ? undefined : splitHostPort(address).port;
}

/**
 * The FQDNs a host seen in a log can stand for. An authority may be a short name (`httpbin:8000`, seed 001)
 * or `name.namespace`; without the client's namespace, every Service of that name in the manifests qualifies.
 */
export function candidateHosts(host: string, index: MeshIndex | undefined): string[] {
  if (host === '' || isIpAddress(host)) return host === '' ? [] : [host];
  const domain = index?.domain ?? 'cluster.local';
  const parts = host.split('.');
  if (parts.length === 1) {
    const named = (index?.ofKind<Service>('Service') ?? [])
      .filter((s) => s.metadata.name === host)
      .map((s) => serviceFqdn(s.metadata.name, s.metadata.namespace ?? 'default', domain));
    return named.length > 0 ? named : [host];
  }
  if (parts.length === 2 && index) {
    const fqdn = serviceFqdn(parts[0] ?? '', parts[1] ?? '', domain);
    if (index.serviceForHost(fqdn)) return [fqdn];
  }
  if (parts.length === 3 && parts[2] === 'svc') return [`${host}.${domain}`];
  return [host];
}

/** In the mesh: a Kubernetes service name (short, name.ns, *.svc.cluster.local) or a MESH_INTERNAL entry. */
export function isInMesh(host: string, index: MeshIndex | undefined): boolean {
  if (host === '' || isIpAddress(host)) return false;
  if (!host.includes('.') || isClusterLocal(host, index?.domain)) return true;
  if (!index) return false;
  if (candidateHosts(host, index).some((h) => index.serviceForHost(h))) return true;
  return index.entriesForHost(host).some((se) => se.spec?.location === 'MESH_INTERNAL');
}

function hostsOfObject(o: KubeObject, index: MeshIndex): string[] {
  const ns = o.metadata.namespace;
  switch (o.kind) {
    case 'DestinationRule':
      return [resolveHost((o.spec as { host?: string } | undefined)?.host ?? '', ns, index.domain)];
    case 'ServiceEntry':
      return ((o as ServiceEntry).spec?.hosts ?? []).map((h) => resolveHost(h, ns, index.domain));
    case 'VirtualService': {
      const vs = o as VirtualService;
      return [
        ...(vs.spec?.hosts ?? []).map((h) => resolveHost(h, ns, index.domain)),
        ...routeDestinations(vs, index.domain).map((d) => d.host),
      ];
    }
    case 'Service':
      return [serviceFqdn(o.metadata.name, ns ?? 'default', index.domain)];
    default:
      return [];
  }
}

function objectOf(ref: ObjectRef, index: MeshIndex): KubeObject | undefined {
  return index.get(
    objectKey({
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, ...(ref.namespace !== undefined ? { namespace: ref.namespace } : {}) },
    }),
  )?.object;
}

/** The hosts a static finding is about: those of its resource, related objects and the objects it creates. */
export function findingHosts(f: Finding, index: MeshIndex): string[] {
  const out = new Set<string>();
  for (const ref of [f.resource, ...f.related]) {
    const o = objectOf(ref, index);
    if (o) for (const h of hostsOfObject(o, index)) out.add(h);
  }
  for (const c of f.fix.create) for (const h of hostsOfObject(c, index)) out.add(h);
  return [...out].filter((h) => h !== '' && h !== '*');
}

/** The static findings of `rules` that are about one of `hosts` (wildcards in the manifests match). */
export function explainingFindings(
  findings: readonly Finding[],
  rules: readonly string[],
  hosts: readonly string[],
  index: MeshIndex,
): Finding[] {
  if (hosts.length === 0) return [];
  return findings.filter(
    (f) => rules.includes(f.rule) && findingHosts(f, index).some((fh) => hosts.some((h) => hostsMatch(fh, h))),
  );
}
