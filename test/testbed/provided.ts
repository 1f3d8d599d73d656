// What the integration project's global setup hands to the tests (vitest provide/inject).

export interface TestbedInfo {
  /** Path of a kubeconfig for the cluster under test; null when no cluster could be had (local runs only). */
  kubeconfig: string | null;
  /** Why there is no cluster, when kubeconfig is null. */
  unavailable: string | null;
  /** 'local': etcd + kube-apiserver started by the test bed; 'external': KUBECONFIG / MESHMEDIC_TEST_KUBECONFIG. */
  source: 'local' | 'external';
  /** The Kubernetes release the local test bed was built from (for example v1.34.4); null for external clusters. */
  kubernetesVersion: string | null;
  /** CustomResourceDefinitions installed and usable before the tests start. */
  crds: string[];
}

declare module 'vitest' {
  export interface ProvidedContext {
    meshmedicTestbed: TestbedInfo;
  }
}
