// The write-loop breaker of RemediationWriter on a real API server: two decisions that disagree would
// rewrite a proposal's status forever; the writer stops after 12 writes in a minute and says so in an Event.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OperatorMetrics } from '../../src/controller/metrics.js';
import { RemediationStore } from '../../src/controller/remediation-store.js';
import { RemediationWriter, WriteLoopError } from '../../src/controller/remediation-writer.js';
import { KubeClient } from '../../src/kube/kube-client.js';
import { skipReason, type Clients } from '../testbed/client.js';
import { clients, create, namespace, read } from './operator-harness.js';

describe.skipIf(skipReason() !== undefined)('the write-loop breaker (real API server)', () => {
  let c: Clients;
  let ns: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    c = clients();
    ns = await namespace(c, 'write-loop');
  });
  afterAll(async () => {
    await ns?.remove();
  });

  it('writes a status 12 times in a minute, refuses the 13th, and records one WriteLoop Event', async () => {
    const target = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      namespace: ns.name,
      name: 'httpbin',
    };
    let mmr = await create(c, {
      apiVersion: 'meshmedic.io/v1alpha1',
      kind: 'MeshRemediation',
      metadata: { name: 'mm101-destinationrule-httpbin', namespace: ns.name },
      spec: { rule: 'MM101', severity: 'error', targetRef: 'DestinationRule/httpbin', target, patches: [], create: [] },
    });
    const store = new RemediationStore();
    const writer = new RemediationWriter({
      client: new KubeClient(c.kc),
      metrics: new OperatorMetrics(),
      store,
      live: () => undefined,
      reindex: () => undefined,
      unindex: () => undefined,
    });
    const key = `${ns.name}/${mmr.metadata.name}`;
    for (let i = 0; i < 12; i++) {
      await writer.setPhase(mmr, 'Proposed', 'NotCovered', `wording ${i % 2}`);
      mmr = store.get(key) ?? mmr;
    }
    await expect(writer.setPhase(mmr, 'Proposed', 'NotCovered', 'wording 2')).rejects.toBeInstanceOf(WriteLoopError);
    await expect(writer.setPhase(mmr, 'Proposed', 'NotCovered', 'wording 3')).rejects.toBeInstanceOf(WriteLoopError);
    const events = (await c.core.listNamespacedEvent({ namespace: ns.name })).items.filter(
      (e) => e.reason === 'WriteLoop',
    );
    expect(events).toHaveLength(1);
    expect(events[0]?.involvedObject.name).toBe('mm101-destinationrule-httpbin');
    expect(events[0]?.message).toContain('written 12 times in a minute');
    // The last status written is the 12th: nothing after the breaker tripped.
    expect(
      (await read(c, 'meshmedic.io/v1alpha1', 'MeshRemediation', ns.name, mmr.metadata.name))?.status,
    ).toMatchObject({ message: 'wording 1' });
  });
});
