// The real CRD schemas reject what they must: Istio's own (installed from the pinned Istio API
// module) and meshmedic's (crds/*.yaml). Also checks what meshmedic's CRDs accept and print.
import type { KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients, skipReason, tempNamespace, type Clients } from '../testbed/client.js';
import { expectApiFailure } from '../testbed/errors.js';
import { kubeRequest } from '../testbed/http.js';

interface Obj extends KubernetesObject {
  spec: Record<string, unknown>;
}

describe.skipIf(skipReason() !== undefined)('CRD schemas on the real API server', () => {
  let c: Clients;
  let ns: { name: string; remove: () => Promise<void> };
  const created: Obj[] = [];

  beforeAll(async () => {
    c = clients();
    ns = await tempNamespace(c.core, 'crd-schemas');
  });
  afterAll(async () => {
    for (const o of created) await c.objects.delete(o).catch(() => undefined);
    await ns.remove();
  });

  const destinationRule = (spec: Record<string, unknown>): Obj => ({
    apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule',
    metadata: { name: 'wrong-type', namespace: ns.name }, spec,
  });

  it.each([
    { field: 'spec.host', spec: { host: 5 } },
    { field: 'spec.trafficPolicy.tls.mode', spec: { host: 'httpbin', trafficPolicy: { tls: { mode: 42 } } } },
  ])("Istio's DestinationRule schema rejects a wrong type in $field", async ({ field, spec }) => {
    const failure = await expectApiFailure(() => c.objects.create(destinationRule(spec)));
    expect(failure.code).toBe(422);
    expect(failure.reason).toBe('Invalid');
    expect(failure.message).toContain(field);
  });

  const policy = (name: string, spec: Record<string, unknown>): Obj => ({
    apiVersion: 'meshmedic.io/v1alpha1', kind: 'MeshHealthPolicy', metadata: { name }, spec,
  });

  it('MeshHealthPolicy rejects spec.mode: Sometimes', async () => {
    const failure = await expectApiFailure(() => c.objects.create(policy('bad-mode', { mode: 'Sometimes' })));
    expect(failure.code).toBe(422);
    expect(failure.message).toContain('spec.mode');
    expect(failure.message).toContain('Sometimes');
  });

  it('MeshHealthPolicy rejects a malformed rule id and duration', async () => {
    const failure = await expectApiFailure(() => c.objects.create(policy('bad-rule', {
      rules: [{ id: 'MM1', parameters: { minRouteTimeout: '5 seconds' } }],
    })));
    expect(failure.code).toBe(422);
    expect(failure.message).toContain('spec.rules[0].id');
    expect(failure.message).toContain('spec.rules[0].parameters.minRouteTimeout');
  });

  it('MeshHealthPolicy accepts a full spec and defaults mode to Propose', async () => {
    const p = policy(`it-full-${Date.now().toString(36)}`, {
      namespaces: ['shop'],
      namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
      rules: [{ id: 'MM101', enabled: true, mode: 'Enforce', parameters: {
        minRouteTimeout: '1s', defaultRouteTimeout: '15s', keepAliveIdleTimeout: '1h',
        externalServiceDefaults: { resolution: 'DNS', ports: [{ number: 443, protocol: 'TLS', name: 'tls' }] },
      } }],
      exclusions: [{ namespace: 'legacy', kind: 'VirtualService', name: 'old' }],
      enforce: { maxWritesPerMinute: 10 },
      istioVersion: '1.28',
    });
    const got = (await c.objects.create(p)) as Obj;
    created.push(got);
    expect(got.spec.mode).toBe('Propose');
  });

  it('MeshRemediation accepts a proposal and prints Rule, Target, Severity, Phase, Age', async () => {
    const r: Obj = {
      apiVersion: 'meshmedic.io/v1alpha1', kind: 'MeshRemediation',
      metadata: { name: 'mm101-httpbin', namespace: ns.name },
      spec: {
        rule: 'MM101', severity: 'error', targetRef: 'DestinationRule/httpbin',
        target: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: ns.name, name: 'httpbin' },
        message: 'idleTimeout is longer than the upstream keep-alive',
        evidence: ['upstream closes idle connections after 5s', { field: 'spec.trafficPolicy', value: { idle: '1h' } }],
        patches: [{ target: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: ns.name, name: 'httpbin' }, patch: [{ op: 'replace', path: '/spec/trafficPolicy/connectionPool/http/idleTimeout', value: '4s' }] }],
        approved: false,
      },
    };
    created.push((await c.objects.create(r)) as Obj);
    const table = await kubeRequest(c.kc, 'GET', `/apis/meshmedic.io/v1alpha1/namespaces/${ns.name}/meshremediations`,
      undefined, undefined, 'application/json;as=Table;v=v1;g=meta.k8s.io');
    expect(table.status).toBe(200);
    const parsed = JSON.parse(table.body) as { columnDefinitions: { name: string }[]; rows: { cells: unknown[] }[] };
    expect(parsed.columnDefinitions.map((d) => d.name)).toEqual(['Name', 'Rule', 'Target', 'Severity', 'Phase', 'Age']);
    expect(parsed.rows[0]?.cells.slice(0, 4)).toEqual(['mm101-httpbin', 'MM101', 'DestinationRule/httpbin', 'error']);
  });

  it('MeshRemediation rejects a move operation without from', async () => {
    const failure = await expectApiFailure(() => c.objects.create({
      apiVersion: 'meshmedic.io/v1alpha1', kind: 'MeshRemediation',
      metadata: { name: 'bad-move', namespace: ns.name },
      spec: {
        rule: 'MM101', severity: 'warning', target: { apiVersion: 'v1', kind: 'Service', name: 'x' },
        patches: [{ target: { apiVersion: 'v1', kind: 'Service', name: 'x' }, patch: [{ op: 'move', path: '/spec/a' }] }],
      },
    } as Obj));
    expect(failure.code).toBe(422);
    expect(failure.message).toContain('move and copy operations need from');
  });
});
