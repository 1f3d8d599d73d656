// `analyze --policy` reads a MeshHealthPolicy as the cluster does: for each invalid policy, the problems
// meshmedic's one parser (parsePolicy, used offline and by the operator) attributes to the CRD's schema
// are the causes the real API server gives when the policy is created.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { undeclaredFields } from '../../src/api/crds.js';
import type { SchemaCause } from '../../src/api/crd-validation.js';
import { PARAMETERS } from '../../src/catalogue/parameters.js';
import { parsePolicy } from '../../src/controller/policies.js';
import type { KubeObject } from '../../src/model/types.js';
import { clients, skipReason, type Clients } from '../testbed/client.js';
import { kubeRequest } from '../testbed/http.js';

const MAX_EJECTION = PARAMETERS.maxEjectionPercent.maximum;

const INVALID: Record<string, Record<string, unknown>> = {
  'an unknown mode': { mode: 'Sometimes' },
  'a bound the CRD forbids, a malformed duration and rule id': {
    rules: [{ id: 'MM1', parameters: { minRouteTimeout: '5 seconds', maxEjectionPercent: MAX_EJECTION + 1 } }],
  },
  'a string for an integer, and one rule listed twice': {
    rules: [{ id: 'MM107', parameters: { maxEjectionPercent: 'fifty' } }, { id: 'MM107' }],
  },
  'a too long version, a zero write budget': { istioVersion: 'x'.repeat(40), enforce: { maxWritesPerMinute: 0 } },
  'a rule without id': { rules: [{ parameters: {} }] },
  'a string for a list': { namespaces: 'shop' },
  'a negative bound and a rule mode typo': {
    rules: [{ id: 'MM107', mode: 'enforce', parameters: { maxEjectionPercent: -1 } }],
  },
  'a selector without operator, an unknown operator, a too long namespace': {
    namespaces: ['n'.repeat(64)],
    namespaceSelector: { matchExpressions: [{ key: 'env' }, { key: 'tier', operator: 'Within', values: ['a'] }] },
  },
  'a string for a boolean, a float for an integer': {
    rules: [
      { id: 'MM101', enabled: 'yes' },
      { id: 'MM107', parameters: { maxEjectionPercent: 1.5 } },
    ],
  },
  'access logs out of bounds, a malformed container, an empty one': {
    evidence: { accessLogs: { enabled: true, sinceSeconds: 86_401, intervalSeconds: 5, container: 'Istio_Proxy' } },
  },
  'an empty container name': { evidence: { accessLogs: { container: '' } } },
  'a list for an object': { enforce: [] },
};
interface StatusBody {
  details?: { causes?: SchemaCause[] };
}

const sorted = (causes: SchemaCause[]): SchemaCause[] =>
  causes
    .map((c) => ({ field: c.field, message: c.message }))
    .sort((a, b) => `${a.field}${a.message}`.localeCompare(`${b.field}${b.message}`));

describe.skipIf(skipReason() !== undefined)(
  'MeshHealthPolicy: meshmedic refuses what the API server refuses, in its words',
  () => {
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
      const ours = parsePolicy(object as KubeObject).problems.filter((p) => p.schema);
      expect(sorted(ours)).toEqual(sorted(server));
    });

    it('names the fields the CRD does not declare as strict field validation (kubectl apply) does', async () => {
      const spec = {
        rules: [{ id: 'MM104', parameters: { externalServiceDefaults: { resolution: 'DNS' }, maxEjectionPercnt: 30 } }],
        modes: 'Observe',
      };
      const object = {
        apiVersion: 'meshmedic.io/v1alpha1',
        kind: 'MeshHealthPolicy',
        metadata: { name: 'parity-unknown' },
        spec,
      };
      const res = await kubeRequest(
        c.kc,
        'POST',
        '/apis/meshmedic.io/v1alpha1/meshhealthpolicies?fieldValidation=Strict',
        object,
      );
      expect(res.status, res.body).toBe(400);
      const ours = undeclaredFields('MeshHealthPolicy', object);
      expect(ours.sort()).toEqual([
        'spec.modes',
        'spec.rules[0].parameters.externalServiceDefaults',
        'spec.rules[0].parameters.maxEjectionPercnt',
      ]);
      const message = (JSON.parse(res.body) as { message: string }).message;
      for (const f of ours) expect(message).toContain(`unknown field "${f}"`);
    });
  },
);
