// The operator end to end on a real API server: Observe, Propose + approve + rollback, Enforce, guards,
// edited proposals, invalid policies, steady state.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/controller/operator.js';
import type { KubeObject } from '../../src/model/types.js';
import { skipReason, type Clients } from '../testbed/client.js';
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
  seed000,
  seed001,
  seed003,
  startOperator,
  waitFor,
} from './operator-harness.js';

const DR = 'networking.istio.io/v1';

describe.skipIf(skipReason() !== undefined)('meshmedic operator on a real API server', () => {
  let c: Clients;
  let op: Operator;
  let leaseNs: { name: string; remove: () => Promise<void> };
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    leaseNs = await namespace(c, 'mm-system');
    op = await startOperator(c, leaseNs.name);
  });
  afterAll(async () => {
    await op?.stop();
    for (const f of cleanups.reverse()) await f();
    await leaseNs?.remove();
  });

  async function scenario(
    prefix: string,
    mode: string,
    objects: (ns: string) => KubeObject[],
    extraSpec: Record<string, unknown> = {},
  ): Promise<string> {
    const ns = await namespace(c, prefix);
    const name = `${ns.name}-policy`;
    cleanups.push(ns.remove, () => deletePolicy(c, name));
    for (const o of objects(ns.name)) await create(c, o);
    await create(c, policy(name, ns.name, mode, extraSpec));
    return ns.name;
  }

  async function policyStatus(ns: string): Promise<{
    findings?: { byRule?: Record<string, number> };
    conditions?: { type: string; status: string; message: string }[];
  }> {
    return (await read(c, 'meshmedic.io/v1alpha1', 'MeshHealthPolicy', undefined, `${ns}-policy`))?.status ?? {};
  }

  it('Observe records the finding in the policy status and an Event, and proposes nothing (seed 001)', async () => {
    const ns = await scenario('observe', 'Observe', seed001);
    await waitFor('MM101 in the policy status', async () => (await policyStatus(ns)).findings?.byRule?.['MM101'] === 1);
    const events = await c.core.listNamespacedEvent({ namespace: ns });
    expect(
      events.items.some(
        (e) => e.reason === 'FindingDetected' && e.involvedObject.name === 'httpbin' && e.message?.includes('MM101'),
      ),
    ).toBe(true);
    expect(await remediations(c, ns)).toEqual([]);
  });

  it('Propose creates one proposal; approving fixes the target; rollback restores it (seed 001)', async () => {
    const ns = await scenario('propose', 'Propose', seed001);
    const mmr = await waitFor('a proposal', async () =>
      (await remediations(c, ns)).find((r) => phase(r) === 'Proposed'),
    );
    expect(await remediations(c, ns)).toHaveLength(1);
    expect(mmr.metadata.name).toBe('mm101-destinationrule-httpbin');
    const spec = mmr.spec as {
      rule: string;
      targetRef: string;
      severity: string;
      patches: { patch: { op: string; path: string; value?: unknown }[] }[];
      after: KubeObject[];
    };
    expect([spec.rule, spec.targetRef, spec.severity]).toEqual(['MM101', 'DestinationRule/httpbin', 'error']);
    expect(spec.patches[0]?.patch.filter((p) => p.op !== 'test')).toEqual([
      { op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' },
    ]);
    expect((spec.after[0]?.spec as { trafficPolicy: { tls: { mode: string } } }).trafficPolicy.tls.mode).toBe(
      'ISTIO_MUTUAL',
    );

    await annotate(
      c,
      { apiVersion: 'meshmedic.io/v1alpha1', kind: 'MeshRemediation', namespace: ns, name: mmr.metadata.name },
      { 'meshmedic.io/approve': fingerprintOf(mmr) },
    );
    const fixed = await waitFor('the DestinationRule fixed', async () => {
      const dr = await read(c, DR, 'DestinationRule', ns, 'httpbin');
      return (dr?.spec as { trafficPolicy: { tls: { mode: string } } }).trafficPolicy.tls.mode === 'ISTIO_MUTUAL'
        ? dr
        : undefined;
    });
    expect((fixed.spec as { trafficPolicy: { connectionPool: unknown } }).trafficPolicy.connectionPool).toEqual({
      tcp: { maxConnections: 1 },
    });
    expect(fixed.metadata.annotations?.['meshmedic.io/fixed-mm101']).toContain('"before":"DISABLE"');
    expect(
      (fixed.metadata as { managedFields?: { manager?: string }[] }).managedFields?.some(
        (m) => m.manager === 'meshmedic',
      ),
    ).toBe(true);
    await waitFor(
      'the proposal Applied',
      async () => phase(await read(c, 'meshmedic.io/v1alpha1', 'MeshRemediation', ns, mmr.metadata.name)) === 'Applied',
    );
    await waitFor(
      'the finding gone from the policy status',
      async () => !(await policyStatus(ns)).findings?.byRule?.['MM101'],
    );

    await annotate(
      c,
      { apiVersion: 'meshmedic.io/v1alpha1', kind: 'MeshRemediation', namespace: ns, name: mmr.metadata.name },
      { 'meshmedic.io/rollback': 'true' },
    );
    await waitFor(
      'the DestinationRule restored',
      async () =>
        ((await read(c, DR, 'DestinationRule', ns, 'httpbin'))?.spec as { trafficPolicy: { tls: { mode: string } } })
          .trafficPolicy.tls.mode === 'DISABLE',
    );
    await waitFor(
      'the proposal RolledBack',
      async () =>
        phase(await read(c, 'meshmedic.io/v1alpha1', 'MeshRemediation', ns, mmr.metadata.name)) === 'RolledBack',
    );
    await op.idle();
    expect(phase(await read(c, 'meshmedic.io/v1alpha1', 'MeshRemediation', ns, mmr.metadata.name))).toBe('RolledBack');
  });

  it('Enforce fixes the target itself, with no proposal to approve (seed 003)', async () => {
    const ns = await scenario('enforce', 'Enforce', seed003);
    const se = await waitFor('addresses filled', async () => {
      const o = await read(c, DR, 'ServiceEntry', ns, 'mysql');
      return (o?.spec as { addresses?: string[] }).addresses?.length ? o : undefined;
    });
    const svc = await c.core.readNamespacedService({ name: 'mysql', namespace: ns });
    expect((se.spec as { addresses: string[] }).addresses).toEqual([svc.spec?.clusterIP]);
    expect(se.metadata.annotations?.['meshmedic.io/fixed-mm103']).toBeTruthy();
    await op.idle();
    expect((await remediations(c, ns)).map(phase)).toEqual(['Applied']);
  });

  it('Propose for seed 000 creates the DestinationRule with sni on approval', async () => {
    const ns = await scenario('sni', 'Propose', seed000);
    const mmr = await waitFor('a proposal', async () =>
      (await remediations(c, ns)).find((r) => phase(r) === 'Proposed'),
    );
    expect((mmr.spec as { rule: string }).rule).toBe('MM102');
    await annotate(
      c,
      { apiVersion: 'meshmedic.io/v1alpha1', kind: 'MeshRemediation', namespace: ns, name: mmr.metadata.name },
      { 'meshmedic.io/approve': fingerprintOf(mmr) },
    );
    const dr = await waitFor('the DestinationRule created', () =>
      read(c, DR, 'DestinationRule', ns, 'dev-bar-org-tls'),
    );
    expect((dr.spec as { trafficPolicy: unknown }).trafficPolicy).toEqual({
      tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] },
    });
    await waitFor(
      'Applied',
      async () => phase(await read(c, 'meshmedic.io/v1alpha1', 'MeshRemediation', ns, mmr.metadata.name)) === 'Applied',
    );
  });

  it('never applies a proposal whose patch was edited by hand', async () => {
    const ns = await scenario('edited', 'Propose', seed001);
    const mmr = await waitFor('a proposal', async () =>
      (await remediations(c, ns)).find((r) => phase(r) === 'Proposed'),
    );
    const spec = mmr.spec as { patches: { target: unknown; patch: { op: string; path: string; value?: unknown }[] }[] };
    const edited = spec.patches.map((p) => ({
      ...p,
      patch: [{ op: 'replace', path: '/spec/host', value: 'evil.example.com' }],
    }));
    await c.objects.patch(
      {
        apiVersion: 'meshmedic.io/v1alpha1',
        kind: 'MeshRemediation',
        metadata: { name: mmr.metadata.name, namespace: ns },
        spec: { patches: edited, approvedFingerprint: fingerprintOf(mmr) },
      },
      undefined,
      undefined,
      'kubectl-edit',
      undefined,
      'application/merge-patch+json',
    );
    const failed = await waitFor('Failed', async () => {
      const r = await read(c, 'meshmedic.io/v1alpha1', 'MeshRemediation', ns, mmr.metadata.name);
      return phase(r) === 'Failed' ? r : undefined;
    });
    expect((failed.status as { message: string }).message).toContain('differs from the fix meshmedic computes');
    const dr = await read(c, DR, 'DestinationRule', ns, 'httpbin');
    expect((dr?.spec as { host: string; trafficPolicy: { tls: { mode: string } } }).host).toBe('httpbin');
    expect((dr?.spec as { trafficPolicy: { tls: { mode: string } } }).trafficPolicy.tls.mode).toBe('DISABLE');
  });

  it('does not write a GitOps-managed target in Enforce mode: it proposes and says why', async () => {
    const ns = await scenario('gitops', 'Enforce', (n) =>
      seed001(n).map((o) =>
        o.kind === 'DestinationRule'
          ? {
              ...o,
              metadata: {
                ...o.metadata,
                annotations: { 'argocd.argoproj.io/tracking-id': 'shop:networking.istio.io/DestinationRule:x/httpbin' },
              },
            }
          : o,
      ),
    );
    const mmr = await waitFor('a proposal', async () =>
      (await remediations(c, ns)).find((r) => phase(r) === 'Proposed'),
    );
    expect((mmr.status as { message: string }).message).toContain(
      'commit the edit in spec.repositoryEdits to the source of Argo CD Application shop',
    );
    // What the team commits: the Application that applies the target and the fix as a diff of its manifest.
    const edits = (mmr.spec as { repositoryEdits?: { managedBy: unknown; diff?: string }[] }).repositoryEdits ?? [];
    expect(edits.map((e) => e.managedBy)).toEqual([{ tool: 'Argo CD', kind: 'Application', name: 'shop' }]);
    const changed = (edits[0]?.diff ?? '').split('\n').filter((l) => /^[+-][^+-]/.test(l));
    expect(changed).toEqual(['-      mode: DISABLE', '+      mode: ISTIO_MUTUAL']);
    const dr = await read(c, DR, 'DestinationRule', ns, 'httpbin');
    expect((dr?.spec as { trafficPolicy: { tls: { mode: string } } }).trafficPolicy.tls.mode).toBe('DISABLE');
    expect(dr?.metadata.annotations?.['meshmedic.io/fixed-mm101']).toBeUndefined();
  });

  it('reports an invalid policy in a status condition that names the field', async () => {
    const ns = await scenario('invalid', 'Propose', seed001, { rules: [{ id: 'MM999' }] });
    const cond = await waitFor('Ready=False', async () =>
      (await policyStatus(ns)).conditions?.find((x) => x.type === 'Ready' && x.status === 'False'),
    );
    expect(cond.message).toContain('spec.rules[0].id');
    expect(cond.message).toContain('MM999');
    await op.idle();
    expect(await remediations(c, ns)).toEqual([]);
  });

  it('reconciling an unchanged mesh again writes nothing', async () => {
    await op.idle();
    const before = await op.metrics.writesTotal();
    op.resyncAll();
    await op.idle();
    op.resyncAll();
    await op.idle();
    expect(await op.metrics.writesTotal()).toBe(before);
  });
});
