import type { MeshIndex } from './mesh-index.js';
import type { MtlsMode, PeerAuthentication, Service } from './types.js';

export interface EffectiveMtls {
  /** What the server-side sidecar accepts on this port. */
  mode: Exclude<MtlsMode, 'UNSET'>;
  /** The PeerAuthentication that decided it (undefined: Istio's default PERMISSIVE). */
  source: PeerAuthentication | undefined;
  /** What auto mTLS infers for clients: namespace/mesh-wide policies only (workload and port level are ignored). */
  autoMtlsMode: Exclude<MtlsMode, 'UNSET'>;
  /** JSON pointer segments of the mode field that decided it (in `source`). */
  decidedAt: string[] | undefined;
}

function oldestFirst(a: PeerAuthentication, b: PeerAuthentication): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta === tb ? a.metadata.name.localeCompare(b.metadata.name) : ta.localeCompare(tb);
}

function labelsMatch(
  selector: Record<string, string> | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  if (!selector || Object.keys(selector).length === 0) return false;
  if (!labels) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

function modeOf(pa: PeerAuthentication | undefined): MtlsMode | undefined {
  const m = pa?.spec?.mtls?.mode;
  return m && m !== 'UNSET' ? m : undefined;
}

/**
 * The mTLS mode a Service's workloads enforce on one port, following Istio's precedence: workload
 * selector > namespace > root namespace (mesh-wide), and port-level mtls of the workload policy. The
 * workload labels are taken from the Service's selector.
 */
export function effectiveMtls(index: MeshIndex, service: Service, port?: number): EffectiveMtls {
  const ns = service.metadata.namespace ?? '';
  const root = index.meshConfig.rootNamespace;
  const nsPolicies = index.peerAuthentications(ns).sort(oldestFirst);
  const workload = nsPolicies.find((pa) => labelsMatch(pa.spec?.selector?.matchLabels, service.spec?.selector));
  const namespaceWide = namespaceWidePolicy(index, ns);
  const meshWide = namespaceWidePolicy(index, root);

  const base = namespaceMtlsFrom(namespaceWide, meshWide);
  let { mode, source, decidedAt } = base;
  const wlMode = modeOf(workload);
  if (wlMode) {
    mode = wlMode as Exclude<MtlsMode, 'UNSET'>;
    source = workload;
    decidedAt = MODE_PATH;
  }
  if (workload && port !== undefined) {
    const target = targetPortOf(service, port);
    const portMode = workload.spec?.portLevelMtls?.[String(target)]?.mode;
    if (portMode && portMode !== 'UNSET') {
      mode = portMode;
      source = workload;
      decidedAt = ['spec', 'portLevelMtls', String(target), 'mode'];
    }
  }
  return { mode, source, autoMtlsMode: base.mode, decidedAt };
}

const MODE_PATH = ['spec', 'mtls', 'mode'];

function namespaceWidePolicy(index: MeshIndex, namespace: string): PeerAuthentication | undefined {
  return index
    .peerAuthentications(namespace)
    .sort(oldestFirst)
    .find((pa) => !pa.spec?.selector?.matchLabels || Object.keys(pa.spec.selector.matchLabels).length === 0);
}

function namespaceMtlsFrom(
  namespaceWide: PeerAuthentication | undefined,
  meshWide: PeerAuthentication | undefined,
): EffectiveMtls {
  const nsMode = (modeOf(namespaceWide) ?? modeOf(meshWide) ?? 'PERMISSIVE') as Exclude<MtlsMode, 'UNSET'>;
  const source = modeOf(namespaceWide) ? namespaceWide : modeOf(meshWide) ? meshWide : undefined;
  return { mode: nsMode, source, autoMtlsMode: nsMode, decidedAt: source ? MODE_PATH : undefined };
}

/**
 * The mode of a workload that no workload-selector policy selects, in `namespace` (undefined: a namespace
 * without a policy of its own, under the mesh-wide one): the namespace-wide policy, else the mesh-wide one.
 */
export function namespaceMtls(index: MeshIndex, namespace: string | undefined): EffectiveMtls {
  const root = index.meshConfig.rootNamespace;
  return namespaceMtlsFrom(
    namespace === undefined ? undefined : namespaceWidePolicy(index, namespace),
    namespaceWidePolicy(index, root),
  );
}

/** Whether a workload-selector policy in `namespace` could select a workload whose labels are unknown. */
export function hasWorkloadPolicies(index: MeshIndex, namespace: string): boolean {
  return index
    .peerAuthentications(namespace)
    .some((pa) => Object.keys(pa.spec?.selector?.matchLabels ?? {}).length > 0);
}

/** PeerAuthentication port-level settings are keyed by the workload (target) port. */
function targetPortOf(service: Service, port: number): number {
  const p = service.spec?.ports?.find((sp) => sp.port === port);
  return typeof p?.targetPort === 'number' ? p.targetPort : port;
}
