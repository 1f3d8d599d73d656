import type { KubeObject } from '../model/types.js';

/** The GitOps object that applies a live object from a repository: what a team commits a fix to. */
export interface GitOpsOwner {
  tool: 'Argo CD' | 'Flux';
  kind: 'Application' | 'Kustomization' | 'HelmRelease';
  /** Absent when the marker does not say (an Argo CD Application in the controller's own namespace). */
  namespace?: string;
  name: string;
  /** The annotation or label it was read from, and its value. */
  marker: string;
}

const ARGO_TRACKING = 'argocd.argoproj.io/tracking-id';
const ARGO_INSTANCE = 'argocd.argoproj.io/instance';
const FLUX = [
  { label: 'kustomize.toolkit.fluxcd.io', kind: 'Kustomization' },
  { label: 'helm.toolkit.fluxcd.io', kind: 'HelmRelease' },
] as const;

/**
 * The Argo CD Application or Flux Kustomization/HelmRelease that manages an object, from the markers those
 * controllers set: Argo CD's tracking-id annotation (`<app>:<group>/<kind>:<ns>/<name>`, where `<app>` is
 * `<namespace>_<name>` for an Application outside Argo CD's namespace) or its instance label; Flux's
 * `<controller>/name` and `<controller>/namespace` labels. The common app.kubernetes.io/instance label is
 * not taken as GitOps: Helm sets it too.
 */
export function gitOpsOwner(o: KubeObject): GitOpsOwner | undefined {
  const a = o.metadata.annotations ?? {};
  const l = o.metadata.labels ?? {};
  const tracking = a[ARGO_TRACKING];
  if (tracking) {
    const app = tracking.split(':')[0] ?? tracking;
    const sep = app.indexOf('_');
    return {
      tool: 'Argo CD',
      kind: 'Application',
      ...(sep > 0 ? { namespace: app.slice(0, sep), name: app.slice(sep + 1) } : { name: app }),
      marker: `${ARGO_TRACKING} ${tracking}`,
    };
  }
  if (l[ARGO_INSTANCE])
    return {
      tool: 'Argo CD',
      kind: 'Application',
      name: l[ARGO_INSTANCE],
      marker: `${ARGO_INSTANCE} ${l[ARGO_INSTANCE]}`,
    };
  for (const f of FLUX) {
    const name = l[`${f.label}/name`];
    if (!name) continue;
    const namespace = l[`${f.label}/namespace`];
    return { tool: 'Flux', kind: f.kind, ...(namespace ? { namespace } : {}), name, marker: `${f.label}/name ${name}` };
  }
  return undefined;
}

export function describeOwner(owner: GitOpsOwner): string {
  return `${owner.tool} ${owner.kind} ${owner.namespace ? `${owner.namespace}/` : ''}${owner.name}`;
}

/** Markers a GitOps controller or kubectl adds to the live object, which the repository's file does not hold. */
export const LIVE_ONLY_ANNOTATIONS = [ARGO_TRACKING, 'kubectl.kubernetes.io/last-applied-configuration'];
export const LIVE_ONLY_LABELS = [ARGO_INSTANCE, ...FLUX.flatMap((f) => [`${f.label}/name`, `${f.label}/namespace`])];
