/**
 * How Istio reads a VirtualService's `gateways` entries (pilot/pkg/model/config.go resolveGatewayName,
 * validated by pkg/config/validation validateGatewayNames): `ns/name`; `name` in the VirtualService's
 * namespace; the legacy `name.ns` and `name.ns.svc.cluster.local` (served, with a validation warning);
 * `./name` is refused by validation ("." is not a namespace). `mesh` is the sidecars.
 */
export type GatewayName =
  | { kind: 'mesh' }
  | { kind: 'gateway'; namespace: string; name: string; legacy: boolean }
  | { kind: 'invalid'; reason: string };

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export function resolveGatewayName(entry: string, vsNamespace: string): GatewayName {
  if (entry === 'mesh') return { kind: 'mesh' };
  const slash = entry.indexOf('/');
  if (slash < 0) {
    if (!entry.includes('.')) return { kind: 'gateway', namespace: vsNamespace, name: entry, legacy: false };
    const [name = '', namespace = ''] = entry.split('.');
    return { kind: 'gateway', namespace, name, legacy: true };
  }
  const namespace = entry.slice(0, slash);
  const name = entry.slice(slash + 1);
  if (!namespace || !name) return { kind: 'invalid', reason: 'namespace and gateway name cannot be empty' };
  if (!DNS1123_LABEL.test(namespace)) return { kind: 'invalid', reason: `invalid value for namespace: "${namespace}"` };
  return { kind: 'gateway', namespace, name, legacy: false };
}
