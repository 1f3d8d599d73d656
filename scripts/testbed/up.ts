// npm run testbed:up — the project's real test bed for a person to try meshmedic on: etcd + kube-apiserver
// built from their Go modules (scripts/testbed/build.sh builds them once), the Istio CRDs, the Gateway
// API's standard channel and meshmedic's own. Prints the kubeconfig to use, and keeps running until Ctrl-C or `npm run testbed:down`.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureBinaries } from '../../test/testbed/binaries.js';
import { startDedicatedControlPlane } from '../../test/testbed/dedicated.js';
import { testbedHome } from './home.js';

async function main(): Promise<void> {
  const home = testbedHome();
  mkdirSync(home, { recursive: true });
  process.stderr.write(
    '[testbed:up] building or finding etcd, kube-apiserver and the Istio CRDs (a first build takes minutes)\n',
  );
  const bins = await ensureBinaries();
  const { plane, kc, crds } = await startDedicatedControlPlane(bins);
  const kubeconfig = join(home, 'kubeconfig');
  writeFileSync(kubeconfig, kc.exportConfig(), { mode: 0o600 });
  writeFileSync(join(home, 'pid'), String(process.pid));
  process.stdout.write(
    `kube-apiserver ${bins.kubernetesVersion} at ${plane.server}, ${crds.length} CRDs (Istio's, the Gateway API's ${bins.gatewayApiVersion} and meshmedic's)\n` +
      `export KUBECONFIG=${kubeconfig}\n` +
      'then:\n' +
      '  kubectl apply -f examples/001-dr-overrides-mtls/\n' +
      '  kubectl apply -f deploy/sample-policy.yaml && kubectl label namespace foo meshmedic.io/enabled=true\n' +
      '  npx meshmedic run --namespace default      (proposals: kubectl get mmr -A)\n' +
      'stop: Ctrl-C here, or npm run testbed:down\n',
  );
  const stop = (): void => {
    void plane.stop().finally(() => {
      rmSync(home, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`[testbed:up] ${(err as Error).message}\n`);
  process.exit(1);
});
