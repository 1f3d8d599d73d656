// The operator's write path as a tenant, a reviewer racing a change, and an Enforce policy would try it, on
// a real API server: a MeshRemediation's spec is user input, an approval binds to the content reviewed,
// Enforce applies only local and settled fixes, and the proposals say what is true.
import { KubeConfig, RbacAuthorizationV1Api, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/controller/operator.js';
import { fixFingerprint } from '../../src/controller/remediation.js';
import type { KubeObject } from '../../src/model/types.js';
import { clientsFor, skipReason, type Clients } from '../testbed/client.js';
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
  seed001,
  seed003,
  startOperator,
  waitFor,
} from './operator-harness.js';

const MMR = 'meshmedic.io/v1alpha1';
const NET = 'networking.istio.io/v1';
type Tls = { trafficPolicy?: { tls?: { mode?: string }; portLevelSettings?: { tls?: { mode?: string } }[] } };

function tlsModes(dr: KubeObject | undefined): string[] {
  const tp = (dr?.spec as Tls | undefined)?.trafficPolicy;
  return [tp?.tls?.mode ?? '-', ...(tp?.portLevelSettings ?? []).map((p) => p.tls?.mode ?? '-')];
}

async function status(
  c: Clients,
  ns: string,
  name: string,
): Promise<{ phase?: string; reason?: string; message?: string; approvedFingerprint?: string; approvedBy?: string }> {
  return (await read(c, MMR, 'MeshRemediation', ns, name))?.status ?? {};
}

function mmrRef(ns: string, name: string): { apiVersion: string; kind: string; namespace: string; name: string } {
  return { apiVersion: MMR, kind: 'MeshRemediation', namespace: ns, name };
}

describe.skipIf(skipReason() !== undefined)('the operator trusts no user-editable spec (real API server)', () => {
  let c: Clients;
  let op: Operator;
  let leaseNs: { name: string; remove: () => Promise<void> };
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    leaseNs = await namespace(c, 'mm-trust');
    op = await startOperator(c, leaseNs.name, { settleMs: 1500 });
  });
  afterAll(async () => {
    await op?.stop();
    for (const f of cleanups.reverse()) await f();
    await leaseNs?.remove();
  });

  async function scenario(
    prefix: string,
    mode: string | undefined,
    objects: (ns: string) => KubeObject[],
  ): Promise<string> {
    const ns = await namespace(c, prefix);
    cleanups.push(ns.remove);
    for (const o of objects(ns.name)) await create(c, o);
    if (mode) {
      await create(c, policy(`${ns.name}-policy`, ns.name, mode));
      cleanups.push(() => deletePolicy(c, `${ns.name}-policy`));
    }
    return ns.name;
  }

  async function proposed(ns: string): Promise<KubeObject> {
    return waitFor(`a proposal in ${ns}`, async () =>
      (await remediations(c, ns)).find(
        (r) => phase(r) === 'Proposed' && (r.status as { fingerprint?: string }).fingerprint,
      ),
    );
  }

  /** Clients of a ServiceAccount that may only read, create and update MeshRemediations in `ns`. */
  async function tenant(ns: string): Promise<Clients> {
    await c.core.createNamespacedServiceAccount({ namespace: ns, body: { metadata: { name: 'tenant' } } });
    const rbac = c.kc.makeApiClient(RbacAuthorizationV1Api);
    await rbac.createNamespacedRole({
      namespace: ns,
      body: {
        metadata: { name: 'mmr-editor' },
        rules: [
          {
            apiGroups: ['meshmedic.io'],
            resources: ['meshremediations'],
            verbs: ['get', 'list', 'create', 'update', 'patch'],
          },
        ],
      },
    });
    await rbac.createNamespacedRoleBinding({
      namespace: ns,
      body: {
        metadata: { name: 'tenant' },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'mmr-editor' },
        subjects: [{ kind: 'ServiceAccount', name: 'tenant', namespace: ns }],
      },
    });
    const token = await c.core.createNamespacedServiceAccountToken({
      name: 'tenant',
      namespace: ns,
      body: { spec: { audiences: [], expirationSeconds: 3600 } },
    });
    const cluster = c.kc.getCurrentCluster();
    if (!cluster || !token.status?.token) throw new Error('no cluster or token');
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser({ ...cluster, name: 'testbed' }, { name: 'tenant', token: token.status.token });
    return clientsFor(kc);
  }

  it('a tenant cannot point a proposal at another namespace, an uncovered one, or another rule, nor roll back another team’s fix', async () => {
    const a = await scenario('tenant-a', 'Propose', seed001);
    const b = await scenario('tenant-b', 'Propose', seed001);
    const uncovered = await scenario('tenant-c', undefined, seed001);
    const t = await tenant(a);
    const own = await proposed(a);
    const theirs = await proposed(b);
    const drB = await read(c, NET, 'DestinationRule', b, 'httpbin');
    const drC = await read(c, NET, 'DestinationRule', uncovered, 'httpbin');

    // 1. Retargeting the proposal meshmedic made is refused by the API server (CEL on the CRD).
    for (const target of [{ namespace: b }, { namespace: uncovered }, { name: 'other' }]) {
      const edited = {
        ...own,
        spec: {
          ...(own.spec as Record<string, unknown>),
          target: { ...(own.spec as { target: object }).target, ...target },
        },
      };
      await expect(t.objects.replace(edited as KubernetesObject)).rejects.toMatchObject({ code: 422 });
    }
    await expect(
      t.objects.patch(
        {
          apiVersion: MMR,
          kind: 'MeshRemediation',
          metadata: { name: own.metadata.name, namespace: a },
          spec: { rule: 'MM107' },
        } as KubernetesObject,
        undefined,
        undefined,
        'tenant',
        undefined,
        'application/merge-patch+json',
      ),
    ).rejects.toMatchObject({ code: 422 });

    // 2. Proposals made by hand in the tenant's namespace, aimed elsewhere and approved with the right content: ignored.
    const forged = (
      name: string,
      targetNs: string,
      rule = 'MM101',
      extra: Record<string, string> = {},
    ): KubeObject => ({
      apiVersion: MMR,
      kind: 'MeshRemediation',
      metadata: { name, namespace: a, annotations: { 'meshmedic.io/approve': fingerprintOf(theirs), ...extra } },
      spec: {
        ...(theirs.spec as Record<string, unknown>),
        rule,
        target: { ...(theirs.spec as { target: object }).target, namespace: targetNs },
      },
    });
    await t.objects.create(forged('forged-b', b) as KubernetesObject);
    await t.objects.create(forged('forged-c', uncovered) as KubernetesObject);
    await t.objects.create(
      forged('forged-rollback', b, 'MM101', { 'meshmedic.io/rollback': 'true' }) as KubernetesObject,
    );
    for (const name of ['forged-b', 'forged-c', 'forged-rollback']) {
      await waitFor(`${name} Ignored`, async () => (await status(c, a, name)).phase === 'Ignored');
    }

    // 3. The other team approves and applies its own fix; the tenant's rollback of its own proposal undoes only its own.
    await annotate(c, mmrRef(b, theirs.metadata.name), { 'meshmedic.io/approve': fingerprintOf(theirs) });
    await waitFor('B applied', async () => (await status(c, b, theirs.metadata.name)).phase === 'Applied');
    await annotate(t, mmrRef(a, own.metadata.name), { 'meshmedic.io/approve': fingerprintOf(own) });
    await waitFor('A applied', async () => (await status(c, a, own.metadata.name)).phase === 'Applied');
    await annotate(t, mmrRef(a, own.metadata.name), { 'meshmedic.io/rollback': 'true' });
    await waitFor('A rolled back', async () => (await status(c, a, own.metadata.name)).phase === 'RolledBack');
    await op.idle();

    expect(tlsModes(await read(c, NET, 'DestinationRule', a, 'httpbin'))).toEqual(['DISABLE']);
    const afterB = await read(c, NET, 'DestinationRule', b, 'httpbin');
    expect(tlsModes(afterB)).toEqual(['ISTIO_MUTUAL']);
    expect(JSON.parse(afterB?.metadata.annotations?.['meshmedic.io/fixed-mm101'] ?? '{}')).toMatchObject({
      remediation: theirs.metadata.name,
      approvedBy: expect.stringMatching(/^kubectl-annotate/),
    });
    expect(afterB?.metadata.resourceVersion).not.toBe(drB?.metadata.resourceVersion); // written once, by B's approval
    expect((await read(c, NET, 'DestinationRule', uncovered, 'httpbin'))?.metadata.resourceVersion).toBe(
      drC?.metadata.resourceVersion,
    );
    expect(await remediations(c, uncovered)).toEqual([]);
    // Who approved is on record (the field manager of the approval).
    expect((await status(c, a, own.metadata.name)).approvedBy).toMatch(/^kubectl-annotate/);
  });

  it('an approval raced against a change of its target never applies content nobody reviewed', async () => {
    const variantA = { tls: { mode: 'DISABLE' } };
    const variantB = {
      tls: { mode: 'DISABLE' },
      portLevelSettings: [{ port: { number: 8000 }, tls: { mode: 'DISABLE' } }],
    };
    const outcomes: string[] = [];
    for (let i = 0; i < 12; i++) {
      const ns = await scenario(`race-${i}`, 'Propose', (n) =>
        seed001(n).map((o) =>
          o.kind === 'DestinationRule' ? { ...o, spec: { host: 'httpbin', trafficPolicy: variantA } } : o,
        ),
      );
      const mmr = await proposed(ns);
      const reviewed = fingerprintOf(mmr);
      const dr = await read(c, NET, 'DestinationRule', ns, 'httpbin');
      // The change follows the approval by 0 to 55 ms: before, during or after the operator acts on it
      // (it takes it some 30 ms here). It is conditioned on the version read: if the operator's write came
      // first, it gets 409.
      const delayMs = i * 5;
      const [, changed] = await Promise.all([
        annotate(c, mmrRef(ns, mmr.metadata.name), { 'meshmedic.io/approve': reviewed }),
        new Promise((r) => setTimeout(r, delayMs))
          .then(() =>
            c.objects.replace({ ...dr, spec: { host: 'httpbin', trafficPolicy: variantB } } as KubernetesObject),
          )
          .then(
            () => true,
            (err: { code?: number }) => {
              if (err.code !== 409) throw err;
              return false;
            },
          ),
      ]);
      await op.idle();
      await new Promise((r) => setTimeout(r, 300));
      await op.idle();
      const s = await status(c, ns, mmr.metadata.name);
      const modes = tlsModes(await read(c, NET, 'DestinationRule', ns, 'httpbin'));
      outcomes.push(`+${delayMs} ms, ${changed ? 'change' : 'approval'} first: ${s.phase}/${s.reason}`);
      if (changed) {
        // The reviewed fix (top-level ISTIO_MUTUAL) on the changed object would leave the port DISABLE: never applied.
        expect(modes).toEqual(['DISABLE', 'DISABLE']);
        expect([s.phase, s.reason]).toEqual(['Proposed', 'ApprovalForOtherContent']);
      } else {
        expect(modes).toEqual(['ISTIO_MUTUAL']);
        expect([s.phase, s.approvedFingerprint]).toEqual(['Applied', reviewed]);
      }
    }
    console.log(`approval races: ${outcomes.join('; ')}`);
  });

  it('after a reject or a rollback, a change of the target is evaluated again', async () => {
    const errors = async (): Promise<number> =>
      (await op.metrics.reconcileErrors.get()).values.reduce((n, v) => n + v.value, 0);
    const ns = await scenario('wedge', 'Propose', seed001);
    const errorsBefore = await errors();
    const mmr = await proposed(ns);
    await annotate(c, mmrRef(ns, mmr.metadata.name), { 'meshmedic.io/reject': 'true' });
    await waitFor('Rejected', async () => (await status(c, ns, mmr.metadata.name)).phase === 'Rejected');
    const dr = await read(c, NET, 'DestinationRule', ns, 'httpbin');
    await c.objects.replace({
      ...dr,
      spec: {
        host: 'httpbin',
        trafficPolicy: {
          tls: { mode: 'DISABLE' },
          portLevelSettings: [{ port: { number: 8000 }, tls: { mode: 'DISABLE' } }],
        },
      },
    } as KubernetesObject);
    const again = await waitFor('proposed again, with the new content', async () => {
      const r = await read(c, MMR, 'MeshRemediation', ns, mmr.metadata.name);
      return phase(r) === 'Proposed' && fingerprintOf(r as KubeObject) !== fingerprintOf(mmr) ? r : undefined;
    });
    // The rejection was of the old content: new content is a new proposal, to be decided again.
    expect(again.metadata.annotations?.['meshmedic.io/reject']).toBeUndefined();
    await op.idle();
    expect(phase(await read(c, MMR, 'MeshRemediation', ns, mmr.metadata.name))).toBe('Proposed');

    // Applied, rolled back, then the target changes: evaluated again too.
    await annotate(c, mmrRef(ns, mmr.metadata.name), { 'meshmedic.io/approve': fingerprintOf(again) });
    await waitFor('Applied', async () => (await status(c, ns, mmr.metadata.name)).phase === 'Applied');
    await annotate(c, mmrRef(ns, mmr.metadata.name), { 'meshmedic.io/rollback': 'true' });
    await waitFor('RolledBack', async () => (await status(c, ns, mmr.metadata.name)).phase === 'RolledBack');
    const restored = await read(c, NET, 'DestinationRule', ns, 'httpbin');
    await c.objects.replace({
      ...restored,
      spec: { host: 'httpbin', trafficPolicy: { tls: { mode: 'DISABLE' } } },
    } as KubernetesObject);
    const third = await waitFor('proposed after the rollback', async () => {
      const r = await read(c, MMR, 'MeshRemediation', ns, mmr.metadata.name);
      return phase(r) === 'Proposed' && fingerprintOf(r as KubeObject) === fingerprintOf(mmr) ? r : undefined;
    });
    expect(third.metadata.annotations?.['meshmedic.io/rollback']).toBeUndefined();
    expect(await errors()).toBe(errorsBefore);
  });

  it('Enforce proposes, never applies, a fix that creates an object on absence; one kubectl apply of a route and its entry creates nothing', async () => {
    // Each namespace its own host: an entry exported everywhere (the default) declares its host for all.
    const route = (n: string, host = `db.${n}.example.com`): KubeObject => ({
      apiVersion: NET,
      kind: 'VirtualService',
      metadata: { name: 'db', namespace: n },
      spec: {
        hosts: [host],
        tcp: [{ match: [{ port: 5432 }], route: [{ destination: { host, port: { number: 5432 } } }] }],
      },
    });
    const entry = (n: string): KubeObject => ({
      apiVersion: NET,
      kind: 'ServiceEntry',
      metadata: { name: 'db', namespace: n },
      spec: {
        hosts: [`db.${n}.example.com`],
        addresses: ['203.0.113.10/32'],
        location: 'MESH_EXTERNAL',
        ports: [{ number: 5432, name: 'tcp-pg', protocol: 'TCP' }],
        resolution: 'STATIC',
        endpoints: [{ address: '203.0.113.10' }],
      },
    });
    // Together, policy first (the worst order): the route arrives a moment before its entry.
    const together = await scenario('together', 'Enforce', () => []);
    await create(c, route(together));
    await create(c, entry(together));
    // Alone: the route to a host nobody declares.
    const alone = await scenario('alone', 'Enforce', (n) => [route(n)]);
    const mm104 = await waitFor('MM104 proposed', async () =>
      (await remediations(c, alone)).find(
        (r) => (r.spec as { rule: string }).rule === 'MM104' && phase(r) === 'Proposed',
      ),
    );
    expect((mm104.status as { message: string }).message).toContain('never applied automatically');
    await new Promise((r) => setTimeout(r, 2500));
    await op.idle();
    expect(
      (
        await c.custom.listNamespacedCustomObject({
          group: 'networking.istio.io',
          version: 'v1',
          namespace: together,
          plural: 'serviceentries',
        })
      ).items,
    ).toHaveLength(1);
    expect(
      (
        await c.custom.listNamespacedCustomObject({
          group: 'networking.istio.io',
          version: 'v1',
          namespace: alone,
          plural: 'serviceentries',
        })
      ).items,
    ).toHaveLength(0);
    expect(await remediations(c, together)).toEqual([]);
    // Approved, its TCP entry without addresses would be the seed-003 catch-all: refused, and said why.
    await annotate(c, mmrRef(alone, mm104.metadata.name), { 'meshmedic.io/approve': fingerprintOf(mm104) });
    const refused = await waitFor('UnsafeFix', async () =>
      (await status(c, alone, mm104.metadata.name)).reason === 'UnsafeFix'
        ? status(c, alone, mm104.metadata.name)
        : undefined,
    );
    expect(refused.message).toContain('MM103');
    expect(
      (
        await c.custom.listNamespacedCustomObject({
          group: 'networking.istio.io',
          version: 'v1',
          namespace: alone,
          plural: 'serviceentries',
        })
      ).items,
    ).toHaveLength(0);
  });

  it('Enforce proposes, never applies, an exportTo change', async () => {
    const ns = await scenario('exportto', 'Enforce', (n) => [
      {
        apiVersion: NET,
        kind: 'ServiceEntry',
        metadata: { name: 'legacy', namespace: n },
        spec: {
          hosts: ['legacy.example.com'],
          location: 'MESH_EXTERNAL',
          ports: [{ number: 9000, name: 'tcp', protocol: 'TCP' }],
          resolution: 'DNS',
        },
      },
    ]);
    const mmr = await waitFor('MM103 proposed', async () =>
      (await remediations(c, ns)).find((r) => (r.spec as { rule: string }).rule === 'MM103' && phase(r) === 'Proposed'),
    );
    expect(JSON.stringify((mmr.spec as { patches: unknown }).patches)).toContain('/spec/exportTo');
    await op.idle();
    expect((await read(c, NET, 'ServiceEntry', ns, 'legacy'))?.spec).not.toHaveProperty('exportTo');
  });

  it('a fix undone by hand is reported and not applied again; deleting the target removes its proposal', async () => {
    const ns = await scenario('revert', 'Enforce', seed003);
    const fixed = await waitFor('addresses filled', async () => {
      const o = await read(c, NET, 'ServiceEntry', ns, 'mysql');
      return (o?.spec as { addresses?: string[] }).addresses?.length ? o : undefined;
    });
    const [mmr] = await remediations(c, ns);
    if (!mmr) throw new Error('no remediation');
    await waitFor('Applied', async () => (await status(c, ns, mmr.metadata.name)).phase === 'Applied');
    const { addresses: _a, ...spec } = fixed.spec as Record<string, unknown>;
    await c.objects.replace({ ...fixed, spec } as KubernetesObject);
    const s = await waitFor('Reverted', async () =>
      (await status(c, ns, mmr.metadata.name)).phase === 'Reverted' ? status(c, ns, mmr.metadata.name) : undefined,
    );
    expect(s.message).toContain('/spec/addresses');
    await op.idle();
    expect((await read(c, NET, 'ServiceEntry', ns, 'mysql'))?.spec).not.toHaveProperty('addresses');

    await c.objects.delete({ apiVersion: NET, kind: 'ServiceEntry', metadata: { name: 'mysql', namespace: ns } });
    await waitFor('the proposal deleted', async () => (await remediations(c, ns)).length === 0);
  });

  it('deleting the policy says so on its proposals instead of calling the finding resolved', async () => {
    const ns = await scenario('unpolicied', 'Propose', seed001);
    const mmr = await proposed(ns);
    await deletePolicy(c, `${ns}-policy`);
    const s = await waitFor('NotCovered', async () =>
      (await status(c, ns, mmr.metadata.name)).reason === 'NotCovered' ? status(c, ns, mmr.metadata.name) : undefined,
    );
    expect(s.phase).toBe('Proposed');
  });

  it('an invalid policy fails closed: an overlapping Enforce policy writes nothing there', async () => {
    const ns = await scenario('closed', undefined, seed001);
    await create(c, {
      ...policy(`${ns}-invalid`, ns, 'Propose'),
      spec: { mode: 'Propose', namespaces: [ns], rules: [{ id: 'MM999' }] },
    });
    cleanups.push(() => deletePolicy(c, `${ns}-invalid`));
    await new Promise((r) => setTimeout(r, 300));
    await create(c, policy(`${ns}-enforce`, ns, 'Enforce'));
    cleanups.push(() => deletePolicy(c, `${ns}-enforce`));
    await waitFor('the Enforce policy says it is downgraded', async () => {
      const p = await read(c, MMR, 'MeshHealthPolicy', undefined, `${ns}-enforce`);
      return (p?.status as { modeInEffect?: string } | undefined)?.modeInEffect === 'Observe';
    });
    await op.idle();
    expect(tlsModes(await read(c, NET, 'DestinationRule', ns, 'httpbin'))).toEqual(['DISABLE']);
    expect(await remediations(c, ns)).toEqual([]);
  });

  it('proposals show objects without server-managed fields', async () => {
    const ns = await scenario('review', 'Propose', seed001);
    const mmr = await proposed(ns);
    // Owned by its target: a real cluster's garbage collector deletes it with the DestinationRule.
    expect((mmr.metadata as { ownerReferences?: unknown[] }).ownerReferences).toEqual([
      expect.objectContaining({
        apiVersion: NET,
        kind: 'DestinationRule',
        name: 'httpbin',
        uid: (await read(c, NET, 'DestinationRule', ns, 'httpbin'))?.metadata.uid,
      }),
    ]);
    const after = (mmr.spec as { after: KubeObject[] }).after[0];
    expect(after?.metadata).not.toHaveProperty('uid');
    expect(after?.metadata).not.toHaveProperty('resourceVersion');
    expect(after?.metadata).not.toHaveProperty('managedFields');
    expect((mmr.status as { message: string }).message).toContain(
      `kubectl -n ${ns} annotate meshremediation ${mmr.metadata.name} meshmedic.io/approve=${fixFingerprint((mmr.spec as { patches: never[] }).patches, [])}`,
    );
  });
});
