// Vitest global setup of the 'integration' project: brings up the cluster the tests run against
// and installs the Istio CRDs, the Gateway API's standard channel and meshmedic's own CRDs into it.
//   MESHMEDIC_TEST_KUBECONFIG or KUBECONFIG set: use that cluster (kind, a dev cluster, ...).
//   otherwise: start etcd + kube-apiserver built by scripts/testbed/build.sh (built here if missing).
// Under CI=true a test bed that cannot start fails the run; locally the tests are skipped, loudly.
import { existsSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { TestProject } from 'vitest/node';
import { ensureBinaries } from './binaries.js';
import { startControlPlane } from './controlplane.js';
import { installTestbedCrds, type CrdPolicy, type MeshCrdFiles } from './crds.js';
import { registerTempDir, removeTempDir } from './processes.js';
import type { TestbedInfo } from './provided.js';

const isCI = (): boolean => ['true', '1'].includes((process.env.CI ?? '').toLowerCase());
const seconds = (since: number): string => ((performance.now() - since) / 1000).toFixed(1);

/** The external cluster's kubeconfig as one file (a KUBECONFIG list is merged into a temp file). */
async function externalKubeconfig(value: string, cleanups: (() => Promise<void>)[]): Promise<string> {
  // like kubectl: a list skips files that do not exist
  const files = value.split(delimiter).filter((f) => f !== '');
  const present = files.length > 1 ? files.filter((f) => existsSync(f)) : files;
  if (present.length === 0) throw new Error(`none of the kubeconfig files exist: ${value}`);
  if (present.length === 1) return resolve(present[0] ?? '');
  const kc = new KubeConfig();
  present.forEach((file, i) => {
    const one = new KubeConfig();
    one.loadFromFile(file); // makes relative certificate paths absolute
    kc.mergeConfig(one, i > 0); // the first file's current-context wins, as with kubectl
  });
  const dir = await mkdtemp(join(tmpdir(), 'meshmedic-kubeconfig-'));
  registerTempDir(dir);
  cleanups.push(async () => removeTempDir(dir));
  const file = join(dir, 'kubeconfig');
  await writeFile(file, kc.exportConfig(), { mode: 0o600 });
  return file;
}

async function bringUp(cleanups: (() => Promise<void>)[]): Promise<TestbedInfo> {
  const t0 = performance.now();
  const external = process.env.MESHMEDIC_TEST_KUBECONFIG || process.env.KUBECONFIG;
  let info: TestbedInfo;
  let istioPolicy: CrdPolicy;
  let meshCrds: MeshCrdFiles;
  if (external) {
    info = {
      kubeconfig: await externalKubeconfig(external, cleanups),
      unavailable: null,
      source: 'external',
      kubernetesVersion: null,
      crds: [],
    };
    istioPolicy = 'create-only';
    const bins = await ensureBinaries(['istio-crds']);
    meshCrds = { istio: bins.istioCrds, gatewayApi: bins.gatewayApiCrds };
    console.info(`[testbed] using the cluster of ${info.kubeconfig}`);
  } else {
    const bins = await ensureBinaries();
    const tBins = performance.now();
    const cp = await startControlPlane(bins);
    cleanups.push(() => cp.stop());
    console.info(
      `[testbed] kube-apiserver ${bins.kubernetesVersion} + etcd ${bins.etcdVersion} ready at ${cp.server} ` +
        `in ${seconds(tBins)}s`,
    );
    info = {
      kubeconfig: cp.kubeconfigPath,
      unavailable: null,
      source: 'local',
      kubernetesVersion: bins.kubernetesVersion,
      crds: [],
    };
    istioPolicy = 'apply';
    meshCrds = { istio: bins.istioCrds, gatewayApi: bins.gatewayApiCrds };
  }
  const kc = new KubeConfig();
  kc.loadFromFile(info.kubeconfig ?? '');
  const tCrds = performance.now();
  info.crds = await installTestbedCrds(kc, meshCrds, istioPolicy);
  console.info(
    `[testbed] ${info.crds.length} CRDs established and discoverable in ${seconds(tCrds)}s; ` +
      `test bed ready ${seconds(t0)}s after setup started`,
  );
  return info;
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const cleanups: (() => Promise<void>)[] = [];
  const teardown = async (): Promise<void> => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  };
  try {
    project.provide('meshmedicTestbed', await bringUp(cleanups));
  } catch (err) {
    await teardown();
    const reason = err instanceof Error ? err.message : String(err);
    if (isCI())
      throw new Error(`[testbed] the integration test bed could not start (CI=true: failing the run): ${reason}`, {
        cause: err,
      });
    console.error(`\n[testbed] NO TEST CLUSTER: integration tests will be SKIPPED.\n${reason}\n`);
    project.provide('meshmedicTestbed', {
      kubeconfig: null,
      unavailable: reason,
      source: 'local',
      kubernetesVersion: null,
      crds: [],
    });
  }
  return teardown;
}
