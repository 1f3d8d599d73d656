import type { KubeObject, Pod, PodSpecK8s, WorkloadObject } from './types.js';

/** The kinds whose objects are, or make, pods: a Pod, and the apps/v1 workloads' pod templates. */
export const WORKLOAD_KINDS: ReadonlySet<string> = new Set([
  'Pod',
  'Deployment',
  'StatefulSet',
  'DaemonSet',
  'ReplicaSet',
]);

/** A pod, or the pods a workload's template makes: their namespace, labels and pod spec. */
export interface Workload {
  object: KubeObject;
  namespace: string;
  labels: Readonly<Record<string, string>>;
  annotations: Readonly<Record<string, string>>;
  spec: PodSpecK8s | undefined;
  /** A Pod (its node is known when scheduled), not a template. */
  isPod: boolean;
}

export function workloadOf(o: KubeObject): Workload | undefined {
  if (!WORKLOAD_KINDS.has(o.kind)) return undefined;
  const namespace = o.metadata.namespace ?? '';
  if (o.kind === 'Pod')
    return {
      object: o,
      namespace,
      labels: o.metadata.labels ?? {},
      annotations: o.metadata.annotations ?? {},
      spec: (o as Pod).spec,
      isPod: true,
    };
  const template = (o as WorkloadObject).spec?.template;
  return {
    object: o,
    namespace,
    labels: template?.metadata?.labels ?? {},
    annotations: template?.metadata?.annotations ?? {},
    spec: template?.spec,
    isPod: false,
  };
}

/** Whether every label of `selector` has its value in `labels` (an empty selector selects everything). */
export function selects(selector: Readonly<Record<string, string>>, labels: Readonly<Record<string, string>>): boolean {
  for (const [k, v] of Object.entries(selector)) if (!Object.hasOwn(labels, k) || labels[k] !== v) return false;
  return true;
}
