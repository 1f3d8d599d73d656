// deploy/admission.yaml on a real API server: a MeshRemediation naming a target in another namespace is
// refused at admission (the CRD's CEL cannot see metadata.namespace; a ValidatingAdmissionPolicy can).
import { readFileSync } from 'node:fs';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/model/types.js';
import { skipReason, type Clients } from '../testbed/client.js';
import { clients, namespace, waitFor } from './operator-harness.js';

const MMR = 'meshmedic.io/v1alpha1';
const policyObjects = loadAll(
  readFileSync(new URL('../../deploy/admission.yaml', import.meta.url), 'utf8'),
) as KubeObject[];

function remediation(ns: string, targetNs: string, name: string): KubernetesObject {
  return {
    apiVersion: MMR,
    kind: 'MeshRemediation',
    metadata: { name, namespace: ns },
    spec: {
      rule: 'MM101',
      severity: 'error',
      targetRef: 'DestinationRule/httpbin',
      target: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: targetNs, name: 'httpbin' },
      patches: [],
      create: [],
    },
  } as KubernetesObject;
}

describe.skipIf(skipReason() !== undefined)('deploy/admission.yaml (real API server)', () => {
  let c: Clients;
  let a: { name: string; remove: () => Promise<void> };

  beforeAll(async () => {
    c = clients();
    a = await namespace(c, 'admission');
    for (const o of policyObjects)
      await c.objects.patch(
        o as KubernetesObject,
        undefined,
        undefined,
        'meshmedic-deploy-test',
        true,
        PatchStrategy.ServerSideApply,
      );
  });
  afterAll(async () => {
    // Cluster-scoped: removed, so that other test files may forge what this one forbids.
    for (const o of [...policyObjects].reverse()) await c.objects.delete(o as KubernetesObject).catch(() => undefined);
    // ... and gone from the API server's view before the next file runs.
    await waitFor(
      'the policy to be unloaded',
      async () => {
        const probe = remediation(a.name, 'elsewhere', `unloaded-${Date.now().toString(36)}`);
        return c.objects.create(probe).then(
          () => true,
          () => false,
        );
      },
      30_000,
    );
    await a?.remove();
  });

  it('refuses a MeshRemediation whose target is in another namespace, with the reason', async () => {
    // The policy takes effect once the API server has loaded it: retried until it refuses.
    const err = await waitFor(
      'the policy to refuse',
      async () => {
        try {
          await c.objects.create(remediation(a.name, 'payments', `probe-${Date.now().toString(36)}`));
          return undefined;
        } catch (e) {
          return e as { code?: number; body?: unknown };
        }
      },
      30_000,
    );
    expect(err.code).toBe(403);
    expect(JSON.stringify(err.body)).toContain(
      `spec.target.namespace payments is not this MeshRemediation's namespace ${a.name}`,
    );
  });

  it('admits one that names its own namespace', async () => {
    const created = await c.objects.create(remediation(a.name, a.name, 'own-namespace'));
    expect(created.metadata?.name).toBe('own-namespace');
  });
});
