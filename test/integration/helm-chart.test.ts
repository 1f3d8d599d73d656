// charts/meshmedic on a real API server: `helm lint` and `helm template` are clean, the chart renders the
// same RBAC rules and the same hardened pod as deploy/, `helm install` is accepted, and the operator becomes
// ready from it: `meshmedic run` as a local process, with the args and env of the installed Deployment and a
// token of the chart's ServiceAccount (so the chart's RBAC is what is exercised), reports ready on /readyz
// and turns a faulty example into a MeshRemediation. `helm uninstall` then removes what it installed.
// The test bed has no kubelet: the Deployment is stored, its pods never run.
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { AuthorizationV1Api, KubeConfig, type V1ResourceAttributes } from '@kubernetes/client-node';
import { dump, loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { preflight } from '../../src/controller/preflight.js';
import type { KubeObject } from '../../src/model/types.js';
import { buildBinaries, cachedBinaries, repoRoot } from '../testbed/binaries.js';
import { clientsFor, skipReason, testbed, type Clients } from '../testbed/client.js';
import { kubeRequest } from '../testbed/http.js';
import { freePort, registerTempDir, removeTempDir, startProcess, type ManagedProcess } from '../testbed/processes.js';
import {
  annotate,
  clients,
  create,
  fingerprintOf,
  phase,
  read,
  remediations,
  seed001,
  waitFor,
} from './operator-harness.js';

const run = promisify(execFile);
const CHART = join(repoRoot, 'charts', 'meshmedic');
const DEPLOY = join(repoRoot, 'deploy');
const MMR = 'meshmedic.io/v1alpha1';

type Doc = KubeObject & {
  rules?: unknown[];
  roleRef?: { apiGroup?: string; kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string; apiGroup?: string }[];
};

interface Container {
  name: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
}
interface DeploymentSpec {
  replicas: number;
  selector: { matchLabels: Record<string, string> };
  template: {
    metadata: { labels: Record<string, string>; annotations: Record<string, string> };
    spec: { containers: Container[] } & Record<string, unknown>;
  };
}

function docs(text: string): Doc[] {
  return loadAll(text).filter((d): d is Doc => typeof d === 'object' && d !== null);
}
const deployDocs = (file: string): Doc[] => docs(readFileSync(join(DEPLOY, file), 'utf8'));
const find = (all: Doc[], kind: string, name?: string): Doc[] =>
  all.filter((d) => d.kind === kind && (name === undefined || d.metadata.name === name));
function only(all: Doc[], kind: string, name?: string): Doc {
  const found = find(all, kind, name);
  if (found.length !== 1) throw new Error(`expected one ${kind}${name ? `/${name}` : ''}, rendered ${found.length}`);
  return found[0] as Doc;
}

/** `$(VAR)` in an argument, expanded from the container's env as the kubelet does. */
function expand(arg: string, env: Record<string, string>): string {
  return arg.replace(/\$\((\w+)\)/g, (whole, name: string) => env[name] ?? whole);
}

function tokenKubeConfig(admin: KubeConfig, token: string): KubeConfig {
  const cluster = admin.getCurrentCluster();
  if (!cluster) throw new Error('the test bed kubeconfig has no current cluster');
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser({ ...cluster, name: 'testbed' }, { name: 'meshmedic-chart-sa', token });
  return kc;
}

describe.skipIf(skipReason() !== undefined)(
  'charts/meshmedic: lint, template, install on a real API server, the operator ready from it',
  () => {
    const suffix = `${Date.now().toString(36)}${Math.floor(Math.random() * 1e4).toString(36)}`;
    // The release name contains "meshmedic": the objects are named after it (fullname), unique per run.
    const release = `meshmedic-${suffix}`;
    const namespace = `mm-helm-${suffix}`;
    const scenarioNs = `mm-helm-shop-${suffix}`;
    const otherNs = `mm-helm-other-${suffix}`;
    const reviewers = `shop-team-${suffix}`;
    let helmBin = '';
    let dir = '';
    let admin: Clients;
    let sa: Clients;
    let port = 0;
    let valuesFile = '';
    let operator: ManagedProcess | undefined;
    let installed = false;

    const helmEnv = (): NodeJS.ProcessEnv => ({
      ...process.env,
      HELM_CACHE_HOME: join(dir, 'helm', 'cache'),
      HELM_CONFIG_HOME: join(dir, 'helm', 'config'),
      HELM_DATA_HOME: join(dir, 'helm', 'data'),
      KUBECONFIG: testbed().kubeconfig ?? '',
    });
    async function helm(...args: string[]): Promise<{ stdout: string; stderr: string }> {
      try {
        return await run(helmBin, args, { env: helmEnv(), maxBuffer: 64 * 1024 * 1024 });
      } catch (err) {
        const e = err as { stdout?: string; stderr?: string; message: string };
        throw new Error(`helm ${args.join(' ')}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`, { cause: err });
      }
    }
    const template = async (...args: string[]): Promise<Doc[]> =>
      docs((await helm('template', release, CHART, '--namespace', namespace, ...args)).stdout);

    async function can(c: Clients, attrs: V1ResourceAttributes): Promise<boolean> {
      const review = await c.kc
        .makeApiClient(AuthorizationV1Api)
        .createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: attrs } } });
      return review.status?.allowed === true;
    }

    beforeAll(async () => {
      helmBin = ((await cachedBinaries(['helm'])) ?? (await buildBinaries(['helm']))).helm;
      dir = mkdtempSync(join(tmpdir(), 'meshmedic-helm-'));
      registerTempDir(dir);
      admin = clients();
      port = await freePort();
      // What an installation of this test sets: the metrics port (a free one: the operator runs on this
      // machine), a Propose policy for the scenario namespace, log-reading evidence there, and its reviewers.
      valuesFile = join(dir, 'values.yaml');
      writeFileSync(
        valuesFile,
        dump({
          operator: { metricsPort: port },
          policy: { create: true, mode: 'Propose', namespaces: [scenarioNs], namespaceSelector: null },
          evidence: { accessLogs: { namespaces: [scenarioNs] } },
          reviewers: [{ namespace: scenarioNs, groups: [reviewers] }],
        }),
      );
      // The release namespace enforces Pod Security "restricted", as deploy/namespace.yaml; Istio's root
      // namespace holds the chart's read-only Role (an empty stand-in here, kept).
      await admin.core.createNamespace({
        body: {
          metadata: {
            name: namespace,
            labels: {
              'meshmedic.io/test': 'integration',
              'pod-security.kubernetes.io/enforce': 'restricted',
              'pod-security.kubernetes.io/enforce-version': 'latest',
            },
          },
        },
      });
      for (const ns of [scenarioNs, otherNs])
        await admin.core.createNamespace({
          body: { metadata: { name: ns, labels: { 'meshmedic.io/test': 'integration' } } },
        });
      await admin.core.createNamespace({ body: { metadata: { name: 'istio-system' } } }).catch((err: unknown) => {
        if ((err as { code?: number }).code !== 409) throw err;
      });
    }, 900_000);

    afterAll(async () => {
      await operator?.stop();
      if (installed) await helm('uninstall', release, '--namespace', namespace).catch(() => undefined);
      for (const ns of [namespace, scenarioNs, otherNs])
        await admin.core.deleteNamespace({ name: ns }).catch(() => undefined);
      if (dir) removeTempDir(dir);
    });

    it("helm lint is clean, with the default values, this install's and the ServiceMonitor on", async () => {
      for (const args of [[], ['-f', valuesFile], ['--set', 'serviceMonitor.enabled=true']]) {
        const { stdout, stderr } = await helm('lint', '--strict', CHART, ...args);
        expect(stdout, args.join(' ')).toContain('1 chart(s) linted, 0 chart(s) failed');
        expect(`${stdout}\n${stderr}`, args.join(' ')).not.toMatch(/\[(WARNING|ERROR)\]/);
      }
    });

    it("helm template renders the RBAC rules of deploy/rbac.yaml, verbatim, for the release's ServiceAccount", async () => {
      const rendered = await template();
      const fullname = release;
      expect(only(rendered, 'ServiceAccount').metadata).toMatchObject({ name: fullname, namespace });
      const subject = [{ kind: 'ServiceAccount', name: fullname, namespace }];
      const rbac = deployDocs('rbac.yaml');
      const renamed = (name: string): string => name.replace(/^meshmedic/, fullname);
      const relocated = (ns: string | undefined): string | undefined => (ns === 'meshmedic-system' ? namespace : ns);
      expect(rbac.length).toBeGreaterThan(0);
      for (const want of rbac) {
        const got = only(rendered, want.kind, renamed(want.metadata.name));
        expect(got.metadata.namespace, `${want.kind}/${want.metadata.name}`).toBe(relocated(want.metadata.namespace));
        if (want.rules) expect(got.rules, `${want.kind}/${want.metadata.name} rules`).toEqual(want.rules);
        if (want.roleRef) {
          expect(got.roleRef).toEqual({ ...want.roleRef, name: renamed(want.roleRef.name) });
          expect(got.subjects).toEqual(subject);
        }
      }
      // Nothing more: the roles and bindings rendered are exactly deploy/'s (no reviewers or log bindings by default).
      const rbacKinds = ['ClusterRole', 'ClusterRoleBinding', 'Role', 'RoleBinding'];
      expect(
        rendered
          .filter((d) => rbacKinds.includes(d.kind))
          .map((d) => `${d.kind}/${d.metadata.name}`)
          .sort(),
      ).toEqual(rbac.map((d) => `${d.kind}/${renamed(d.metadata.name)}`).sort());
      // The admission policy too, and no ServiceMonitor, metrics Service or policy unless asked for.
      for (const want of deployDocs('admission.yaml')) {
        const got = only(rendered, want.kind, renamed(want.metadata.name));
        expect(got.spec).toEqual(
          want.kind === 'ValidatingAdmissionPolicyBinding'
            ? { ...(want.spec as object), policyName: renamed((want.spec as { policyName: string }).policyName) }
            : want.spec,
        );
      }
      expect([...new Set(rendered.map((d) => d.kind))].sort()).toEqual(
        [
          ...rbacKinds,
          'Deployment',
          'PodDisruptionBudget',
          'ServiceAccount',
          'ValidatingAdmissionPolicy',
          'ValidatingAdmissionPolicyBinding',
        ].sort(),
      );
    });

    it('helm template renders the Deployment and PodDisruptionBudget of deploy/, hardened the same, labels aside', async () => {
      const rendered = await template();
      const want = only(deployDocs('deployment.yaml'), 'Deployment').spec as DeploymentSpec;
      const got = only(rendered, 'Deployment').spec as DeploymentSpec;
      const selector = got.selector.matchLabels;
      expect(selector).toEqual({
        'app.kubernetes.io/name': 'meshmedic',
        'app.kubernetes.io/instance': release,
        'app.kubernetes.io/component': 'controller',
      });
      expect(got.template.metadata.labels).toMatchObject(selector);
      expect(got.template.metadata.annotations).toEqual(want.template.metadata.annotations);
      // deploy/'s selector labels are a subset; the chart adds the release (app.kubernetes.io/instance).
      expect(selector).toMatchObject(want.selector.matchLabels);
      const strip = (s: DeploymentSpec): unknown => {
        const copy = JSON.parse(JSON.stringify(s)) as {
          selector?: unknown;
          template: { metadata?: unknown; spec: Record<string, unknown> };
        };
        delete copy.selector;
        delete copy.template.metadata;
        const text = JSON.stringify(copy).replace(/"matchLabels":\{[^}]*\}/g, '"matchLabels":"<selector>"');
        return JSON.parse(text) as unknown;
      };
      const [c] = got.template.spec.containers;
      // The chart states the resync period deploy/ leaves at its default (300 s): the only difference.
      expect(c?.args).toEqual([...(want.template.spec.containers[0]?.args ?? []), '--resync=300']);
      const wantStripped = strip(want) as DeploymentSpec;
      const gotStripped = strip(got) as DeploymentSpec;
      (gotStripped.template.spec.containers[0] as Container).args = want.template.spec.containers[0]?.args ?? [];
      // The ServiceAccount is the release's (named meshmedic when the release is).
      expect(gotStripped.template.spec['serviceAccountName']).toBe(release);
      gotStripped.template.spec['serviceAccountName'] = want.template.spec['serviceAccountName'];
      // The image: meshmedic:<appVersion>, the tag deploy/kustomization.yaml sets.
      expect(gotStripped).toEqual(wantStripped);
      for (const t of [
        ...(got.template.spec['topologySpreadConstraints'] as { labelSelector: { matchLabels: unknown } }[]),
      ])
        expect(t.labelSelector.matchLabels).toEqual(selector);

      const pdb = only(rendered, 'PodDisruptionBudget').spec as {
        minAvailable: number;
        selector: { matchLabels: unknown };
      };
      expect(pdb).toEqual({
        minAvailable: (only(deployDocs('pdb.yaml'), 'PodDisruptionBudget').spec as { minAvailable: number })
          .minAvailable,
        selector: { matchLabels: selector },
      });
    });

    it('helm template: rbac.secrets binds the Secrets ClusterRole to the release ServiceAccount (unbound by default)', async () => {
      const bindings = (docs: Doc[]): Doc[] =>
        docs.filter((d) => d.kind === 'ClusterRoleBinding' && d.metadata.name === `${release}-secrets`);
      expect(bindings(await template())).toEqual([]);
      const [binding, ...more] = bindings(await template('--set', 'rbac.secrets=true'));
      expect(more).toEqual([]);
      expect(binding?.roleRef).toEqual({
        apiGroup: 'rbac.authorization.k8s.io',
        kind: 'ClusterRole',
        name: `${release}-secrets`,
      });
      expect(binding?.subjects).toEqual([{ kind: 'ServiceAccount', name: release, namespace }]);
    });

    it('helm template: the values for mode, replicas, resources, image, evidence, reviewers and the ServiceMonitor', async () => {
      const rendered = await template(
        '-f',
        valuesFile,
        '--set',
        'replicaCount=3',
        '--set',
        'image.repository=registry.example/meshmedic',
        '--set',
        'image.tag=0.1.1',
        '--set',
        'resources.limits.memory=1Gi',
        '--set',
        'operator.logLevel=debug',
        '--set',
        'serviceMonitor.enabled=true',
        '--set',
        'serviceMonitor.labels.release=prom',
      );
      const dep = only(rendered, 'Deployment').spec as DeploymentSpec & {
        template: {
          spec: { containers: (Container & { image: string; resources: { limits: Record<string, string> } })[] };
        };
      };
      const c = dep.template.spec.containers[0];
      expect(dep.replicas).toBe(3);
      expect(c?.image).toBe('registry.example/meshmedic:0.1.1');
      expect(c?.resources.limits['memory']).toBe('1Gi');
      expect(c?.args).toContain(`--metrics-port=${port}`);
      expect(c?.ports).toEqual([{ name: 'metrics', containerPort: port, protocol: 'TCP' }]);
      expect(c?.env).toContainEqual({ name: 'MESHMEDIC_LOG_LEVEL', value: 'debug' });
      expect(only(rendered, 'MeshHealthPolicy').spec).toEqual({ mode: 'Propose', namespaces: [scenarioNs] });
      expect(only(rendered, 'RoleBinding', `${release}-access-logs`)).toMatchObject({
        metadata: { namespace: scenarioNs },
        roleRef: { kind: 'ClusterRole', name: `${release}-access-logs` },
      });
      expect(only(rendered, 'Role', `${release}-meshremediation-reviewer`)).toMatchObject({
        metadata: { namespace: scenarioNs },
        rules: [
          {
            apiGroups: ['meshmedic.io'],
            resources: ['meshremediations'],
            verbs: ['get', 'list', 'watch', 'patch', 'delete'],
          },
        ],
      });
      expect(only(rendered, 'RoleBinding', `${release}-meshremediation-reviewer`).subjects).toEqual([
        { apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: reviewers },
      ]);
      // ServiceMonitor (prometheus-operator) -> metrics Service -> the controller's pods, port "metrics".
      const sm = only(rendered, 'ServiceMonitor');
      expect(sm.apiVersion).toBe('monitoring.coreos.com/v1');
      expect(sm.metadata.labels?.['release']).toBe('prom');
      const svc = only(rendered, 'Service');
      const smSpec = sm.spec as {
        selector: { matchLabels: Record<string, string> };
        endpoints: { port: string; path: string }[];
        namespaceSelector: { matchNames: string[] };
      };
      expect(svc.metadata.labels).toMatchObject(smSpec.selector.matchLabels);
      expect(smSpec.endpoints).toMatchObject([{ port: 'metrics', path: '/metrics' }]);
      expect(smSpec.namespaceSelector.matchNames).toEqual([namespace]);
      const svcSpec = svc.spec as {
        selector: Record<string, string>;
        ports: { name: string; port: number; targetPort: string }[];
      };
      expect(dep.template.metadata.labels).toMatchObject(svcSpec.selector);
      expect(svcSpec.ports).toMatchObject([{ name: 'metrics', port, targetPort: 'metrics' }]);
      // A wrong mode fails the render instead of installing a policy the API server would refuse.
      await expect(template('--set', 'policy.create=true', '--set', 'policy.mode=Fix')).rejects.toThrow(
        /policy.mode must be Observe, Propose or Enforce/,
      );
    });

    it('helm install is accepted by the API server: the Deployment is stored (not running), its pod passes Pod Security "restricted"', async () => {
      const { stdout } = await helm('install', release, CHART, '--namespace', namespace, '-f', valuesFile);
      installed = true;
      expect(stdout).toMatch(/STATUS: deployed/);
      const dep = await read(admin, 'apps/v1', 'Deployment', namespace, release);
      expect((dep?.spec as { replicas?: number } | undefined)?.replicas).toBe(2);
      expect((dep?.status as { availableReplicas?: number } | undefined)?.availableReplicas ?? 0).toBe(0);
      expect(await read(admin, 'policy/v1', 'PodDisruptionBudget', namespace, release)).toBeTruthy();
      expect(await read(admin, MMR, 'MeshHealthPolicy', undefined, release)).toBeTruthy();
      // Pod Security admission judges pods, not Deployments: dry-run the pod this Deployment would make.
      const template = (dep?.spec as { template: { metadata: KubeObject['metadata']; spec: Record<string, unknown> } })
        .template;
      const pod = {
        apiVersion: 'v1',
        kind: 'Pod',
        metadata: { ...template.metadata, name: 'meshmedic-restricted-check', namespace },
        spec: template.spec,
      };
      const res = await kubeRequest(
        admin.kc,
        'POST',
        `/api/v1/namespaces/${namespace}/pods?dryRun=All&fieldValidation=Strict`,
        pod,
      );
      expect(res.status < 300 ? 'accepted' : `Pod: HTTP ${res.status} ${res.body}`).toBe('accepted');
    });

    it("the operator becomes ready from it: the Deployment's args and env, the chart's ServiceAccount, /readyz 200", async () => {
      expect(installed).toBe(true);
      const dep = await read(admin, 'apps/v1', 'Deployment', namespace, release);
      const spec = dep?.spec as DeploymentSpec & { template: { spec: { serviceAccountName: string } } };
      const container = spec.template.spec.containers.find((c) => c.name === 'meshmedic');
      if (!container) throw new Error('the installed Deployment has no meshmedic container');
      const env = Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value ?? '']));
      const args = (container.args ?? []).map((a) => expand(a, env));
      expect(args).toEqual(['run', `--metrics-port=${port}`, '--log-level=info', '--resync=300']);

      // In the pod, the kubelet mounts a token of spec.serviceAccountName and the namespace file; here the
      // same identity comes from the TokenRequest API, and --namespace stands for that file.
      const token = await admin.core.createNamespacedServiceAccountToken({
        name: spec.template.spec.serviceAccountName,
        namespace,
        body: { spec: { audiences: [], expirationSeconds: 3600 } },
      });
      if (!token.status?.token) throw new Error('TokenRequest returned no token');
      const kc = tokenKubeConfig(admin.kc, token.status.token);
      sa = clientsFor(kc);
      const kubeconfig = join(dir, 'sa.kubeconfig');
      writeFileSync(kubeconfig, kc.exportConfig(), { mode: 0o600 });
      // The identity is the ServiceAccount's, with the chart's grants and no more.
      expect(await can(sa, { verb: 'list', resource: 'secrets' })).toBe(false);
      expect(
        await can(sa, {
          verb: 'patch',
          group: 'networking.istio.io',
          resource: 'destinationrules',
          namespace: scenarioNs,
        }),
      ).toBe(true);
      // `meshmedic run`'s start-up check accepts these grants (its Lease is the one object it may get/update).
      expect(await preflight(kc, namespace)).toEqual([]);

      const vars = Object.entries(env).map(([k, v]) => `${k}=${v}`);
      // The CLI from source (no build needed), through tsx; the container's env, as in the pod.
      const tsx = pathToFileURL(createRequire(join(repoRoot, 'package.json')).resolve('tsx')).href;
      const cli = [process.execPath, '--import', tsx, join(repoRoot, 'src', 'cli', 'main.ts')];
      operator = startProcess(
        'meshmedic-run',
        'env',
        [...vars, ...cli, ...args, `--kubeconfig=${kubeconfig}`, `--namespace=${namespace}`],
        join(dir, 'operator.log'),
        dir,
      );
      const readyz = async (): Promise<number> => (await fetch(`http://127.0.0.1:${port}/readyz`)).status;
      try {
        await waitFor(
          '/readyz to report ready',
          async () => {
            if (operator?.hasExited()) throw new Error(`meshmedic run exited: ${operator.logTail()}`);
            return (await readyz().catch(() => 0)) === 200;
          },
          60_000,
        );
      } catch (err) {
        throw new Error(`${(err as Error).message}\n${operator.logTail()}`, { cause: err });
      }
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      expect(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text()).toMatch(/^meshmedic_leader 1$/m);
      const lease = await read(admin, 'coordination.k8s.io/v1', 'Lease', namespace, 'meshmedic-leader');
      expect((lease?.spec as { holderIdentity?: string } | undefined)?.holderIdentity).toBeTruthy();
    }, 90_000);

    it('it reconciles a faulty example (seed 001) into a MeshRemediation, and applies it once approved', async () => {
      expect(operator?.hasExited()).toBe(false);
      for (const o of seed001(scenarioNs)) await create(admin, o);
      const mmr = await waitFor(
        "an MM101 proposal from the chart's Propose policy",
        async () =>
          (await remediations(admin, scenarioNs)).find(
            (r) => phase(r) === 'Proposed' && (r.spec as { rule: string }).rule === 'MM101',
          ),
        40_000,
      ).catch((err: unknown) => {
        throw new Error(`${(err as Error).message}\n${operator?.logTail() ?? ''}`, { cause: err });
      });
      await annotate(
        admin,
        { apiVersion: MMR, kind: 'MeshRemediation', namespace: scenarioNs, name: mmr.metadata.name },
        { 'meshmedic.io/approve': fingerprintOf(mmr) },
      );
      await waitFor(
        'the proposal Applied',
        async () => phase(await read(admin, MMR, 'MeshRemediation', scenarioNs, mmr.metadata.name)) === 'Applied',
        30_000,
      );
      const dr = await read(admin, 'networking.istio.io/v1', 'DestinationRule', scenarioNs, 'httpbin');
      expect((dr?.spec as { trafficPolicy: { tls: { mode: string } } }).trafficPolicy.tls.mode).toBe('ISTIO_MUTUAL');
      const log = readFileSync(operator?.logFile ?? '', 'utf8');
      expect(log.split('\n').filter((l) => /forbidden|\b403\b/i.test(l))).toEqual([]);
    }, 90_000);

    it('the evidence and reviewer values grant only in their namespace', async () => {
      const logs = (ns: string): V1ResourceAttributes => ({
        verb: 'get',
        resource: 'pods',
        subresource: 'log',
        namespace: ns,
      });
      expect([
        await can(sa, logs(scenarioNs)),
        await can(sa, { verb: 'list', resource: 'pods', namespace: scenarioNs }),
      ]).toEqual([true, true]);
      expect(await can(sa, logs(otherNs))).toBe(false);
      const review = async (ns: string, verb: string): Promise<boolean> => {
        const r = await admin.kc.makeApiClient(AuthorizationV1Api).createSubjectAccessReview({
          body: {
            spec: {
              user: 'alice',
              groups: [reviewers],
              resourceAttributes: { verb, group: 'meshmedic.io', resource: 'meshremediations', namespace: ns },
            },
          },
        });
        return r.status?.allowed === true;
      };
      expect([
        await review(scenarioNs, 'patch'),
        await review(scenarioNs, 'delete'),
        await review(scenarioNs, 'create'),
        await review(otherNs, 'patch'),
      ]).toEqual([true, true, false, false]);
    });

    it('helm uninstall removes what the chart installed and keeps the CRDs', async () => {
      await operator?.stop();
      operator = undefined;
      await helm('uninstall', release, '--namespace', namespace);
      installed = false;
      const gone: [string, string, string | undefined, string][] = [
        ['apps/v1', 'Deployment', namespace, release],
        ['v1', 'ServiceAccount', namespace, release],
        ['policy/v1', 'PodDisruptionBudget', namespace, release],
        ['rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, release],
        ['rbac.authorization.k8s.io/v1', 'ClusterRoleBinding', undefined, release],
        ['rbac.authorization.k8s.io/v1', 'ClusterRole', undefined, `${release}-access-logs`],
        ['rbac.authorization.k8s.io/v1', 'Role', 'istio-system', `${release}-mesh-config`],
        ['rbac.authorization.k8s.io/v1', 'RoleBinding', scenarioNs, `${release}-meshremediation-reviewer`],
        ['admissionregistration.k8s.io/v1', 'ValidatingAdmissionPolicy', undefined, `${release}-remediation-namespace`],
        [MMR, 'MeshHealthPolicy', undefined, release],
      ];
      const left: string[] = [];
      for (const [apiVersion, kind, ns, name] of gone)
        if (await read(admin, apiVersion, kind, ns, name)) left.push(`${kind}/${name}`);
      expect(left).toEqual([]);
      for (const crd of ['meshhealthpolicies.meshmedic.io', 'meshremediations.meshmedic.io']) {
        expect(await admin.apiextensions.readCustomResourceDefinition({ name: crd })).toBeTruthy();
      }
      expect((await helm('list', '--namespace', namespace, '--short')).stdout.trim()).toBe('');
      await expect(helm('status', release, '--namespace', namespace)).rejects.toThrow(/not found/);
    });
  },
);
