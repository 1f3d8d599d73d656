// The operator watches what the rules read (src/controller/watched.ts): pods and workloads for MM210, Secrets
// reduced on receipt, and the Gateway API when the API server serves it (the test bed installs its
// standard channel; the unserved path is test/unit/controller/watched.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/controller/operator.js';
import type { KubeObject } from '../../src/model/types.js';
import { skipReason, type Clients } from '../testbed/client.js';
import {
  capturingLog,
  clients,
  create,
  deletePolicy,
  namespace,
  policy,
  read,
  startOperator,
  waitFor,
} from './operator-harness.js';

describe.skipIf(skipReason() !== undefined)(
  'operator watches: workloads, Secrets, optional kinds (real API server)',
  () => {
    let c: Clients;
    let op: Operator;
    let leaseNs: { name: string; remove: () => Promise<void> };
    const captured = capturingLog('info');
    const cleanups: (() => Promise<void>)[] = [];

    beforeAll(async () => {
      c = clients();
      leaseNs = await namespace(c, 'mm-watch');
      op = await startOperator(c, leaseNs.name, { log: captured.log, settleMs: 200 });
    });
    afterAll(async () => {
      await op?.stop();
      for (const f of cleanups.reverse()) await f();
      await leaseNs?.remove();
    });

    async function byRule(policyName: string): Promise<Record<string, number>> {
      const p = await read(c, 'meshmedic.io/v1alpha1', 'MeshHealthPolicy', undefined, policyName);
      return (p?.status as { findings?: { byRule?: Record<string, number> } } | undefined)?.findings?.byRule ?? {};
    }

    it('MM210: a subset selecting no pod is found; a Deployment whose pods carry its labels clears it', async () => {
      const ns = await namespace(c, 'mm210');
      const name = `${ns.name}-policy`;
      cleanups.push(ns.remove, () => deletePolicy(c, name));
      const objects: KubeObject[] = [
        {
          apiVersion: 'v1',
          kind: 'Service',
          metadata: { name: 'reviews', namespace: ns.name },
          spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] },
        },
        {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: 'reviews-v1', namespace: ns.name, labels: { app: 'reviews', version: 'v1' } },
          spec: {
            containers: [
              {
                name: 'app',
                image: 'registry.example/reviews:1',
                env: [{ name: 'SETTING', value: 'kept-out-of-the-cache' }],
                ports: [{ containerPort: 9080 }],
              },
            ],
          },
        },
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'reviews', namespace: ns.name },
          spec: {
            host: 'reviews',
            subsets: [
              { name: 'v1', labels: { version: 'v1' } },
              { name: 'v2', labels: { version: 'v2' } },
            ],
          },
        },
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          metadata: { name: 'reviews', namespace: ns.name },
          spec: { hosts: ['reviews'], http: [{ route: [{ destination: { host: 'reviews', subset: 'v2' } }] }] },
        },
      ];
      for (const o of objects) await create(c, o);
      await create(c, policy(name, ns.name, 'Observe'));
      await waitFor('MM210 in the policy status', async () => (await byRule(name))['MM210'] === 1, 30_000);

      // The Pod in the operator's cache is what rules read, no more.
      const pod = op.index.get(`Pod/${ns.name}/reviews-v1`)?.object;
      expect(pod?.metadata.labels).toEqual({ app: 'reviews', version: 'v1' });
      expect(pod?.spec).toEqual({ containers: [{ name: 'app', ports: [{ containerPort: 9080, protocol: 'TCP' }] }] });

      // A status update (what a kubelet sends all day) changes nothing rules read: nothing is judged again.
      await op.idle();
      const reconciles = async (): Promise<number> =>
        (await op.metrics.reconciles.get()).values.reduce((n, v) => n + v.value, 0);
      const before = await reconciles();
      const live = await c.core.readNamespacedPod({ name: 'reviews-v1', namespace: ns.name });
      const updated = await c.core.replaceNamespacedPodStatus({
        name: 'reviews-v1',
        namespace: ns.name,
        body: { ...live, status: { phase: 'Running', podIP: '10.1.2.3' } },
      });
      await waitFor(
        'the new resourceVersion in the cache',
        () =>
          op.index.get(`Pod/${ns.name}/reviews-v1`)?.object.metadata.resourceVersion ===
          updated.metadata?.resourceVersion,
      );
      await op.idle();
      expect(await reconciles()).toBe(before);

      await create(c, {
        apiVersion: 'apps/v1',
        kind: 'Deployment',
        metadata: { name: 'reviews-v2', namespace: ns.name },
        spec: {
          selector: { matchLabels: { app: 'reviews', version: 'v2' } },
          template: {
            metadata: { labels: { app: 'reviews', version: 'v2' } },
            spec: { containers: [{ name: 'app', image: 'registry.example/reviews:2' }] },
          },
        },
      } as KubeObject);
      await waitFor(
        'MM210 gone from the policy status',
        async () => (await byRule(name))['MM210'] === undefined,
        30_000,
      );
    });

    it('MM301 through the Gateway API: an HTTPRoute to a missing Service is found, creating the Service clears it', async () => {
      const ns = await namespace(c, 'mm301');
      const name = `${ns.name}-policy`;
      cleanups.push(ns.remove, () => deletePolicy(c, name));
      await create(c, {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'gw', namespace: ns.name },
        spec: { gatewayClassName: 'istio', listeners: [{ name: 'http', port: 80, protocol: 'HTTP' }] },
      });
      await create(c, {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: { name: 'reviews', namespace: ns.name },
        spec: { parentRefs: [{ name: 'gw' }], rules: [{ backendRefs: [{ name: 'reviews', port: 9080 }] }] },
      });
      await create(c, policy(name, ns.name, 'Observe'));
      await waitFor('MM301 in the policy status', async () => (await byRule(name))['MM301'] === 1, 30_000);
      expect(await byRule(name)).toEqual({ MM301: 1 });

      await create(c, {
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name: 'reviews', namespace: ns.name },
        spec: { selector: { app: 'reviews' }, ports: [{ name: 'http', port: 9080 }] },
      });
      await waitFor(
        'MM301 gone from the policy status',
        async () => (await byRule(name))['MM301'] === undefined,
        30_000,
      );
    });

    it('keeps a Secret as its name, type and key names: no value in the cache', async () => {
      const ns = await namespace(c, 'mm-secret');
      cleanups.push(ns.remove);
      const value = 'dG9wLXNlY3JldC12YWx1ZQ==';
      await c.core.createNamespacedSecret({
        namespace: ns.name,
        body: {
          metadata: { name: 'cert', annotations: { note: value } },
          type: 'kubernetes.io/tls',
          data: { 'tls.crt': value, 'tls.key': value },
        },
      });
      const secret = await waitFor(
        'the Secret in the operator cache',
        () => op.index.get(`Secret/${ns.name}/cert`)?.object,
      );
      expect(secret).toMatchObject({ type: 'kubernetes.io/tls', keys: ['tls.crt', 'tls.key'] });
      expect(JSON.stringify(secret)).not.toContain(value);
      expect(JSON.stringify(captured.records)).not.toContain(value);
    });

    it('watches the Gateway API when served, and says so; an unserved kind is logged and reported unwatched', async () => {
      const served = await c.objects.list('gateway.networking.k8s.io/v1', 'HTTPRoute').then(
        () => true,
        () => false,
      );
      const gauge = await op.metrics.watchedKinds.get();
      const watched = (kind: string): string | undefined =>
        gauge.values.find((v) => v.labels['kind'] === kind && v.value === 1)?.labels['watched'] as string | undefined;
      expect([watched('Pod'), watched('Deployment'), watched('Node'), watched('Secret')]).toEqual([
        'true',
        'true',
        'true',
        'true',
      ]);
      expect(watched('HTTPRoute')).toBe(served ? 'true' : 'false');
      if (!served) {
        const lines = captured.records.filter((r) => r['kind'] === 'HTTPRoute' && /not watched/.test(String(r['msg'])));
        expect(lines.map((r) => String(r['reason']))).toEqual([expect.stringMatching(/not served/)]);
      }
      expect(op.ready).toBe(true);
    });
  },
);
