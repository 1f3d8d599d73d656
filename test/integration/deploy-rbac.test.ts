// deploy/ on a real API server: the least-privilege RBAC of deploy/rbac.yaml is enough for the real
// operator (run with a token of the ServiceAccount, never the admin's) and is not more than it needs.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuthorizationV1Api,
  CoordinationV1Api,
  KubeConfig,
  PatchStrategy,
  type KubernetesObject,
  type V1ResourceAttributes,
} from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Operator } from '../../src/controller/operator.js';
import type { KubeObject } from '../../src/model/types.js';
import { clientsFor, skipReason, tempNamespace, type Clients } from '../testbed/client.js';
import { kubeRequest } from '../testbed/http.js';
import {
  annotate,
  capturingLog,
  clients,
  create,
  deletePolicy,
  fingerprintOf,
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

const DEPLOY = join(import.meta.dirname, '..', '..', 'deploy');
const MMR = 'meshmedic.io/v1alpha1';
const ISTIO = 'networking.istio.io/v1';
const INSTALL_NS = 'meshmedic-system';

interface Installed {
  namespace: string;
  serviceAccount: string;
  objects: KubeObject[];
}

function manifests(file: string): KubeObject[] {
  return loadAll(readFileSync(join(DEPLOY, file), 'utf8')).filter(
    (d): d is KubeObject => typeof d === 'object' && d !== null,
  );
}

/**
 * The deploy/ manifests as they are, except for names that must not collide with another run (or a real
 * install on an external test cluster): meshmedic-system becomes `namespace`, and cluster-scoped RBAC
 * objects and the istio-system Role get `suffix`. Rules, verbs, subjects' kinds: untouched.
 */
function localize(objects: KubeObject[], namespace: string, suffix: string): KubeObject[] {
  const renamed = (kind: string, ns: string | undefined): boolean =>
    kind === 'ClusterRole' ||
    kind === 'ClusterRoleBinding' ||
    ((kind === 'Role' || kind === 'RoleBinding') && ns !== INSTALL_NS);
  return objects.map((o) => {
    const copy = JSON.parse(JSON.stringify(o)) as KubeObject & {
      roleRef?: { kind: string; name: string };
      subjects?: { kind: string; namespace?: string }[];
    };
    if (copy.kind === 'Namespace' && copy.metadata.name === INSTALL_NS) copy.metadata.name = namespace;
    if (copy.metadata.namespace === INSTALL_NS) copy.metadata.namespace = namespace;
    const ns = o.metadata.namespace;
    if (renamed(copy.kind, ns)) copy.metadata.name = `${copy.metadata.name}-${suffix}`;
    if (copy.roleRef && (copy.roleRef.kind === 'ClusterRole' || renamed('Role', ns)))
      copy.roleRef.name = `${copy.roleRef.name}-${suffix}`;
    for (const s of copy.subjects ?? []) if (s.namespace === INSTALL_NS) s.namespace = namespace;
    return copy;
  });
}

async function apply(c: Clients, o: KubeObject): Promise<void> {
  await c.objects.patch(
    o as KubernetesObject,
    undefined,
    undefined,
    'meshmedic-deploy-test',
    true,
    PatchStrategy.ServerSideApply,
  );
}

async function ensureNamespace(c: Clients, name: string): Promise<void> {
  await c.core.createNamespace({ body: { metadata: { name } } }).catch((err: unknown) => {
    if ((err as { code?: number }).code !== 409) throw err;
  });
}

/** A kubeconfig for the test bed's server and CA that authenticates with a bearer token only. */
function tokenKubeConfig(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the test bed kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ ...cluster, name: 'testbed' }, { name: 'meshmedic-sa', token });
  return kc;
}

function forbidden(reports: string[]): string[] {
  return reports.filter((s) => /forbidden|\b403\b|cannot (get|list|watch|create|patch|update|delete)/i.test(s));
}

function drTlsMode(o: KubeObject | undefined): string | undefined {
  return (o?.spec as { trafficPolicy?: { tls?: { mode?: string } } } | undefined)?.trafficPolicy?.tls?.mode;
}

/** `group/resource:verb` (and `[names]` when narrowed) for every rule a rules review returns. */
function expandRules(
  rules: { apiGroups?: string[]; resources?: string[]; resourceNames?: string[]; verbs: string[] }[],
): string[] {
  const out = new Set<string>();
  for (const r of rules) {
    for (const g of r.apiGroups ?? ['']) {
      for (const res of r.resources ?? []) {
        for (const v of r.verbs)
          out.add(
            `${g || 'core'}/${res}${r.resourceNames?.length ? `[${[...r.resourceNames].sort().join(',')}]` : ''}:${v}`,
          );
      }
    }
  }
  // Every authenticated user may ask what it may do (system:basic-user): not meshmedic's grant.
  return [...out].filter((x) => !/^(authorization|authentication)\.k8s\.io\/self/.test(x)).sort();
}

function grants(group: string, resources: string[], verbs: string[], names?: string[]): string[] {
  return resources.flatMap((r) => verbs.map((v) => `${group}/${r}${names ? `[${names.join(',')}]` : ''}:${v}`));
}

/** What the operator may do in any namespace: the ClusterRole, nothing else. */
const CLUSTER_WIDE = [
  ...grants(
    'networking.istio.io',
    ['destinationrules', 'virtualservices', 'serviceentries', 'gateways', 'sidecars'],
    ['get', 'list', 'watch'],
  ),
  ...grants('networking.istio.io', ['destinationrules', 'virtualservices', 'serviceentries', 'sidecars'], ['patch']),
  ...grants('networking.istio.io', ['destinationrules', 'serviceentries', 'virtualservices'], ['create', 'delete']),
  ...grants('security.istio.io', ['peerauthentications'], ['get', 'list', 'watch']),
  ...grants('security.istio.io', ['requestauthentications', 'authorizationpolicies'], ['list', 'watch']),
  ...grants('core', ['services', 'namespaces'], ['get', 'list', 'watch']),
  ...grants('core', ['pods', 'nodes'], ['list', 'watch']),
  ...grants('apps', ['deployments', 'statefulsets', 'daemonsets', 'replicasets'], ['list', 'watch']),
  ...grants(
    'gateway.networking.k8s.io',
    ['gatewayclasses', 'gateways', 'httproutes', 'grpcroutes', 'tcproutes', 'tlsroutes', 'referencegrants'],
    ['list', 'watch'],
  ),
  ...grants('core', ['events'], ['create', 'patch']),
  ...grants('meshmedic.io', ['meshhealthpolicies'], ['get', 'list', 'watch']),
  ...grants('meshmedic.io', ['meshhealthpolicies/status', 'meshremediations/status'], ['patch']),
  ...grants('meshmedic.io', ['meshremediations'], ['get', 'list', 'watch', 'create', 'patch', 'update', 'delete']),
];

describe.skipIf(skipReason() !== undefined)(
  'deploy/ RBAC: enough for the operator, and no more (real API server)',
  () => {
    let admin: Clients;
    let sa: Clients;
    let op: Operator | undefined;
    let install: Installed;
    let applied: KubeObject[] = [];
    const captured = capturingLog('info');
    const cleanups: (() => Promise<void>)[] = [];
    const scenarios: string[] = [];

    /** What the operator reported: its warnings, and the status of every MeshRemediation it wrote. */
    async function reports(): Promise<string[]> {
      const out = captured.records
        .filter((r) => Number(r['level']) >= 40)
        .map((r) => `log: ${String(r['msg'])}: ${JSON.stringify(r['err'] ?? '')}`);
      for (const ns of scenarios) {
        for (const r of await remediations(admin, ns))
          out.push(
            `${ns}/${r.metadata.name} ${phase(r) ?? '-'}: ${(r.status as { message?: string } | undefined)?.message ?? ''}`,
          );
      }
      return out;
    }

    async function waitOr<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 30_000): Promise<NonNullable<T>> {
      try {
        return await waitFor(what, fn, timeoutMs);
      } catch (err) {
        throw new Error(`${(err as Error).message}\noperator reports:\n${(await reports()).slice(-8).join('\n')}`, {
          cause: err,
        });
      }
    }

    async function scenario(prefix: string, mode: string, objects: (ns: string) => KubeObject[]): Promise<string> {
      const ns = await tempNamespace(admin.core, prefix);
      scenarios.push(ns.name);
      const name = `${ns.name}-policy`;
      cleanups.push(ns.remove, () => deletePolicy(admin, name));
      for (const o of objects(ns.name)) await create(admin, o);
      await create(admin, policy(name, ns.name, mode));
      return ns.name;
    }

    async function can(attrs: V1ResourceAttributes): Promise<boolean> {
      const review = await sa.kc
        .makeApiClient(AuthorizationV1Api)
        .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } });
      return review.status?.allowed === true;
    }

    beforeAll(async () => {
      admin = clients();
      const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
      const namespace = `mm-deploy-${suffix}`;
      const objects = localize(
        [...manifests('namespace.yaml'), ...manifests('serviceaccount.yaml'), ...manifests('rbac.yaml')],
        namespace,
        suffix,
      );
      const serviceAccount = objects.find((o) => o.kind === 'ServiceAccount')?.metadata.name;
      if (!serviceAccount) throw new Error('deploy/serviceaccount.yaml holds no ServiceAccount');
      install = { namespace, serviceAccount, objects };

      // The mesh-config Role lives in istio-system, which Istio creates (here: an empty stand-in, kept).
      await ensureNamespace(admin, 'istio-system');
      for (const o of objects) {
        await apply(admin, o);
        applied.push(o);
      }
      cleanups.push(async () => {
        for (const o of [...applied].reverse()) {
          await admin.objects.delete(o as KubernetesObject).catch(() => undefined);
        }
        applied = [];
      });

      const token = await admin.core.createNamespacedServiceAccountToken({
        name: serviceAccount,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      const bearer = token.status?.token;
      if (!bearer) throw new Error('TokenRequest returned no token');
      sa = clientsFor(tokenKubeConfig(admin.kc, bearer));
      // The operator exactly as `meshmedic run` builds it in the pod: its namespace is the ServiceAccount's.
      op = await startOperator(sa, namespace, { log: captured.log });
    });

    afterAll(async () => {
      await op?.stop();
      for (const f of cleanups.reverse()) await f();
    });

    it('authenticates as the ServiceAccount, not as the admin', async () => {
      // Secrets: what the admin may list and this ServiceAccount may not (pods it lists: rules read them).
      const who = await sa.core.listNamespacedSecret({ namespace: install.namespace }).then(
        () => 'allowed',
        (err: unknown) => String((err as { code?: number }).code),
      );
      expect(who).toBe('403');
      const lease = await admin.kc
        .makeApiClient(CoordinationV1Api)
        .readNamespacedLease({ name: 'meshmedic-leader', namespace: install.namespace });
      expect(lease.spec?.holderIdentity).toBeTruthy();
      expect(op?.isLeader).toBe(true);
    });

    it('Propose (seed 001): a proposal appears; approving it sets ISTIO_MUTUAL; rollback restores DISABLE', async () => {
      const ns = await scenario('rbac-propose', 'Propose', seed001);
      const mmr = await waitOr('an MM101 proposal', async () =>
        (await remediations(admin, ns)).find(
          (r) => phase(r) === 'Proposed' && (r.spec as { rule: string }).rule === 'MM101',
        ),
      );
      const ref = { apiVersion: MMR, kind: 'MeshRemediation', namespace: ns, name: mmr.metadata.name };

      await annotate(admin, ref, { 'meshmedic.io/approve': fingerprintOf(mmr) });
      const fixed = await waitOr('the DestinationRule fixed', async () => {
        const dr = await read(admin, ISTIO, 'DestinationRule', ns, 'httpbin');
        return drTlsMode(dr) === 'ISTIO_MUTUAL' ? dr : undefined;
      });
      expect(fixed.metadata.annotations?.['meshmedic.io/fixed-mm101']).toContain('"before":"DISABLE"');
      await waitOr(
        'the proposal Applied',
        async () => phase(await read(admin, MMR, 'MeshRemediation', ns, mmr.metadata.name)) === 'Applied',
      );

      await annotate(admin, ref, { 'meshmedic.io/rollback': 'true' });
      await waitOr(
        'the DestinationRule restored',
        async () => drTlsMode(await read(admin, ISTIO, 'DestinationRule', ns, 'httpbin')) === 'DISABLE',
      );
      await waitOr(
        'the proposal RolledBack',
        async () => phase(await read(admin, MMR, 'MeshRemediation', ns, mmr.metadata.name)) === 'RolledBack',
      );

      // Events and the policy status were written too (events create, meshhealthpolicies/status patch).
      const events = await admin.core.listNamespacedEvent({ namespace: ns });
      expect(events.items.map((e) => e.reason)).toEqual(
        expect.arrayContaining(['RemediationProposed', 'RemediationApplied']),
      );
      await waitOr(
        'the policy status',
        async () => (await read(admin, MMR, 'MeshHealthPolicy', undefined, `${ns}-policy`))?.status,
      );
    });

    it('Propose (seed 000): approval creates a DestinationRule (server-side apply); rollback deletes it', async () => {
      const ns = await scenario('rbac-create', 'Propose', seed000);
      const mmr = await waitOr('an MM102 proposal', async () =>
        (await remediations(admin, ns)).find(
          (r) => phase(r) === 'Proposed' && (r.spec as { rule: string }).rule === 'MM102',
        ),
      );
      const ref = { apiVersion: MMR, kind: 'MeshRemediation', namespace: ns, name: mmr.metadata.name };
      await annotate(admin, ref, { 'meshmedic.io/approve': fingerprintOf(mmr) });
      const created = await waitOr('the DestinationRule created', () =>
        read(admin, ISTIO, 'DestinationRule', ns, 'dev-bar-org-tls'),
      );
      expect(created.metadata.labels?.['app.kubernetes.io/managed-by']).toBe('meshmedic');
      await waitOr(
        'the proposal Applied',
        async () => phase(await read(admin, MMR, 'MeshRemediation', ns, mmr.metadata.name)) === 'Applied',
      );

      await annotate(admin, ref, { 'meshmedic.io/rollback': 'true' });
      await waitOr(
        'the proposal RolledBack',
        async () => phase(await read(admin, MMR, 'MeshRemediation', ns, mmr.metadata.name)) === 'RolledBack',
      );
      expect(await read(admin, ISTIO, 'DestinationRule', ns, 'dev-bar-org-tls')).toBeUndefined();
    });

    it('Enforce (seed 003): the ServiceEntry gets its addresses without a review', async () => {
      const ns = await scenario('rbac-enforce', 'Enforce', seed003);
      const se = await waitOr('addresses filled', async () => {
        const o = await read(admin, ISTIO, 'ServiceEntry', ns, 'mysql');
        return (o?.spec as { addresses?: string[] } | undefined)?.addresses?.length ? o : undefined;
      });
      const svc = await admin.core.readNamespacedService({ name: 'mysql', namespace: ns });
      expect((se.spec as { addresses: string[] }).addresses).toEqual([svc.spec?.clusterIP]);
      await waitOr('the remediation record Applied', async () =>
        (await remediations(admin, ns)).some((r) => phase(r) === 'Applied'),
      );
    });

    it('the operator met no Forbidden on any call it made (logs, remediation statuses, retries)', async () => {
      // Bounded: a call that keeps failing keeps its key in the queue (retried with backoff).
      await Promise.race([op?.idle(), new Promise((r) => setTimeout(r, 10_000))]);
      expect(scenarios.length).toBeGreaterThanOrEqual(3);
      expect(forbidden(await reports())).toEqual([]);
      expect((await op?.metrics.reconcileErrors.get())?.values.reduce((s, v) => s + v.value, 0) ?? 0).toBe(0);
    });

    it('without the opt-in meshmedic-secrets binding it does not watch Secrets, says why, and is ready', async () => {
      const gauge = await op?.metrics.watchedKinds.get();
      const secret = gauge?.values.filter((v) => v.labels['kind'] === 'Secret' && v.value === 1);
      expect(secret?.map((v) => v.labels['watched'])).toEqual(['false']);
      const line = captured.records.find((r) => r['kind'] === 'Secret' && /not watched/.test(String(r['msg'])));
      expect(String(line?.['reason'])).toMatch(/meshmedic-secrets/);
      expect(op?.ready).toBe(true);
    });

    it('grants exactly the expected rules: cluster-wide, in its own namespace, and in istio-system', async () => {
      const rulesIn = async (namespace: string): Promise<string[]> => {
        const review = await sa.kc
          .makeApiClient(AuthorizationV1Api)
          .createSelfSubjectRulesReview({ body: { spec: { namespace } } });
        expect(review.status?.incomplete).toBe(false);
        return expandRules(review.status?.resourceRules ?? []);
      };
      const scenarioNs = await tempNamespace(admin.core, 'rbac-rules');
      cleanups.push(scenarioNs.remove);
      expect(await rulesIn(scenarioNs.name)).toEqual([...CLUSTER_WIDE].sort());
      expect(await rulesIn(install.namespace)).toEqual(
        [
          ...CLUSTER_WIDE,
          'coordination.k8s.io/leases:create',
          ...grants('coordination.k8s.io', ['leases'], ['get', 'update'], ['meshmedic-leader']),
        ].sort(),
      );
      expect(await rulesIn('istio-system')).toEqual(
        [...CLUSTER_WIDE, ...grants('core', ['configmaps'], ['get', 'list', 'watch'])].sort(),
      );
    });

    it('may not touch what it never needs (SelfSubjectAccessReview)', async () => {
      const ns = 'default';
      const denied: [string, V1ResourceAttributes][] = [
        ['read Secrets anywhere', { verb: 'list', resource: 'secrets' }],
        ['read a Secret in its own namespace', { verb: 'get', resource: 'secrets', namespace: install.namespace }],
        ['delete Services', { verb: 'delete', resource: 'services', namespace: ns }],
        ['patch Services', { verb: 'patch', resource: 'services', namespace: ns }],
        ['patch Deployments', { verb: 'patch', group: 'apps', resource: 'deployments', namespace: ns }],
        ['create Pods', { verb: 'create', resource: 'pods', namespace: ns }],
        ['exec into Pods', { verb: 'create', resource: 'pods', subresource: 'exec', namespace: ns }],
        ['read ConfigMaps outside istio-system', { verb: 'list', resource: 'configmaps', namespace: 'kube-system' }],
        ['read ConfigMaps cluster-wide', { verb: 'list', resource: 'configmaps' }],
        [
          'weaken mTLS (patch PeerAuthentications)',
          { verb: 'patch', group: 'security.istio.io', resource: 'peerauthentications', namespace: ns },
        ],
        [
          'delete PeerAuthentications',
          { verb: 'delete', group: 'security.istio.io', resource: 'peerauthentications', namespace: ns },
        ],
        [
          'create Gateways (no fix creates one)',
          { verb: 'create', group: 'networking.istio.io', resource: 'gateways', namespace: ns },
        ],
        ['patch Gateways', { verb: 'patch', group: 'networking.istio.io', resource: 'gateways', namespace: ns }],
        ['create Sidecars', { verb: 'create', group: 'networking.istio.io', resource: 'sidecars', namespace: ns }],
        ['read pod logs', { verb: 'get', resource: 'pods', subresource: 'log', namespace: ns }],
        ['delete Sidecars', { verb: 'delete', group: 'networking.istio.io', resource: 'sidecars', namespace: ns }],
        [
          'update DestinationRules (it patches)',
          { verb: 'update', group: 'networking.istio.io', resource: 'destinationrules', namespace: ns },
        ],
        [
          'delete all DestinationRules at once',
          { verb: 'deletecollection', group: 'networking.istio.io', resource: 'destinationrules', namespace: ns },
        ],
        [
          "write MeshHealthPolicies (the users' settings)",
          { verb: 'patch', group: 'meshmedic.io', resource: 'meshhealthpolicies' },
        ],
        ['delete MeshHealthPolicies', { verb: 'delete', group: 'meshmedic.io', resource: 'meshhealthpolicies' }],
        [
          'take over another Lease in its namespace',
          {
            verb: 'update',
            group: 'coordination.k8s.io',
            resource: 'leases',
            name: 'kube-scheduler',
            namespace: install.namespace,
          },
        ],
        [
          'touch Leases elsewhere',
          {
            verb: 'update',
            group: 'coordination.k8s.io',
            resource: 'leases',
            name: 'meshmedic-leader',
            namespace: 'kube-system',
          },
        ],
        ['delete Namespaces', { verb: 'delete', resource: 'namespaces', name: ns }],
        [
          'grant itself more (create ClusterRoleBindings)',
          { verb: 'create', group: 'rbac.authorization.k8s.io', resource: 'clusterrolebindings' },
        ],
        ['escalate ClusterRoles', { verb: 'escalate', group: 'rbac.authorization.k8s.io', resource: 'clusterroles' }],
        ['impersonate users', { verb: 'impersonate', resource: 'users' }],
        [
          'mint ServiceAccount tokens',
          { verb: 'create', resource: 'serviceaccounts', subresource: 'token', namespace: install.namespace },
        ],
        ['change CRDs', { verb: 'patch', group: 'apiextensions.k8s.io', resource: 'customresourcedefinitions' }],
      ];
      const allowed: string[] = [];
      for (const [what, attrs] of denied) if (await can(attrs)) allowed.push(what);
      expect(allowed).toEqual([]);

      // And the review itself says yes where it should (so a broken review cannot pass the test above).
      expect(
        await can({ verb: 'patch', group: 'networking.istio.io', resource: 'destinationrules', namespace: ns }),
      ).toBe(true);
      expect(
        await can({
          verb: 'update',
          group: 'coordination.k8s.io',
          resource: 'leases',
          name: 'meshmedic-leader',
          namespace: install.namespace,
        }),
      ).toBe(true);
    });

    it('the Deployment and PodDisruptionBudget are valid, and the pod passes Pod Security "restricted" (server dry run)', async () => {
      const workload = localize(
        [...manifests('deployment.yaml'), ...manifests('pdb.yaml')],
        install.namespace,
        'unused',
      );
      expect(workload.map((o) => o.kind).sort()).toEqual(['Deployment', 'PodDisruptionBudget']);
      // Strict field validation: a field the API does not declare (a misspelt securityContext field, say) is
      // an error, not a warning and a silently dropped setting.
      const paths: Record<string, string> = {
        Deployment: '/apis/apps/v1/namespaces/NS/deployments',
        PodDisruptionBudget: '/apis/policy/v1/namespaces/NS/poddisruptionbudgets',
      };
      for (const o of workload) {
        const path = `${(paths[o.kind] ?? '').replace('NS', install.namespace)}/${o.metadata.name}?dryRun=All&fieldManager=meshmedic-deploy-test&force=true&fieldValidation=Strict`;
        const res = await kubeRequest(admin.kc, 'PATCH', path, o, 'application/apply-patch+yaml');
        expect(res.status < 300 ? 'accepted' : `${o.kind}: HTTP ${res.status} ${res.body}`).toBe('accepted');
      }
      // Pod Security admission enforces on pods, not Deployments: dry-run the pod the Deployment would make,
      // in the namespace from deploy/namespace.yaml (pod-security.kubernetes.io/enforce: restricted).
      const dep = workload.find((o) => o.kind === 'Deployment');
      const template = (dep?.spec as { template: { metadata: KubeObject['metadata']; spec: Record<string, unknown> } })
        .template;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...template.metadata, name: 'meshmedic-restricted-check', namespace: install.namespace },
        spec: template.spec,
      };
      const nsLabels = (await admin.core.readNamespace({ name: install.namespace })).metadata?.labels ?? {};
      expect(nsLabels['pod-security.kubernetes.io/enforce']).toBe('restricted');
      const res = await kubeRequest(
        admin.kc,
        'POST',
        `/api/v1/namespaces/${install.namespace}/pods?dryRun=All&fieldValidation=Strict`,
        pod,
      );
      expect(res.status < 300 ? 'accepted' : `Pod: HTTP ${res.status} ${res.body}`).toBe('accepted');
    });

    it('reads pod logs only where a RoleBinding to meshmedic-access-logs allows it (opt-in per namespace)', async () => {
      const role = install.objects.find(
        (o) => o.kind === 'ClusterRole' && o.metadata.name.startsWith('meshmedic-access-logs'),
      );
      if (!role) throw new Error('deploy/rbac.yaml holds no meshmedic-access-logs ClusterRole');
      const [opted, other] = [
        await tempNamespace(admin.core, 'rbac-logs'),
        await tempNamespace(admin.core, 'rbac-nologs'),
      ];
      cleanups.push(opted.remove, other.remove);
      const logs = (namespace: string): V1ResourceAttributes => ({
        verb: 'get',
        resource: 'pods',
        subresource: 'log',
        namespace,
      });
      // Pods are listed cluster-wide (the ClusterRole: rules read them); their logs and a pod read are not.
      const pod = (namespace: string): V1ResourceAttributes => ({ verb: 'get', resource: 'pods', namespace });
      expect([await can(logs(opted.name)), await can(pod(opted.name))]).toEqual([false, false]);
      await create(admin, {
        apiVersion: 'rbac.authorization.k8s.io/v1',
        kind: 'RoleBinding',
        metadata: { name: 'meshmedic-access-logs', namespace: opted.name },
        roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name },
        subjects: [{ kind: 'ServiceAccount', name: install.serviceAccount, namespace: install.namespace }],
      });
      await waitOr('the RoleBinding in effect', () => can(logs(opted.name)));
      expect([await can(logs(other.name)), await can(pod(opted.name)), await can(pod(other.name))]).toEqual([
        false,
        false,
        false,
      ]);
    });

    it('is refused by the API server when it tries (real requests, not only reviews)', async () => {
      const ns = await scenario('rbac-deny', 'Observe', seed001);
      const code = (p: Promise<unknown>): Promise<number | undefined> =>
        p.then(
          () => undefined,
          (err: unknown) => (err as { code?: number }).code,
        );
      expect(await code(sa.core.listSecretForAllNamespaces())).toBe(403);
      expect(await code(sa.core.deleteNamespacedService({ name: 'httpbin', namespace: ns }))).toBe(403);
      expect(
        await code(
          sa.custom.deleteNamespacedCustomObject({
            group: 'security.istio.io',
            version: 'v1',
            plural: 'peerauthentications',
            namespace: ns,
            name: 'default',
          }),
        ),
      ).toBe(403);
      expect(await admin.core.readNamespacedService({ name: 'httpbin', namespace: ns })).toBeTruthy();
      expect(await read(admin, 'security.istio.io/v1', 'PeerAuthentication', ns, 'default')).toBeTruthy();
    });

    it('does not report ready while a watch it needs is forbidden, and becomes ready once it is allowed', async () => {
      const binding = install.objects.find((o) => o.kind === 'RoleBinding' && o.metadata.namespace === 'istio-system');
      if (!binding) throw new Error('deploy/rbac.yaml binds no Role in istio-system');
      await admin.objects.delete(binding as KubernetesObject);
      // The RBAC allows only the meshmedic-leader Lease: the first instance steps down and gives it back.
      await op?.stop();
      op = undefined;
      const second = new Operator({
        kubeConfig: sa.kc,
        log: capturingLog('info').log,
        namespace: install.namespace,
        leaseDurationSeconds: 4,
        retryPeriodMs: 500,
        resyncIntervalMs: 3_600_000,
      });
      try {
        second.start();
        await waitFor('the second instance to lead', () => second.isLeader);
        await new Promise((r) => setTimeout(r, 3000));
        expect(second.isLeader).toBe(true);
        expect(second.ready).toBe(false);
        await apply(admin, binding);
        await waitFor('ready once the mesh config can be listed', () => second.ready, 40_000);
      } finally {
        await second.stop();
        await apply(admin, binding);
      }
    });
  },
);
