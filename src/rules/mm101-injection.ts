import { DATAPLANE_MODE } from '../model/data-plane.js';
import type { KubeObject, Pod, Service } from '../model/types.js';
import { selects } from '../model/workloads.js';
import type { RuleContext } from './types.js';

/** Whether a Service's pods run a sidecar, as far as the input tells. */
export type SidecarState =
  { state: 'none'; certain: boolean; why: string } | { state: 'sidecar' | 'ambient' | 'unknown' };

const INJECT = 'sidecar.istio.io/inject';
const AMBIENT = DATAPLANE_MODE;

function hasProxy(pod: Pod): boolean {
  const spec = pod.spec as { containers?: { name: string }[]; initContainers?: { name: string }[] } | undefined;
  return [...(spec?.containers ?? []), ...(spec?.initContainers ?? [])].some((c) => c.name === 'istio-proxy');
}

function injectValue(o: KubeObject): string | undefined {
  return o.metadata.labels?.[INJECT] ?? o.metadata.annotations?.[INJECT];
}

/**
 * Istio's default injection webhooks: a namespace labelled istio-injection=enabled (or istio.io/rev), or a
 * pod labelled sidecar.istio.io/inject=true in a namespace without istio-injection; =false on the pod or
 * istio-injection=disabled on the namespace turns it off. A pod that runs istio-proxy has a sidecar.
 */
export function sidecarStateOf(svc: Service, ctx: RuleContext): SidecarState {
  const selector = svc.spec?.selector ?? {};
  const nsName = svc.metadata.namespace ?? 'default';
  const pods = ctx.index.inNamespace<Pod>('Pod', nsName).filter((p) => selects(selector, p.metadata.labels ?? {}));
  if (pods.some(hasProxy)) return { state: 'sidecar' };
  const ns = ctx.index.get(`Namespace//${nsName}`)?.object;
  const nsLabels = ns?.metadata.labels ?? {};
  if (nsLabels[AMBIENT] === 'ambient' || pods.some((p) => p.metadata.labels?.[AMBIENT] === 'ambient'))
    return { state: 'ambient' };
  const names = pods.map((p) => p.metadata.name).join(', ');
  if (pods.length > 0 && pods.every((p) => injectValue(p) === 'false'))
    return { state: 'none', certain: true, why: `pods ${names} set ${INJECT}: "false"` };
  if (nsLabels['istio-injection'] === 'disabled')
    return { state: 'none', certain: true, why: `namespace ${nsName} is labelled istio-injection=disabled` };
  if (ctx.complete && pods.length > 0)
    return { state: 'none', certain: true, why: `pods ${names} run no istio-proxy container` };
  const injectable =
    nsLabels['istio-injection'] !== undefined ||
    nsLabels['istio.io/rev'] !== undefined ||
    pods.some((p) => injectValue(p) === 'true');
  // A guess from the namespace's labels is an offline hint only: in a complete snapshot the pods decide (above).
  if (ns && !injectable && !ctx.complete) {
    return {
      state: 'none',
      certain: false,
      why: `namespace ${nsName} has neither an istio-injection nor an istio.io/rev label, so Istio's default webhooks inject only pods labelled ${INJECT}=true`,
    };
  }
  return { state: 'unknown' };
}

/** A namespace of the input labelled for ambient: its pods have no sidecar, ztunnel carries mTLS (HBONE). */
export function ambientNamespace(namespace: string | undefined, ctx: RuleContext): boolean {
  if (namespace === undefined) return false;
  return ctx.index.get(`Namespace//${namespace}`)?.object.metadata.labels?.[AMBIENT] === 'ambient';
}

/** Every pod of the input the Service selects is labelled ambient (and runs no istio-proxy). */
export function ambientPods(svc: Service, ctx: RuleContext): boolean {
  const selector = svc.spec?.selector ?? {};
  const pods = ctx.index
    .inNamespace<Pod>('Pod', svc.metadata.namespace ?? 'default')
    .filter((p) => selects(selector, p.metadata.labels ?? {}));
  return pods.length > 0 && pods.every((p) => p.metadata.labels?.[AMBIENT] === 'ambient' && !hasProxy(p));
}

/** The input shows the Service's pods run without a sidecar: nothing enforces its PeerAuthentication. */
export function surelyNoSidecar(svc: Service, ctx: RuleContext): boolean {
  const s = sidecarStateOf(svc, ctx);
  return s.state === 'none' && s.certain;
}
