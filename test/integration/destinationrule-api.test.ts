// Create, read, patch (merge, JSON, server-side apply) and watch an Istio DestinationRule on a
// real API server, through @kubernetes/client-node: the calls meshmedic's operator makes.
import { PatchStrategy, setHeaderOptions, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients, skipReason, tempNamespace, type Clients } from '../testbed/client.js';
import { expectApiFailure } from '../testbed/errors.js';

interface DestinationRule extends KubernetesObject {
  spec: {
    host: string;
    trafficPolicy?: {
      connectionPool?: { http?: { idleTimeout?: string }; tcp?: { connectTimeout?: string } };
      tls?: { mode?: string };
    };
    subsets?: { name: string; labels?: Record<string, string> }[];
  };
}

const GROUP = 'networking.istio.io';
const VERSION = 'v1';
const PLURAL = 'destinationrules';

describe.skipIf(skipReason() !== undefined)('DestinationRule through the real API server', () => {
  let c: Clients;
  let ns: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    c = clients();
    ns = await tempNamespace(c.core, 'dr-api');
  });
  afterAll(async () => {
    await ns.remove();
  });

  const rule = (name: string): DestinationRule => ({
    apiVersion: `${GROUP}/${VERSION}`,
    kind: 'DestinationRule',
    metadata: { name, namespace: ns.name },
    spec: {
      host: 'httpbin.default.svc.cluster.local',
      trafficPolicy: { connectionPool: { http: { idleTimeout: '30s' } } },
    },
  });

  it('creates and reads a DestinationRule', async () => {
    const created = await c.objects.create(rule('httpbin'));
    expect(created.metadata?.uid).toBeTruthy();
    const read = await c.objects.read<DestinationRule>({
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'DestinationRule',
      metadata: { name: 'httpbin', namespace: ns.name },
    });
    expect(read.spec.host).toBe('httpbin.default.svc.cluster.local');
    expect(read.spec.trafficPolicy?.connectionPool?.http?.idleTimeout).toBe('30s');
  });

  it('applies a JSON merge patch (application/merge-patch+json)', async () => {
    const patch = {
      apiVersion: `${GROUP}/${VERSION}`,
      kind: 'DestinationRule',
      metadata: { name: 'httpbin', namespace: ns.name },
      spec: { trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
    };
    const patched = await c.objects.patch(patch, undefined, undefined, undefined, undefined, PatchStrategy.MergePatch);
    const spec = (patched as DestinationRule).spec;
    expect(spec.trafficPolicy?.tls?.mode).toBe('ISTIO_MUTUAL');
    // a merge patch keeps what it does not name
    expect(spec.trafficPolicy?.connectionPool?.http?.idleTimeout).toBe('30s');
  });

  it('applies an RFC 6902 JSON patch (application/json-patch+json)', async () => {
    const ops = [
      { op: 'test', path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' },
      { op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: 'SIMPLE' },
      { op: 'add', path: '/spec/subsets', value: [{ name: 'v1', labels: { version: 'v1' } }] },
    ];
    const patched = (await c.custom.patchNamespacedCustomObject(
      { group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name: 'httpbin', body: ops },
      setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
    )) as DestinationRule;
    expect(patched.spec.trafficPolicy?.tls?.mode).toBe('SIMPLE');
    expect(patched.spec.subsets).toEqual([{ name: 'v1', labels: { version: 'v1' } }]);
  });

  it('rejects a JSON patch whose test operation fails, changing nothing', async () => {
    const ops = [
      { op: 'test', path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' },
      { op: 'replace', path: '/spec/host', value: 'other.default.svc.cluster.local' },
    ];
    const failure = await expectApiFailure(() =>
      c.custom.patchNamespacedCustomObject(
        { group: GROUP, version: VERSION, namespace: ns.name, plural: PLURAL, name: 'httpbin', body: ops },
        setHeaderOptions('Content-Type', PatchStrategy.JsonPatch),
      ),
    );
    expect(failure.code).toBe(422);
    const read = (await c.custom.getNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns.name,
      plural: PLURAL,
      name: 'httpbin',
    })) as DestinationRule;
    expect(read.spec.host).toBe('httpbin.default.svc.cluster.local');
  });

  it('server-side applies with a field manager, and reports conflicts with another manager', async () => {
    const applied = rule('reviews');
    applied.spec.trafficPolicy = { connectionPool: { tcp: { connectTimeout: '5s' } } };
    const created = (await c.objects.patch(
      applied,
      undefined,
      undefined,
      'meshmedic-test',
      undefined,
      PatchStrategy.ServerSideApply,
    )) as DestinationRule;
    expect(created.spec.trafficPolicy?.connectionPool?.tcp?.connectTimeout).toBe('5s');
    const managers = created.metadata?.managedFields?.map((m) => `${m.manager}/${m.operation}`);
    expect(managers).toContain('meshmedic-test/Apply');

    const rival = rule('reviews');
    rival.spec.trafficPolicy = { connectionPool: { tcp: { connectTimeout: '9s' } } };
    const conflict = await expectApiFailure(() =>
      c.objects.patch(rival, undefined, undefined, 'someone-else', undefined, PatchStrategy.ServerSideApply),
    );
    expect(conflict.code).toBe(409);
    expect(conflict.message).toContain('connectTimeout');

    const forced = (await c.objects.patch(
      rival,
      undefined,
      undefined,
      'someone-else',
      true,
      PatchStrategy.ServerSideApply,
    )) as DestinationRule;
    expect(forced.spec.trafficPolicy?.connectionPool?.tcp?.connectTimeout).toBe('9s');
  });

  it('watches ADDED, MODIFIED and DELETED events', async () => {
    const list = (await c.custom.listNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      namespace: ns.name,
      plural: PLURAL,
    })) as { metadata: { resourceVersion: string } };
    const events: string[] = [];
    let resolveDeleted: () => void = () => undefined;
    const deleted = new Promise<void>((r) => (resolveDeleted = r));
    const controller = await c.watch.watch(
      `/apis/${GROUP}/${VERSION}/namespaces/${ns.name}/${PLURAL}`,
      { resourceVersion: list.metadata.resourceVersion, allowWatchBookmarks: false },
      (phase: string, obj: DestinationRule) => {
        if (obj.metadata?.name !== 'watched') return;
        events.push(phase);
        if (phase === 'DELETED') resolveDeleted();
      },
      () => undefined,
    );
    try {
      await c.objects.create(rule('watched'));
      await c.objects.patch(
        { ...rule('watched'), spec: { host: 'watched.default.svc.cluster.local' } },
        undefined,
        undefined,
        undefined,
        undefined,
        PatchStrategy.MergePatch,
      );
      await c.objects.delete(rule('watched'));
      await Promise.race([
        deleted,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error(`no DELETED event; saw ${events.join(',')}`)), 20_000),
        ),
      ]);
      expect(events).toEqual(['ADDED', 'MODIFIED', 'DELETED']);
    } finally {
      controller.abort();
    }
  });
});
