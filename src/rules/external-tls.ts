import { isVisibleFrom } from '../model/hosts.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { ServiceEntry, ServicePort } from '../model/types.js';

const TLS_PROTOCOLS = new Set(['HTTPS', 'TLS']);

export function isTlsProtocol(protocol: string | undefined): boolean {
  return protocol !== undefined && TLS_PROTOCOLS.has(protocol.toUpperCase());
}

/** The MESH_EXTERNAL ServiceEntry (visible from `clientNamespace`) that declares `host`, if any. */
export function externalEntryFor(index: MeshIndex, host: string, clientNamespace: string): ServiceEntry | undefined {
  return index
    .entriesForHost(host)
    .find(
      (se) =>
        se.spec?.location === 'MESH_EXTERNAL' &&
        isVisibleFrom(se.spec.exportTo, se.metadata.namespace ?? '', clientNamespace),
    );
}

/** The entry port a destination reaches: its explicit port, or the entry's only port. */
export function entryPort(se: ServiceEntry, port: number | undefined): ServicePort | undefined {
  const ports = se.spec?.ports ?? [];
  if (port !== undefined) return ports.find((p) => p.number === port);
  return ports.length === 1 ? ports[0] : undefined;
}
