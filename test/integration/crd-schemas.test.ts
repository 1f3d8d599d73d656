// The real CRD schemas reject what they must: Istio's own (installed from the pinned Istio API
// module) and meshmedic's (crds/*.yaml). Also checks what meshmedic's CRDs accept and print.
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clients, skipReason, tempNamespace, type Clients } from '../testbed/client.js';
import { expectApiFailure } from '../testbed/errors.js';
import { kubeGetJson, kubeRequest } from '../testbed/http.js';

interface Obj extends KubernetesObject {
  spec: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const MESHMEDIC = 'meshmedic.io/v1alpha1';
const TABLE = 'application/json;as=Table;v=v1;g=meta.k8s.io';
const IMMUTABLE = "is immutable: a MeshRemediation's identity is fixed when meshmedic creates it";

interface Table {
  columnDefinitions: { name: string; type: string; priority: number }[];
  rows: { cells: unknown[] }[];
}

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
}

/** The printer columns of a CRD's first version, as the API server stores them. */
async function printerColumns(c: Clients, crd: string): Promise<PrinterColumn[]> {
  const got = await kubeGetJson<{ spec: { versions: { additionalPrinterColumns?: PrinterColumn[] }[] } }>(
    c.kc,
    `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${crd}`,
  );
  return got.spec.versions[0]?.additionalPrinterColumns ?? [];
}

/** One object as the table `kubectl get` prints (every column; kubectl shows priority > 0 with -o wide only). */
async function table(c: Clients, path: string): Promise<Table> {
  const res = await kubeRequest(c.kc, 'GET', path, undefined, undefined, TABLE);
  expect(res.status, res.body).toBe(200);
  return JSON.parse(res.body) as Table;
}

async function patchStatus(
  c: Clients,
  path: string,
  status: Record<string, unknown>,
): Promise<{ status: number; body: string }> {
  return kubeRequest(c.kc, 'PATCH', `${path}/status`, { status }, 'application/merge-patch+json');
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
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'wrong-type', namespace: ns.name },
    spec,
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
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshHealthPolicy',
    metadata: { name },
    spec,
  });

  it('MeshHealthPolicy rejects spec.mode: Sometimes', async () => {
    const failure = await expectApiFailure(() => c.objects.create(policy('bad-mode', { mode: 'Sometimes' })));
    expect(failure.code).toBe(422);
    expect(failure.message).toContain('spec.mode');
    expect(failure.message).toContain('Sometimes');
  });

  it('MeshHealthPolicy rejects a malformed rule id and duration', async () => {
    const failure = await expectApiFailure(() =>
      c.objects.create(
        policy('bad-rule', {
          rules: [{ id: 'MM1', parameters: { minRouteTimeout: '5 seconds' } }],
        }),
      ),
    );
    expect(failure.code).toBe(422);
    expect(failure.message).toContain('spec.rules[0].id');
    expect(failure.message).toContain('spec.rules[0].parameters.minRouteTimeout');
  });

  it('MeshHealthPolicy accepts a full spec and defaults mode to Propose', async () => {
    const p = policy(`it-full-${Date.now().toString(36)}`, {
      namespaces: ['shop'],
      namespaceSelector: { matchLabels: { 'istio-injection': 'enabled' } },
      rules: [
        {
          id: 'MM101',
          enabled: true,
          mode: 'Enforce',
          parameters: {
            minRouteTimeout: '1s',
            defaultRouteTimeout: '15s',
            keepAliveIdleTimeout: '1h',
            maxEjectionPercent: 99,
          },
        },
      ],
      exclusions: [{ namespace: 'legacy', kind: 'VirtualService', name: 'old' }],
      enforce: { maxWritesPerMinute: 10 },
      istioVersion: '1.28',
    });
    const got = (await c.objects.create(p)) as Obj;
    created.push(got);
    expect(got.spec.mode).toBe('Propose');
  });

  it('MeshRemediation accepts a proposal and prints Rule, Target, Severity, Phase, Reason, Fingerprint (wide), Age', async () => {
    const r: Obj = {
      apiVersion: 'meshmedic.io/v1alpha1',
      kind: 'MeshRemediation',
      metadata: { name: 'mm101-httpbin', namespace: ns.name },
      spec: {
        rule: 'MM101',
        severity: 'error',
        targetRef: 'DestinationRule/httpbin',
        target: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: ns.name, name: 'httpbin' },
        message: 'idleTimeout is longer than the upstream keep-alive',
        evidence: ['upstream closes idle connections after 5s', { field: 'spec.trafficPolicy', value: { idle: '1h' } }],
        patches: [
          {
            target: {
              apiVersion: 'networking.istio.io/v1',
              kind: 'DestinationRule',
              namespace: ns.name,
              name: 'httpbin',
            },
            patch: [{ op: 'replace', path: '/spec/trafficPolicy/connectionPool/http/idleTimeout', value: '4s' }],
          },
        ],
        approved: false,
      },
    };
    created.push((await c.objects.create(r)) as Obj);
    const parsed = await table(c, `/apis/meshmedic.io/v1alpha1/namespaces/${ns.name}/meshremediations/mm101-httpbin`);
    expect(parsed.columnDefinitions.map((d) => d.name)).toEqual([
      'Name',
      'Rule',
      'Target',
      'Severity',
      'Phase',
      'Reason',
      'Fingerprint',
      'Age',
    ]);
    expect(parsed.columnDefinitions.find((d) => d.name === 'Fingerprint')?.priority).toBe(1);
    expect(parsed.columnDefinitions.filter((d) => d.priority > 0).map((d) => d.name)).toEqual(['Fingerprint']);
    expect(parsed.rows[0]?.cells.slice(0, 4)).toEqual(['mm101-httpbin', 'MM101', 'DestinationRule/httpbin', 'error']);
  });

  it('the CRDs print the columns a reviewer needs (kubectl get, as apiextensions stores them)', async () => {
    expect(await printerColumns(c, 'meshremediations.meshmedic.io')).toEqual([
      { name: 'Rule', type: 'string', jsonPath: '.spec.rule' },
      { name: 'Target', type: 'string', jsonPath: '.spec.targetRef' },
      { name: 'Severity', type: 'string', jsonPath: '.spec.severity' },
      { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
      { name: 'Reason', type: 'string', jsonPath: '.status.reason' },
      { name: 'Fingerprint', type: 'string', jsonPath: '.status.fingerprint', priority: 1 },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]);
    expect(await printerColumns(c, 'meshhealthpolicies.meshmedic.io')).toEqual([
      { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
      { name: 'Mode in effect', type: 'string', jsonPath: '.status.modeInEffect' },
      { name: 'Findings', type: 'integer', jsonPath: '.status.findings.total' },
      { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
      { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
    ]);
  });

  it('MeshHealthPolicy prints Mode, Mode in effect, Findings and Ready from its status', async () => {
    const name = `it-columns-${Date.now().toString(36)}`;
    created.push((await c.objects.create(policy(name, { mode: 'Enforce' }))) as Obj);
    const path = `/apis/meshmedic.io/v1alpha1/meshhealthpolicies/${name}`;
    const res = await patchStatus(c, path, {
      observedGeneration: 1,
      modeInEffect: 'Propose',
      findings: { total: 3, byRule: { MM101: 2, MM104: 1 }, bySeverity: { error: 3 } },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          reason: 'Evaluated',
          message: '3 findings',
        },
      ],
    });
    expect(res.status, res.body).toBe(200);
    const status = (JSON.parse(res.body) as Obj).status;
    expect(status?.['modeInEffect']).toBe('Propose');
    expect(status?.['findings']).toEqual({ total: 3, byRule: { MM101: 2, MM104: 1 }, bySeverity: { error: 3 } });
    const parsed = await table(c, path);
    expect(parsed.columnDefinitions.map((d) => d.name)).toEqual([
      'Name',
      'Mode',
      'Mode in effect',
      'Findings',
      'Ready',
      'Age',
    ]);
    expect(parsed.rows[0]?.cells.slice(0, 5)).toEqual([name, 'Enforce', 'Propose', 3, 'True']);
    const negative = await patchStatus(c, path, { findings: { total: -1 } });
    expect(negative.status).toBe(422);
    expect(negative.body).toContain('status.findings.total');
  });

  it('MeshRemediation rejects a move operation without from', async () => {
    const failure = await expectApiFailure(() =>
      c.objects.create({
        apiVersion: 'meshmedic.io/v1alpha1',
        kind: 'MeshRemediation',
        metadata: { name: 'bad-move', namespace: ns.name },
        spec: {
          rule: 'MM101',
          severity: 'warning',
          target: { apiVersion: 'v1', kind: 'Service', name: 'x' },
          patches: [
            { target: { apiVersion: 'v1', kind: 'Service', name: 'x' }, patch: [{ op: 'move', path: '/spec/a' }] },
          ],
        },
      }),
    );
    expect(failure.code).toBe(422);
    expect(failure.message).toContain('move and copy operations need from');
  });

  describe('MeshRemediation identity is fixed at creation (CEL transition rules)', () => {
    const name = 'mm101-destinationrule-httpbin';
    const uid = '6f1d2c1e-8a3b-4c5d-9e7f-0a1b2c3d4e5f';
    let path: string;

    const ref = (): Obj => ({
      apiVersion: MESHMEDIC,
      kind: 'MeshRemediation',
      metadata: { name, namespace: ns.name },
      spec: {},
    });
    const mergePatch = async (patch: {
      metadata?: Record<string, unknown>;
      spec?: Record<string, unknown>;
    }): Promise<Obj> =>
      await c.objects.patch(
        { ...ref(), ...patch, metadata: { ...ref().metadata, ...patch.metadata } },
        undefined,
        undefined,
        'crd-schemas-test',
        undefined,
        PatchStrategy.MergePatch,
      );
    const read = async (): Promise<Obj> =>
      (await c.objects.read({
        apiVersion: MESHMEDIC,
        kind: 'MeshRemediation',
        metadata: { name, namespace: ns.name },
      })) as Obj;

    beforeAll(async () => {
      path = `/apis/meshmedic.io/v1alpha1/namespaces/${ns.name}/meshremediations/${name}`;
      const target = {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        namespace: ns.name,
        name: 'httpbin',
      };
      const r: Obj = {
        apiVersion: MESHMEDIC,
        kind: 'MeshRemediation',
        metadata: { name, namespace: ns.name, annotations: { 'meshmedic.io/fingerprint': '0123456789abcdef' } },
        spec: {
          rule: 'MM101',
          severity: 'error',
          targetRef: 'DestinationRule/httpbin',
          target: { ...target, uid, resourceVersion: '100' },
          message: 'TLS mode DISABLE towards an mTLS-only workload',
          patches: [
            { target, patch: [{ op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' }] },
          ],
        },
      };
      created.push((await c.objects.create(r)) as Obj);
    });

    it.each([
      { field: 'spec.rule', what: 'changed', spec: { rule: 'MM102' } },
      { field: 'spec.targetRef', what: 'changed', spec: { targetRef: 'DestinationRule/reviews' } },
      { field: 'spec.targetRef', what: 'removed', spec: { targetRef: null } },
      { field: 'spec.target.name', what: 'changed', spec: { target: { name: 'reviews' } } },
      { field: 'spec.target.namespace', what: 'changed', spec: { target: { namespace: 'kube-system' } } },
      { field: 'spec.target.namespace', what: 'removed', spec: { target: { namespace: null } } },
      { field: 'spec.target.kind', what: 'changed', spec: { target: { kind: 'VirtualService' } } },
      {
        field: 'spec.target.apiVersion',
        what: 'changed',
        spec: { target: { apiVersion: 'networking.istio.io/v1beta1' } },
      },
      { field: 'spec.target.uid', what: 'changed', spec: { target: { uid: '00000000-0000-0000-0000-000000000000' } } },
      { field: 'spec.target.uid', what: 'removed', spec: { target: { uid: null } } },
    ])('rejects $field being $what', async ({ field, spec }) => {
      const failure = await expectApiFailure(() => mergePatch({ spec }));
      expect(failure.code).toBe(422);
      expect(failure.reason).toBe('Invalid');
      expect(failure.message).toContain(`${field}: Invalid value`);
      expect(failure.message).toContain(`${field} ${IMMUTABLE}`);
      const now = await read();
      expect(now.spec['rule']).toBe('MM101');
      expect(now.spec['targetRef']).toBe('DestinationRule/httpbin');
      expect(now.spec['target']).toMatchObject({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        namespace: ns.name,
        name: 'httpbin',
        uid,
      });
    });

    it('rejects a whole update (PUT) that changes several identity fields, naming each', async () => {
      const current = await read();
      const failure = await expectApiFailure(() =>
        c.objects.replace({
          ...current,
          spec: {
            ...current.spec,
            rule: 'MM104',
            targetRef: 'ServiceEntry/external',
            target: {
              apiVersion: 'networking.istio.io/v1',
              kind: 'ServiceEntry',
              namespace: ns.name,
              name: 'external',
            },
          },
        }),
      );
      expect(failure.code).toBe(422);
      for (const field of ['spec.rule', 'spec.targetRef', 'spec.target.kind', 'spec.target.name', 'spec.target.uid']) {
        expect(failure.message).toContain(`${field} ${IMMUTABLE}`);
      }
      expect(failure.message).not.toContain(`spec.target.apiVersion ${IMMUTABLE}`);
      expect(failure.message).not.toContain(`spec.target.namespace ${IMMUTABLE}`);
    });

    it('rejects removing the spec (the identity with it)', async () => {
      const current = await read();
      const { spec: _spec, ...withoutSpec } = current;
      const failure = await expectApiFailure(() => c.objects.replace(withoutSpec as Obj));
      expect(failure.code).toBe(422);
      expect(failure.message).toContain('spec: Required value');
    });

    it('accepts a new spec.target.resourceVersion (rewritten with each evaluation)', async () => {
      const got = await mergePatch({ spec: { target: { resourceVersion: '101' } } });
      expect(got.spec['target']).toEqual({
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        namespace: ns.name,
        name: 'httpbin',
        uid,
        resourceVersion: '101',
      });
    });

    it('accepts the operator re-applying its proposal (server-side apply, force) with a new resourceVersion and message', async () => {
      const current = await read();
      const desired = {
        apiVersion: MESHMEDIC,
        kind: 'MeshRemediation',
        metadata: { name, namespace: ns.name, annotations: { 'meshmedic.io/fingerprint': 'fedcba9876543210' } },
        spec: {
          ...current.spec,
          message: 'TLS mode DISABLE towards an mTLS-only workload (2 sidecars)',
          target: { ...(current.spec['target'] as object), resourceVersion: '102' },
        },
      } as Obj;
      const got = (await c.objects.patch(
        desired,
        undefined,
        undefined,
        'meshmedic',
        true,
        PatchStrategy.ServerSideApply,
      )) as Obj;
      expect((got.spec['target'] as { resourceVersion: string }).resourceVersion).toBe('102');
      expect(got.metadata?.annotations?.['meshmedic.io/fingerprint']).toBe('fedcba9876543210');
    });

    it('accepts an approval: spec.approved, spec.approvedFingerprint and annotations', async () => {
      expect((await mergePatch({ spec: { approved: true } })).spec['approved']).toBe(true);
      expect(
        (await mergePatch({ spec: { approvedFingerprint: 'fedcba9876543210' } })).spec['approvedFingerprint'],
      ).toBe('fedcba9876543210');
      expect(
        (await mergePatch({ spec: { approvedFingerprint: '0123456789abcdef' } })).spec['approvedFingerprint'],
      ).toBe('0123456789abcdef');
      const annotated = await mergePatch({
        metadata: { annotations: { 'meshmedic.io/approve': 'fedcba9876543210', 'example.com/reviewed-by': 'alice' } },
      });
      expect(annotated.metadata?.annotations).toMatchObject({
        'meshmedic.io/approve': 'fedcba9876543210',
        'example.com/reviewed-by': 'alice',
      });
      const reset = await mergePatch({
        metadata: { annotations: { 'meshmedic.io/approve': null } },
        spec: { approved: false, approvedFingerprint: null },
      });
      expect(reset.spec['approved']).toBe(false);
      expect(reset.spec['approvedFingerprint']).toBeUndefined();
      expect(reset.metadata?.annotations?.['meshmedic.io/approve']).toBeUndefined();
    });

    it.each(['FEDCBA9876543210', 'fedcba987654321', 'fedcba98765432100', 'fedcba987654321g', ' fedcba9876543210'])(
      'rejects spec.approvedFingerprint %j (16 lowercase hex digits)',
      async (fp) => {
        const failure = await expectApiFailure(() => mergePatch({ spec: { approvedFingerprint: fp } }));
        expect(failure.code).toBe(422);
        expect(failure.message).toContain('spec.approvedFingerprint');
        expect(failure.message).toContain('^[0-9a-f]{16}$');
      },
    );

    it('rejects a malformed spec.approvedFingerprint at creation too', async () => {
      const failure = await expectApiFailure(() =>
        c.objects.create({
          apiVersion: MESHMEDIC,
          kind: 'MeshRemediation',
          metadata: { name: 'bad-fingerprint', namespace: ns.name },
          spec: {
            rule: 'MM101',
            severity: 'error',
            target: { apiVersion: 'v1', kind: 'Service', name: 'x' },
            approvedFingerprint: 'yes',
          },
        }),
      );
      expect(failure.code).toBe(422);
      expect(failure.message).toContain('spec.approvedFingerprint');
    });

    it('takes status updates through the status subresource: every status field, Reverted and Ignored', async () => {
      const before = await read();
      const status = {
        phase: 'Reverted',
        reason: 'TargetChangedByHand',
        message: 'the DestinationRule was edited after the fix was applied; the fix was reverted',
        fingerprint: '0123456789abcdef',
        identity: {
          rule: 'MM101',
          target: {
            apiVersion: 'networking.istio.io/v1',
            kind: 'DestinationRule',
            namespace: ns.name,
            name: 'httpbin',
            uid,
          },
          fingerprint: '0123456789abcdef',
        },
        approvedBy: 'kubectl-annotate at 2026-01-01T00:00:00Z',
        approvedFingerprint: '0123456789abcdef',
        appliedResourceVersions: { [`DestinationRule/${ns.name}/httpbin`]: '103' },
        observedGeneration: before.metadata?.generation ?? 1,
      };
      const res = await patchStatus(c, path, status);
      expect(res.status, res.body).toBe(200);
      const got = await read();
      expect(got.status).toEqual(status);
      expect(got.metadata?.generation).toBe(before.metadata?.generation);
      expect(got.spec).toEqual(before.spec);

      const ignored = await patchStatus(c, path, {
        phase: 'Ignored',
        reason: 'IdentityMismatch',
        appliedResourceVersions: null,
      });
      expect(ignored.status, ignored.body).toBe(200);
      expect((await read()).status).toMatchObject({ phase: 'Ignored', reason: 'IdentityMismatch' });
      expect((await read()).status?.['appliedResourceVersions']).toBeUndefined();

      const bogus = await patchStatus(c, path, { phase: 'Bogus' });
      expect(bogus.status).toBe(422);
      expect(bogus.body).toContain('status.phase');

      // The status subresource ignores spec: a status write cannot carry an identity change past the rules.
      const sneaky = await kubeRequest(
        c.kc,
        'PATCH',
        `${path}/status`,
        { spec: { rule: 'MM102' }, status: { phase: 'Proposed' } },
        'application/merge-patch+json',
      );
      expect(sneaky.status, sneaky.body).toBe(200);
      expect((await read()).spec['rule']).toBe('MM101');

      const parsed = await table(c, path);
      expect(parsed.rows[0]?.cells.slice(0, 7)).toEqual([
        name,
        'MM101',
        'DestinationRule/httpbin',
        'error',
        'Proposed',
        'IdentityMismatch',
        '0123456789abcdef',
      ]);
    });
  });
});
