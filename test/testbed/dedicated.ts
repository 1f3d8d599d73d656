// A control plane of a test file's own (etcd + kube-apiserver + the test bed's CRDs), for tests that must
// do to the API server what the shared cluster cannot take: stopping and restarting kube-apiserver.
// It needs the locally built binaries; with an external cluster and none built, tests skip.
import { KubeConfig } from '@kubernetes/client-node';
import { cachedBinaries, type TestbedBinaries } from './binaries.js';
import { startControlPlane, type ControlPlane } from './controlplane.js';
import { installTestbedCrds } from './crds.js';

export interface DedicatedControlPlane {
  plane: ControlPlane;
  kc: KubeConfig;
  crds: string[];
}

/** The built binaries, or undefined (the reason for skipping is then `dedicatedSkipReason`). */
export async function dedicatedBinaries(): Promise<TestbedBinaries | undefined> {
  return cachedBinaries();
}

export const dedicatedSkipReason =
  'no locally built test bed binaries (npm run testbed:build) for a dedicated control plane';

export async function startDedicatedControlPlane(bins: TestbedBinaries): Promise<DedicatedControlPlane> {
  const plane = await startControlPlane(bins);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(plane.kubeconfigPath);
    const crds = await installTestbedCrds(kc, { istio: bins.istioCrds, gatewayApi: bins.gatewayApiCrds }, 'apply');
    return { plane, kc, crds };
  } catch (err) {
    await plane.stop();
    throw err;
  }
}
