import { describeRef, objectKey, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { Gateway, KubeObject, Service } from '../model/types.js';
import type { Workload } from '../model/workloads.js';

/** `a=b,c=d` as Kubernetes prints a selector; `(empty)` for none. */
export function describeLabels(labels: Readonly<Record<string, string>> | undefined): string {
  const entries = Object.entries(labels ?? {});
  return entries.length === 0 ? '(empty)' : entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/** The first few workloads by kind and name, and how many more. */
export function describeWorkloads(ws: readonly Workload[], max = 3): string {
  if (ws.length === 0) return 'none';
  const names = [...new Set(ws.map((w) => describeRef(refOf(w.object))))];
  return names.length <= max ? names.join(', ') : `${names.slice(0, max).join(', ')} and ${names.length - max} more`;
}

/** The pods and pod templates a Gateway's selector picks, in every namespace (an empty selector: all). */
export function gatewayWorkloads(gw: Gateway, index: MeshIndex): Workload[] {
  return index.workloadsMatching(gw.spec?.selector ?? {});
}

/** The Services that select a workload: same namespace, a non-empty selector its pod labels match. */
export function servicesSelecting(w: Workload, index: MeshIndex): Service[] {
  return index.inNamespace<Service>('Service', w.namespace).filter((s) => {
    const sel = s.spec?.selector;
    return sel !== undefined && Object.keys(sel).length > 0 && Object.entries(sel).every(([k, v]) => w.labels[k] === v);
  });
}

/**
 * Whether the snapshot holds a proxy's pod or template (a container named istio-proxy: gateway
 * deployments declare it; sidecars have it once injected). Without one, it says nothing about which
 * gateway proxies exist: they are usually installed apart from the application's manifests.
 */
export function holdsProxyWorkloads(index: MeshIndex): boolean {
  return index.workloadsMatching({}).some((w) => (w.spec?.containers ?? []).some((c) => c.name === 'istio-proxy'));
}

/** Objects once each, by key. */
export function uniqueObjects<T extends KubeObject>(objects: readonly T[]): T[] {
  const seen = new Map<string, T>();
  for (const o of objects) seen.set(objectKey(o), o);
  return [...seen.values()];
}

/** The hosts of a Gateway server, for messages. */
export function serverHosts(hosts: readonly string[] | undefined): string {
  return hosts && hosts.length > 0 ? hosts.join(', ') : '(no hosts)';
}
