import type { MeshIndex } from './mesh-index.js';
import type { MtlsMode, PeerAuthentication, Service } from './types.js';

export interface EffectiveMtls {
  /** What the server-side sidecar accepts on this port. */
  mode: Exclude<MtlsMode, 'UNSET'>;
  /** The PeerAuthentication that decided it (undefined: Istio's default PERMISSIVE). */
  source: PeerAuthentication | undefined;
  /** What auto mTLS infers for clients: namespace/mesh-wide policies only (workload and port level are ignored). */
  autoMtlsMode: Exclude<MtlsMode, 'UNSET'>;
}

function oldestFirst(a: PeerAuthentication, b: PeerAuthentication): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta === tb ? a.metadata.name.localeCompare(b.metadata.name) : ta.localeCompare(tb);
}

function labelsMatch(selector: Record<string, string> | undefined, labels: Record<string, string> | undefined): boolean {
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
  const namespaceWide = nsPolicies.find((pa) => !pa.spec?.selector?.matchLabels || Object.keys(pa.spec.selector.matchLabels).length === 0);
  const meshWide = index
    .peerAuthentications(root)
    .sort(oldestFirst)
    .find((pa) => !pa.spec?.selector?.matchLabels || Object.keys(pa.spec.selector.matchLabels).length === 0);

  const nsMode = modeOf(namespaceWide) ?? modeOf(meshWide) ?? 'PERMISSIVE';
  const nsSource = modeOf(namespaceWide) ? namespaceWide : modeOf(meshWide) ? meshWide : undefined;
  let mode = nsMode as Exclude<MtlsMode, 'UNSET'>;
  let source = nsSource;
  const wlMode = modeOf(workload);
  if (wlMode) {
    mode = wlMode as Exclude<MtlsMode, 'UNSET'>;
    source = workload;
  }
  if (workload && port !== undefined) {
    const target = targetPortOf(service, port);
    const portMode = workload.spec?.portLevelMtls?.[String(target)]?.mode;
    if (portMode && portMode !== 'UNSET') {
      mode = portMode;
      source = workload;
    }
  }
  return { mode, source, autoMtlsMode: nsMode as Exclude<MtlsMode, 'UNSET'> };
}

/** PeerAuthentication port-level settings are keyed by the workload (target) port. */
function targetPortOf(service: Service, port: number): number {
  const p = service.spec?.ports?.find((sp) => sp.port === port);
  return typeof p?.targetPort === 'number' ? p.targetPort : port;
}
