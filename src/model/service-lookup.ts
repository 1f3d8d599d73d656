import { isIpAddress, serviceFqdn } from './hosts.js';
import type { MeshIndex } from './mesh-index.js';
import type { Service } from './types.js';

/**
 * The in-cluster Service a DNS name stands for, as cluster DNS resolves it from `namespace`:
 * "svc", "svc.ns", "svc.ns.svc", "svc.ns.svc.<domain>".
 */
export function serviceNamedBy(index: MeshIndex, name: string, namespace: string): Service | undefined {
  if (isIpAddress(name) || name.startsWith('*')) return undefined;
  const labels = name.split('.');
  const d = index.domain;
  if (labels.length === 1) return index.serviceForHost(serviceFqdn(name, namespace, d));
  if (name.endsWith(`.svc.${d}`)) return index.serviceForHost(name);
  if (labels.length === 2 || (labels.length === 3 && labels[2] === 'svc')) {
    return index.serviceForHost(serviceFqdn(labels[0] as string, labels[1] as string, d));
  }
  return undefined;
}

/** The virtual IP of a Service, or undefined for headless/ExternalName services. */
export function clusterIpOf(svc: Service): string | undefined {
  const ip = svc.spec?.clusterIP;
  return ip && ip !== 'None' && isIpAddress(ip) ? ip : undefined;
}
