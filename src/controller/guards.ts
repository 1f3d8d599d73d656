import type { KubeObject } from '../model/types.js';

export const IGNORE_ANNOTATION = 'meshmedic.io/ignore';

/**
 * Why the operator must not write this object itself (it proposes instead), or undefined.
 * GitOps: Argo CD (tracking-id annotation, argocd.argoproj.io/instance label) and Flux (kustomize and
 * helm controller labels). The common app.kubernetes.io/instance label is not taken as GitOps: Helm sets
 * it too.
 */
export function writeGuard(o: KubeObject): string | undefined {
  const a = o.metadata.annotations ?? {};
  const l = o.metadata.labels ?? {};
  if (a[IGNORE_ANNOTATION] === 'true') return `annotated ${IGNORE_ANNOTATION}=true`;
  if (a['argocd.argoproj.io/tracking-id']) return `managed by Argo CD (argocd.argoproj.io/tracking-id ${a['argocd.argoproj.io/tracking-id']})`;
  if (l['argocd.argoproj.io/instance']) return `managed by Argo CD (argocd.argoproj.io/instance ${l['argocd.argoproj.io/instance']})`;
  for (const k of ['kustomize.toolkit.fluxcd.io/name', 'helm.toolkit.fluxcd.io/name']) {
    if (l[k]) return `managed by Flux (${k} ${l[k]})`;
  }
  return undefined;
}
