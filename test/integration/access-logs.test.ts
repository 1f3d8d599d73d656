// Access-log evidence in the cluster, on the real API server: the operator lists the pods of a namespace a
// policy enables spec.evidence.accessLogs for, reads their istio-proxy logs through pods/log (which the real
// kube-apiserver proxies to the kubelet of the pod's node: here a stub of the kubelet's container-log
// endpoint, kubelet-stub.ts), and proposes the fixes seed 002's log calls for.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/controller/operator.js';
import type { KubeObject } from '../../src/model/types.js';
import { skipReason, type Clients } from '../testbed/client.js';
import { registerStubNode, startKubeletStub, type KubeletStub } from './kubelet-stub.js';
import {
  annotate,
  clients,
  create,
  deletePolicy,
  fingerprintOf,
  namespace,
  phase,
  policy,
  read,
  remediations,
  startOperator,
  waitFor,
} from './operator-harness.js';

const MMR = 'meshmedic.io/v1alpha1';
const NET = 'networking.istio.io/v1';
const SEED_002 = join(import.meta.dirname, '..', 'fixtures', 'logs', 'seed-002-istio-proxy.log');

interface RemediationSpec {
  rule: string;
  targetRef: string;
  target: { apiVersion: string; kind: string; namespace: string; name: string; resourceVersion?: string };
  patches: unknown[];
  create: KubeObject[];
  proposeOnly: boolean;
}

function specOf(mmr: KubeObject): RemediationSpec {
  return mmr.spec as RemediationSpec;
}

describe.skipIf(skipReason() !== undefined)('access-log evidence on a real API server', () => {
  let c: Clients;
  let op: Operator;
  let stub: KubeletStub;
  let seedLog: string;
  const node = `mm-kubelet-stub-${Date.now().toString(36)}`;
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    seedLog = await readFile(SEED_002, 'utf8');
    stub = await startKubeletStub();
    cleanups.push(() => stub.close());
    cleanups.push(await registerStubNode(c.kc, c.core, node, stub.port));
    const leaseNs = await namespace(c, 'mm-system');
    cleanups.push(leaseNs.remove);
    op = await startOperator(c, leaseNs.name);
    cleanups.push(() => op.stop());
  });
  afterAll(async () => {
    for (const f of cleanups.reverse()) await f().catch(() => undefined);
  });

  /** A namespace with a meshed pod on the stub's node, a pod without a sidecar, and a policy. */
  async function scenario(
    prefix: string,
    log: string | ((ns: string) => string),
    accessLogs: Record<string, unknown>,
    honorTailLines = true,
    mode = 'Propose',
  ): Promise<string> {
    const ns = await namespace(c, prefix);
    cleanups.push(ns.remove);
    await c.core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'shop', labels: { app: 'shop' } },
        spec: {
          nodeName: node,
          containers: [
            { name: 'app', image: 'registry.example/shop:1' },
            { name: 'istio-proxy', image: 'docker.io/istio/proxyv2:1.28.0' },
          ],
        },
      },
    });
    await c.core.createNamespacedPod({
      namespace: ns.name,
      body: {
        metadata: { name: 'batch' },
        spec: { nodeName: node, containers: [{ name: 'worker', image: 'registry.example/batch:1' }] },
      },
    });
    stub.setLog(ns.name, 'shop', 'istio-proxy', { text: typeof log === 'string' ? log : log(ns.name), honorTailLines });
    stub.setLog(ns.name, 'batch', 'worker', { text: seedLog });
    const name = `${ns.name}-policy`;
    cleanups.push(() => deletePolicy(c, name));
    await create(c, policy(name, ns.name, mode, { evidence: { accessLogs: { enabled: true, ...accessLogs } } }));
    return ns.name;
  }

  // Test order matters: a ServiceEntry meshmedic creates (the MM104 approval below, Enforce) declares its host
  // for the whole mesh, as Istio's default exportTo does, so later reads of the same log no longer call for it.
  it('Observe: the findings go to the policy status and Events, nothing is proposed', async () => {
    const ns = await scenario('logs-observe', seedLog, {}, true, 'Observe');
    const status = await waitFor('the findings in the policy status', async () => {
      const s = (await read(c, MMR, 'MeshHealthPolicy', undefined, `${ns}-policy`))?.status as
        { findings?: { byRule?: Record<string, number> } } | undefined;
      return s?.findings?.byRule?.['MM104'] && s.findings.byRule['MM105'] === 2 ? s : undefined;
    });
    expect(status.findings?.byRule).toEqual({ MM104: 1, MM105: 2 });
    await op.idle();
    const events = (await c.core.listNamespacedEvent({ namespace: ns })).items.filter(
      (e) => e.reason === 'FindingDetected',
    );
    expect(events.map((e) => `${e.involvedObject.kind}/${e.involvedObject.name}`).sort()).toEqual([
      'AccessLogEvidence/mm104-logs-serviceentry-external-service-com',
      'AccessLogEvidence/mm105-logs-virtualservice-apisvc-prod-com',
      'AccessLogEvidence/mm105-logs-virtualservice-testservice-prod-com',
    ]);
    expect(await remediations(c, ns)).toEqual([]);
  });

  it('never reads more than maxLinesPerPod lines of a pod, even when the server sends more', async () => {
    // The newest lines first and a kubelet that ignores tailLines: only the first two lines (the two 504 UT)
    // may be read; reading on would also find seed 002's 503 UF through PassthroughCluster (MM104).
    const reversed = `${seedLog.trimEnd().split('\n').reverse().join('\n')}\n`;
    const ns = await scenario('logs-bounded', reversed, { maxLinesPerPod: 2, sinceSeconds: 120 }, false);
    await waitFor('the log read', () => stub.requests.some((r) => r.namespace === ns && r.pod === 'shop'));
    await op.collectAccessLogs();
    await op.idle();
    const shop = stub.requests.filter((r) => r.namespace === ns && r.pod === 'shop');
    expect(shop.every((r) => r.query.get('tailLines') === '2' && r.query.get('sinceSeconds') === '120')).toBe(true);
    expect((await remediations(c, ns)).map((r) => specOf(r).rule).sort()).toEqual(['MM105', 'MM105']);
  });

  it('reads the istio-proxy log through pods/log and proposes the fixes of seed 002 (MM104, MM105); an unchanged log writes nothing', async () => {
    const ns = await scenario('logs', seedLog, {});
    const proposed = await waitFor('three proposals', async () => {
      const list = (await remediations(c, ns)).filter((r) => phase(r) === 'Proposed');
      return list.length >= 3 ? list : undefined;
    });
    await op.idle();
    const all = await remediations(c, ns);
    expect(all.map((r) => r.metadata.name).sort()).toEqual([
      'mm104-logs-serviceentry-external-service-com',
      'mm105-logs-virtualservice-apisvc-prod-com',
      'mm105-logs-virtualservice-testservice-prod-com',
    ]);
    expect(proposed).toHaveLength(3);

    // The log request went through the real API server to the kubelet's endpoint, with the policy's bounds.
    const shop = stub.requests.filter((r) => r.namespace === ns && r.pod === 'shop');
    expect(shop.length).toBeGreaterThanOrEqual(1);
    for (const r of shop) {
      expect(r.container).toBe('istio-proxy');
      expect(r.query.get('tailLines')).toBe('5000');
      expect(r.query.get('sinceSeconds')).toBe('600');
      expect(r.query.get('follow')).toBeNull();
    }
    // A pod without an istio-proxy container is not read.
    expect(stub.requests.some((r) => r.namespace === ns && r.pod === 'batch')).toBe(false);

    const byName = new Map(all.map((r) => [r.metadata.name, r]));
    const mm104 = byName.get('mm104-logs-serviceentry-external-service-com') as KubeObject;
    expect(specOf(mm104).rule).toBe('MM104');
    expect(specOf(mm104).targetRef).toBe('ServiceEntry/external-service-com');
    expect(specOf(mm104).target).toMatchObject({
      apiVersion: MMR,
      kind: 'AccessLogEvidence',
      namespace: ns,
      name: 'mm104-logs-serviceentry-external-service-com',
    });
    expect(mm104.metadata.labels?.['meshmedic.io/source']).toBe('access-logs');
    expect(specOf(mm104).create).toEqual([
      {
        apiVersion: NET,
        kind: 'ServiceEntry',
        metadata: {
          name: 'external-service-com',
          namespace: ns,
          annotations: { 'meshmedic.io/generated-by': 'MM104' },
        },
        spec: {
          hosts: ['external.service.com'],
          location: 'MESH_EXTERNAL',
          ports: [{ number: 80, name: 'http-80', protocol: 'HTTP' }],
          resolution: 'DNS',
        },
      },
    ]);
    for (const host of ['testservice.prod.com', 'apisvc.prod.com']) {
      const mmr = byName.get(`mm105-logs-virtualservice-${host.replaceAll('.', '-')}`) as KubeObject;
      expect(specOf(mmr).rule).toBe('MM105');
      const vs = specOf(mmr).create.find((o) => o.kind === 'VirtualService');
      expect(vs?.metadata.namespace).toBe(ns);
      expect(vs?.spec).toEqual({ hosts: [host], http: [{ timeout: '30s', route: [{ destination: { host } }] }] });
      expect(specOf(mmr).create.find((o) => o.kind === 'ServiceEntry')?.spec).toMatchObject({
        hosts: [host],
        location: 'MESH_EXTERNAL',
      });
    }

    // A second read of the unchanged log: the same findings, nothing written.
    const writes = await op.metrics.writesTotal();
    const reads = stub.requests.length;
    await op.collectAccessLogs();
    await op.idle();
    expect(stub.requests.length).toBeGreaterThan(reads);
    expect(await op.metrics.writesTotal()).toBe(writes);
    expect((await remediations(c, ns)).map((r) => `${r.metadata.name}:${phase(r)}`).sort()).toEqual(
      all.map((r) => `${r.metadata.name}:Proposed`).sort(),
    );

    // More requests of the same kinds: the counts in the findings change, the fixes do not: nothing written.
    stub.setLog(ns, 'shop', 'istio-proxy', { text: seedLog + seedLog + seedLog });
    await op.collectAccessLogs();
    await op.idle();
    expect(await op.metrics.writesTotal()).toBe(writes);

    // Approving the MM104 proposal creates the ServiceEntry; the log still shows the old 503 UF, but the host is
    // declared now: the next read proposes nothing new and writes nothing.
    await annotate(
      c,
      { apiVersion: MMR, kind: 'MeshRemediation', namespace: ns, name: mm104.metadata.name },
      { 'meshmedic.io/approve': fingerprintOf(mm104) },
    );
    const se = await waitFor('the ServiceEntry created', () =>
      read(c, NET, 'ServiceEntry', ns, 'external-service-com'),
    );
    expect((se.spec as { hosts: string[] }).hosts).toEqual(['external.service.com']);
    await waitFor(
      'MM104 Applied',
      async () => phase(await read(c, MMR, 'MeshRemediation', ns, mm104.metadata.name)) === 'Applied',
    );
    await op.collectAccessLogs();
    await op.idle();
    const settled = await op.metrics.writesTotal();
    await op.collectAccessLogs();
    await op.idle();
    expect(await op.metrics.writesTotal()).toBe(settled);
    expect((await remediations(c, ns)).map((r) => `${r.metadata.name}:${phase(r)}`).sort()).toEqual([
      'mm104-logs-serviceentry-external-service-com:Applied',
      'mm105-logs-virtualservice-apisvc-prod-com:Proposed',
      'mm105-logs-virtualservice-testservice-prod-com:Proposed',
    ]);
  });

  it('Enforce proposes the evidence fixes: each creates an object because something is absent, never applied automatically', async () => {
    // seed 002's log as the namespace's own proxies write it (the inbound 503 UC is srv-a of this namespace),
    // with external hosts of its own (external.service.<tag>.test, ...): the ones of the seed are declared by now.
    const tag = Math.random().toString(36).slice(2, 6);
    const ns = await scenario(
      'logs-enforce',
      (n) => seedLog.replaceAll('.xyz', `.${n}`).replaceAll('.com', `.${tag}.test`),
      {},
      true,
      'Enforce',
    );
    const names = [
      `mm104-logs-serviceentry-external-service-${tag}-test`,
      `mm105-logs-virtualservice-apisvc-prod-${tag}-test`,
      `mm105-logs-virtualservice-testservice-prod-${tag}-test`,
      'mm106-logs-destinationrule-srv-a-keepalive',
    ];
    await waitFor(
      'four proposals',
      async () => (await remediations(c, ns)).filter((r) => phase(r) === 'Proposed').length === 4,
    );
    await op.idle();
    expect((await remediations(c, ns)).map((r) => `${r.metadata.name}:${phase(r)}`).sort()).toEqual(
      names.map((n) => `${n}:Proposed`),
    );
    const mm106 = await read(c, MMR, 'MeshRemediation', ns, 'mm106-logs-destinationrule-srv-a-keepalive');
    if (!mm106) throw new Error('no MM106 proposal');
    expect(specOf(mm106).proposeOnly).toBe(true);
    expect((mm106.status as { message: string }).message).toContain('proposed only');
    const mm104 = await read(c, MMR, 'MeshRemediation', ns, names[0] ?? '');
    expect((mm104?.status as { message: string }).message).toContain('never applied automatically');
    expect(specOf(mm106).create.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      `DestinationRule/${ns}/srv-a-keepalive`,
    ]);
    expect(await read(c, NET, 'DestinationRule', ns, 'srv-a-keepalive')).toBeUndefined();
    expect(await read(c, NET, 'ServiceEntry', ns, `external-service-${tag}-test`)).toBeUndefined();
    expect(await read(c, NET, 'VirtualService', ns, `testservice-prod-${tag}-test`)).toBeUndefined();
  });
});
