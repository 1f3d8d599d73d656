// The controller on a real API server: time from creating a faulty DestinationRule to its
// MeshRemediation, and the API writes made during a steady state.
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  Watch,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { pino } from 'pino';
import { Operator } from '../src/controller/operator.js';
import { ensureBinaries, repoRoot } from '../test/testbed/binaries.js';
import { startControlPlane } from '../test/testbed/controlplane.js';
import { installCrds } from '../test/testbed/crds.js';
import { generateMesh } from './generate-mesh.js';
import { median, percentile } from './stats.js';

export interface ClusterResult {
  kubernetesVersion: string;
  backgroundObjects: number;
  trials: number;
  eventToProposalMedianMs: number;
  eventToProposalP99Ms: number;
  steadySeconds: number;
  steadyWrites: number;
  resyncsDuringSteadyState: number;
}

async function createAll(objects: KubernetesObject[], api: KubernetesObjectApi): Promise<void> {
  for (let i = 0; i < objects.length; i += 16) await Promise.all(objects.slice(i, i + 16).map((o) => api.create(o)));
}

export async function clusterBench(opts: {
  trials: number;
  steadySeconds: number;
  background: number;
  log: (s: string) => void;
}): Promise<ClusterResult> {
  const bins = await ensureBinaries();
  const cp = await startControlPlane(bins);
  let op: Operator | undefined;
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(cp.kubeconfigPath);
    const crdDir = join(repoRoot, 'crds');
    const own = (await readdir(crdDir))
      .filter((f) => f.endsWith('.yaml'))
      .map((f) => ({ file: join(crdDir, f), policy: 'apply' as const }));
    await installCrds(kc, [{ file: bins.istioCrds, policy: 'apply' }, ...own]);
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const core = kc.makeApiClient(CoreV1Api);
    const custom = kc.makeApiClient(CustomObjectsApi);
    await core.createNamespace({ body: { metadata: { name: 'meshmedic-system' } } });

    // A background mesh (clean objects and the generator's faults), watched by an Observe policy.
    const mesh = generateMesh({ size: opts.background, seed: 11, servicesPerNamespace: 10, hostsPerEntry: 10 });
    // The test bed's Service range is a /24: background Services are headless (no ClusterIP to allocate).
    for (const o of mesh.objects) if (o.kind === 'Service') (o.spec as { clusterIP?: string }).clusterIP = 'None';
    const nsObjects = mesh.objects.filter((o) => o.kind === 'Namespace');
    await createAll(nsObjects as KubernetesObject[], objects);
    await createAll(mesh.objects.filter((o) => o.kind !== 'Namespace') as KubernetesObject[], objects);
    opts.log(`  loaded ${mesh.objects.length} background objects`);
    await custom.createClusterCustomObject({
      group: 'meshmedic.io',
      version: 'v1alpha1',
      plural: 'meshhealthpolicies',
      body: {
        apiVersion: 'meshmedic.io/v1alpha1',
        kind: 'MeshHealthPolicy',
        metadata: { name: 'background' },
        spec: { mode: 'Observe', namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } } },
      },
    });

    const ns = 'bench';
    await core.createNamespace({ body: { metadata: { name: ns } } });
    await objects.create({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: ns },
      spec: { mtls: { mode: 'STRICT' } },
    } as KubernetesObject);
    await custom.createClusterCustomObject({
      group: 'meshmedic.io',
      version: 'v1alpha1',
      plural: 'meshhealthpolicies',
      body: {
        apiVersion: 'meshmedic.io/v1alpha1',
        kind: 'MeshHealthPolicy',
        metadata: { name: 'bench' },
        spec: { mode: 'Propose', namespaces: [ns] },
      },
    });
    for (let i = 0; i < opts.trials; i++) {
      await objects.create({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: `svc-${i}`, namespace: ns },
        spec: { clusterIP: 'None', selector: { app: `svc-${i}` }, ports: [{ port: 8080 }] },
      } as KubernetesObject);
    }

    const steadyResync = 30_000;
    op = new Operator({
      kubeConfig: kc,
      log: pino({ level: 'silent' }),
      namespace: 'meshmedic-system',
      resyncIntervalMs: steadyResync,
    });
    op.start();
    const t0 = Date.now();
    while (!(op.isLeader && op.ready)) {
      if (Date.now() - t0 > 60_000) throw new Error('operator did not become ready');
      await new Promise((r) => setTimeout(r, 50));
    }
    await op.idle();
    opts.log(`  operator ready; caches synced in ${Date.now() - t0} ms`);

    // Event -> proposal latency, seen through a watch like a user's kubectl get -w.
    const seen = new Map<string, number>();
    const watch = new Watch(kc);
    const req = await watch.watch(
      `/apis/meshmedic.io/v1alpha1/namespaces/${ns}/meshremediations`,
      {},
      (_type: string, obj: KubernetesObject) => {
        const name = obj.metadata?.name ?? '';
        if (!seen.has(name)) seen.set(name, performance.now());
      },
      () => undefined,
    );
    const latencies: number[] = [];
    for (let i = 0; i < opts.trials; i++) {
      const name = `svc-${i}`;
      const start = performance.now();
      await objects.create({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name, namespace: ns },
        spec: { host: name, trafficPolicy: { tls: { mode: 'DISABLE' } } },
      } as KubernetesObject);
      const mmr = `mm101-destinationrule-${name}`;
      while (!seen.has(mmr)) {
        if (performance.now() - start > 30_000) throw new Error(`no proposal for ${name} after 30 s`);
        await new Promise((r) => setTimeout(r, 2));
      }
      latencies.push((seen.get(mmr) as number) - start);
    }
    req.abort();
    await op.idle();

    // Steady state: nothing changes; periodic resyncs re-evaluate everything.
    const before = await op.metrics.writesTotal();
    const reconcilesBefore = (await op.metrics.reconciles.get()).values.reduce((s, v) => s + v.value, 0);
    await new Promise((r) => setTimeout(r, opts.steadySeconds * 1000));
    await op.idle();
    const after = await op.metrics.writesTotal();
    const reconcilesAfter = (await op.metrics.reconciles.get()).values.reduce((s, v) => s + v.value, 0);
    opts.log(
      `  steady state: ${reconcilesAfter - reconcilesBefore} reconciles, ${after - before} writes in ${opts.steadySeconds} s`,
    );
    return {
      kubernetesVersion: bins.kubernetesVersion,
      backgroundObjects: mesh.objects.length,
      trials: opts.trials,
      eventToProposalMedianMs: median(latencies),
      eventToProposalP99Ms: percentile(latencies, 99),
      steadySeconds: opts.steadySeconds,
      steadyWrites: after - before,
      resyncsDuringSteadyState: Math.floor((opts.steadySeconds * 1000) / steadyResync),
    };
  } finally {
    await op?.stop();
    await cp.stop();
  }
}
