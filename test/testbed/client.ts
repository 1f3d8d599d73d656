// For integration tests: the test bed's cluster as configured @kubernetes/client-node objects.
import {
  ApiextensionsV1Api,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  VersionApi,
  Watch,
} from '@kubernetes/client-node';
import { inject } from 'vitest';
import './provided.js';
import type { TestbedInfo } from './provided.js';

export function testbed(): TestbedInfo {
  return inject('meshmedicTestbed');
}

/** Reason the integration tests are skipped (no cluster, local runs only), or undefined. */
export function skipReason(): string | undefined {
  const info = testbed();
  return info.kubeconfig ? undefined : `no test cluster: ${info.unavailable ?? 'unknown reason'}`;
}

export function kubeConfig(): KubeConfig {
  const { kubeconfig } = testbed();
  if (!kubeconfig) throw new Error(skipReason());
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  return kc;
}

export interface Clients {
  kc: KubeConfig;
  objects: KubernetesObjectApi;
  custom: CustomObjectsApi;
  core: CoreV1Api;
  apiextensions: ApiextensionsV1Api;
  version: VersionApi;
  watch: Watch;
}

export function clients(): Clients {
  return clientsFor(kubeConfig());
}

/** Clients for any cluster (a dedicated control plane started by a test file, for example). */
export function clientsFor(kc: KubeConfig): Clients {
  return {
    kc,
    objects: KubernetesObjectApi.makeApiClient(kc),
    custom: kc.makeApiClient(CustomObjectsApi),
    core: kc.makeApiClient(CoreV1Api),
    apiextensions: kc.makeApiClient(ApiextensionsV1Api),
    version: kc.makeApiClient(VersionApi),
    watch: new Watch(kc),
  };
}

/** Creates a namespace with a unique name; the returned function deletes it. */
export async function tempNamespace(
  core: CoreV1Api,
  prefix: string,
): Promise<{ name: string; remove: () => Promise<void> }> {
  const name = `${prefix}-${Date.now().toString(36)}-${Math.floor(Math.random() * 1e6).toString(36)}`;
  await core.createNamespace({ body: { metadata: { name, labels: { 'meshmedic.io/test': 'integration' } } } });
  return {
    name,
    remove: async () => {
      await core.deleteNamespace({ name }).catch(() => undefined);
    },
  };
}
