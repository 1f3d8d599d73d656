// `analyze --policy` reads a MeshHealthPolicy as the cluster does: for each invalid policy, the causes
// meshmedic reports offline are the ones the real API server gives when the policy is applied.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { validateAgainstCrd, type MeshmedicKind } from '../../src/api/crds.js';
import type { SchemaCause } from '../../src/api/crd-validation.js';
import { clients, skipReason, type Clients } from '../testbed/client.js';
import { kubeRequest } from '../testbed/http.js';

const INVALID: Record<string, Record<string, unknown>> = {
  'an unknown mode': { mode: 'Sometimes' },
  'a bound the CRD forbids, a malformed duration and rule id': { rules: [{ id: 'MM1', parameters: { minRouteTimeout: '5 seconds', maxEjectionPercent: 100 } }] },
  'a string for an integer, and one rule listed twice': { rules: [{ id: 'MM107', parameters: { maxEjectionPercent: 'fifty' } }, { id: 'MM107' }] },
  'a too long version, a zero write budget': { istioVersion: 'x'.repeat(40), enforce: { maxWritesPerMinute: 0 } },
  'a rule without id': { rules: [{ parameters: {} }] },
  'a string for a list': { namespaces: 'shop' },
  'a negative bound and a rule mode typo': { rules: [{ id: 'MM107', mode: 'enforce', parameters: { maxEjectionPercent: -1 } }] },
};

interface StatusBody {
  details?: { causes?: SchemaCause[] };
}

const sorted = (causes: SchemaCause[]): SchemaCause[] => causes.map((c) => ({ field: c.field, message: c.message })).sort((a, b) => `${a.field}${a.message}`.localeCompare(`${b.field}${b.message}`));

describe.skipIf(skipReason() !== undefined)('MeshHealthPolicy: meshmedic refuses what the API server refuses, in its words', () => {
  let c: Clients;
  beforeAll(() => {
    c = clients();
  });
  afterAll(async () => {
    await kubeRequest(c.kc, 'DELETE', '/apis/meshmedic.io/v1alpha1/meshhealthpolicies').catch(() => undefined);
  });

  it.each(Object.entries(INVALID))('%s', async (title, spec) => {
    const name = `parity-${Object.keys(INVALID).indexOf(title)}`;
    const object = { apiVersion: 'meshmedic.io/v1alpha1', kind: 'MeshHealthPolicy', metadata: { name }, spec };
    const res = await kubeRequest(c.kc, 'POST', '/apis/meshmedic.io/v1alpha1/meshhealthpolicies', object);
    expect(res.status, res.body).toBe(422);
    const server = (JSON.parse(res.body) as StatusBody).details?.causes ?? [];
    expect(server.length).toBeGreaterThan(0);
    const kind: MeshmedicKind = 'MeshHealthPolicy';
    expect(sorted(validateAgainstCrd(kind, object))).toEqual(sorted(server));
  });
});
