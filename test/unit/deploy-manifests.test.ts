// deploy/ (what users install) read as data: every manifest parses, the Deployment is hardened and probed
// where meshmedic serves, RBAC stays least-privilege, kustomization.yaml lists what exists, and the
// Dockerfile agrees with the Deployment and the pinned Node.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadAll } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { parsePolicy } from '../../src/controller/policies.js';
import type { KubeObject } from '../../src/model/types.js';

const ROOT = join(import.meta.dirname, '..', '..');
const DEPLOY = join(ROOT, 'deploy');
const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

interface Container {
  name: string;
  image: string;
  args?: string[];
  env?: { name: string; value?: string }[];
  ports?: { name?: string; containerPort: number }[];
  livenessProbe?: { httpGet?: { path: string; port: number | string } };
  readinessProbe?: { httpGet?: { path: string; port: number | string } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: {
    allowPrivilegeEscalation?: boolean;
    privileged?: boolean;
    readOnlyRootFilesystem?: boolean;
    runAsNonRoot?: boolean;
    runAsUser?: number;
    capabilities?: { drop?: string[]; add?: string[] };
    seccompProfile?: { type: string };
  };
}

interface PodSpec {
  serviceAccountName?: string;
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number; seccompProfile?: { type: string } };
  topologySpreadConstraints?: { topologyKey: string; labelSelector?: { matchLabels?: Record<string, string> } }[];
  affinity?: {
    podAntiAffinity?: Record<string, { podAffinityTerm?: { topologyKey: string } }[] | { topologyKey: string }[]>;
  };
  containers: Container[];
}

interface Rule {
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
  verbs: string[];
}

type Doc = KubeObject & {
  rules?: Rule[];
  roleRef?: { kind: string; name: string };
  subjects?: { kind: string; name: string; namespace?: string }[];
};

function parse(file: string): Doc[] {
  return loadAll(readFileSync(join(DEPLOY, file), 'utf8')).filter((d): d is Doc => typeof d === 'object' && d !== null);
}

const yamlFiles = readdirSync(DEPLOY)
  .filter((f) => /\.ya?ml$/.test(f))
  .sort();
const byFile = new Map(yamlFiles.map((f) => [f, parse(f)]));
const all = [...byFile.values()].flat();
const one = (kind: string): Doc => {
  const found = all.filter((d) => d.kind === kind);
  expect(found, `exactly one ${kind} in deploy/`).toHaveLength(1);
  return found[0] as Doc;
};
const deployment = (): {
  doc: Doc;
  pod: PodSpec;
  container: Container;
  podLabels: Record<string, string>;
  podAnnotations: Record<string, string>;
  replicas: number;
} => {
  const doc = one('Deployment');
  const spec = doc.spec as {
    replicas: number;
    template: { metadata: { labels: Record<string, string>; annotations: Record<string, string> }; spec: PodSpec };
  };
  const container = spec.template.spec.containers.find((c) => c.name === 'meshmedic');
  if (!container) throw new Error('no container named meshmedic');
  return {
    doc,
    pod: spec.template.spec,
    container,
    podLabels: spec.template.metadata.labels,
    podAnnotations: spec.template.metadata.annotations,
    replicas: spec.replicas,
  };
};

/** Non-root with the RuntimeDefault seccomp profile; the container read-only, unprivileged, without capabilities. */
function expectLockedDown(pod: PodSpec, container: Container): void {
  expect(pod.securityContext?.runAsNonRoot).toBe(true);
  expect(pod.securityContext?.runAsUser).toBeGreaterThan(0);
  expect(pod.securityContext?.seccompProfile?.type).toBe('RuntimeDefault');
  const sc = container.securityContext;
  expect(sc?.allowPrivilegeEscalation).toBe(false);
  expect(sc?.readOnlyRootFilesystem).toBe(true);
  expect(sc?.privileged ?? false).toBe(false);
  expect(sc?.capabilities?.drop).toContain('ALL');
  expect(sc?.capabilities?.add ?? []).toEqual([]);
  expect(sc?.runAsUser ?? pod.securityContext?.runAsUser).not.toBe(0);
}

const NAMESPACED = new Set([
  'ServiceAccount',
  'Role',
  'RoleBinding',
  'Deployment',
  'PodDisruptionBudget',
  'ConfigMap',
  'Service',
]);

describe('deploy/ manifests', () => {
  it('every file parses into Kubernetes objects with a kind and a name, namespaced ones with a namespace', () => {
    expect(yamlFiles).toEqual(
      expect.arrayContaining([
        'namespace.yaml',
        'serviceaccount.yaml',
        'rbac.yaml',
        'deployment.yaml',
        'kustomization.yaml',
        'sample-policy.yaml',
      ]),
    );
    for (const [file, docs] of byFile) {
      expect(docs.length, file).toBeGreaterThan(0);
      for (const d of docs) {
        expect(typeof d.apiVersion, file).toBe('string');
        expect(typeof d.kind, file).toBe('string');
        if (d.kind === 'Kustomization') continue;
        expect(d.metadata?.name, `${file} ${d.kind}`).toMatch(/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/);
        // kustomization.yaml sets no namespace (it would move the istio-system Role): each object names its own.
        if (NAMESPACED.has(d.kind)) expect(d.metadata.namespace, `${file} ${d.kind}/${d.metadata.name}`).toBeTruthy();
      }
    }
  });

  it('the Deployment runs two non-root, read-only, capability-less replicas under the meshmedic ServiceAccount', () => {
    const { doc, pod, container, replicas } = deployment();
    const ns = one('Namespace').metadata.name;
    expect(doc.metadata.namespace).toBe(ns);
    expect(replicas).toBe(2);
    const sa = one('ServiceAccount');
    expect(pod.serviceAccountName).toBe(sa.metadata.name);
    expect(sa.metadata.namespace).toBe(ns);
    expectLockedDown(pod, container);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(0);
    for (const r of ['cpu', 'memory']) {
      expect(container.resources?.requests?.[r], `requests.${r}`).toBeTruthy();
      expect(container.resources?.limits?.[r], `limits.${r}`).toBeTruthy();
    }
  });

  it('probes /healthz and /readyz on the port `meshmedic run` serves, named metrics, and Prometheus scrapes it', () => {
    const { container, podAnnotations } = deployment();
    const args = container.args ?? [];
    expect(args[0]).toBe('run');
    const portArg = args.find((a) => a.startsWith('--metrics-port'));
    const served = portArg ? Number(portArg.split('=')[1]) : 8080; // src/cli/run-command.ts default
    const metrics = container.ports?.find((p) => p.name === 'metrics');
    expect(metrics?.containerPort).toBe(served);
    expect(served).toBe(8080);
    expect(container.livenessProbe?.httpGet).toEqual({ path: '/healthz', port: 'metrics' });
    expect(container.readinessProbe?.httpGet).toEqual({ path: '/readyz', port: 'metrics' });
    expect(podAnnotations['prometheus.io/scrape']).toBe('true');
    expect(Number(podAnnotations['prometheus.io/port'])).toBe(served);
    expect(podAnnotations['prometheus.io/path']).toBe('/metrics');
    // The log level comes from the environment, expanded by the kubelet into the flag run-command reads.
    const level = args.find((a) => a.startsWith('--log-level='))?.split('=')[1];
    const ref = /^\$\((\w+)\)$/.exec(level ?? '')?.[1];
    expect(ref, 'a --log-level=$(VAR) argument').toBeTruthy();
    expect(container.env?.find((e) => e.name === ref)?.value).toBe('info');
  });

  it('spreads the replicas across nodes, and the PodDisruptionBudget keeps one', () => {
    const { pod, podLabels } = deployment();
    expect(pod.topologySpreadConstraints?.some((t) => t.topologyKey === 'kubernetes.io/hostname')).toBe(true);
    const anti = JSON.stringify(pod.affinity?.podAntiAffinity ?? {});
    expect(anti).toContain('kubernetes.io/hostname');
    for (const t of pod.topologySpreadConstraints ?? [])
      expect(podLabels).toMatchObject(t.labelSelector?.matchLabels ?? { missing: 'selector' });
    const pdb = one('PodDisruptionBudget');
    const spec = pdb.spec as { minAvailable: number; selector: { matchLabels: Record<string, string> } };
    expect(spec.minAvailable).toBe(1);
    expect(podLabels).toMatchObject(spec.selector.matchLabels);
    const selector = (one('Deployment').spec as { selector: { matchLabels: Record<string, string> } }).selector
      .matchLabels;
    expect(podLabels).toMatchObject(selector);
  });

  it('RBAC: no wildcards, Secrets only opt-in and read-only, no escalation; writes only where meshmedic fixes or records', () => {
    const roles = all.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role');
    expect(roles.length).toBeGreaterThan(0);
    const writes = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);
    const allowedWrites: Record<string, string[]> = {
      'networking.istio.io/destinationrules': ['patch', 'create', 'delete'],
      'networking.istio.io/serviceentries': ['patch', 'create', 'delete'],
      'networking.istio.io/virtualservices': ['patch', 'create', 'delete'],
      'networking.istio.io/sidecars': ['patch'],
      'meshmedic.io/meshremediations': ['create', 'patch', 'update', 'delete'],
      'meshmedic.io/meshremediations/status': ['patch'],
      'meshmedic.io/meshhealthpolicies/status': ['patch'],
      '/events': ['create', 'patch'],
      'coordination.k8s.io/leases': ['create', 'update'],
    };
    for (const role of roles) {
      for (const rule of role.rules ?? []) {
        const where = `${role.kind}/${role.metadata.name} ${JSON.stringify(rule)}`;
        for (const x of [...(rule.apiGroups ?? []), ...(rule.resources ?? []), ...rule.verbs])
          expect(x, where).not.toBe('*');
        if (rule.resources?.includes('secrets'))
          expect([role.kind, rule.verbs], where).toEqual(['ClusterRole', ['list', 'watch']]);
        for (const v of ['escalate', 'bind', 'impersonate', 'deletecollection'])
          expect(rule.verbs, where).not.toContain(v);
        for (const g of rule.apiGroups ?? []) {
          for (const r of rule.resources ?? []) {
            for (const v of rule.verbs.filter((x) => writes.has(x)))
              expect(allowedWrites[`${g}/${r}`] ?? [], `${where}: ${v} ${g}/${r}`).toContain(v);
          }
        }
      }
    }
    const ns = one('Namespace').metadata.name;
    // Leases only in the operator's namespace; ConfigMaps only in istio-system; neither cluster-wide.
    const where = (resource: string): string[] =>
      roles
        .filter((r) => r.rules?.some((x) => x.resources?.includes(resource)))
        .map((r) => (r.kind === 'ClusterRole' ? '*' : (r.metadata.namespace ?? '')));
    expect(where('leases')).toEqual([ns]);
    expect(where('configmaps')).toEqual(['istio-system']);
    // Pod logs: an opt-in ClusterRole that deploy/ itself never binds (users bind it per namespace).
    expect(where('pods/log')).toEqual(['*']);
    const logsRole = roles.find((r) => r.rules?.some((x) => x.resources?.includes('pods/log')));
    expect(all.filter((d) => d.roleRef?.name === logsRole?.metadata.name)).toEqual([]);
    // Secrets: the opt-in ClusterRole meshmedic-secrets, which deploy/ never binds either (MM213 reads them).
    const secretRoles = roles.filter((r) => r.rules?.some((x) => x.resources?.includes('secrets')));
    expect(secretRoles.map((r) => r.metadata.name)).toEqual(['meshmedic-secrets']);
    expect(all.filter((d) => d.roleRef?.name === 'meshmedic-secrets')).toEqual([]);
  });

  it('RBAC: every binding binds the ServiceAccount to a role defined here', () => {
    const sa = one('ServiceAccount');
    const bindings = all.filter((d) => d.kind === 'ClusterRoleBinding' || d.kind === 'RoleBinding');
    expect(bindings.map((b) => b.kind)).toEqual(expect.arrayContaining(['ClusterRoleBinding', 'RoleBinding']));
    for (const b of bindings) {
      expect(b.subjects, b.metadata.name).toEqual([
        { kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace },
      ]);
      const role = all.find(
        (d) =>
          d.kind === b.roleRef?.kind &&
          d.metadata.name === b.roleRef.name &&
          (d.kind === 'ClusterRole' || d.metadata.namespace === b.metadata.namespace),
      );
      expect(role, `${b.kind}/${b.metadata.name} -> ${b.roleRef?.kind}/${b.roleRef?.name}`).toBeDefined();
    }
  });

  it('kustomization.yaml lists files that exist: the CRDs and every manifest but the sample policy', () => {
    const [k] = parse('kustomization.yaml') as unknown as {
      resources: string[];
      namespace?: string;
      images?: { name: string; newName?: string; newTag?: string }[];
    }[];
    if (!k) throw new Error('empty kustomization.yaml');
    expect(k.namespace).toBeUndefined();
    const files = new Set<string>();
    for (const r of k.resources) {
      const path = join(DEPLOY, r);
      expect(existsSync(path), `${r} exists`).toBe(true);
      if (statSync(path).isDirectory()) {
        const kfile = KUSTOMIZATION_FILES.map((f) => join(path, f)).find((f) => existsSync(f));
        expect(kfile, `${r} holds a kustomization`).toBeDefined();
        const sub = loadAll(readFileSync(kfile ?? '', 'utf8'))[0] as { resources: string[] };
        for (const s of sub.resources) expect(existsSync(join(path, s)), `${r}/${s} exists`).toBe(true);
        if (r === '../crds')
          expect(sub.resources.sort()).toEqual(
            readdirSync(join(ROOT, 'crds'))
              .filter((f) => /\.ya?ml$/.test(f))
              .sort(),
          );
      } else files.add(r);
    }
    expect(k.resources).toContain('../crds');
    expect([...files].sort()).toEqual(
      yamlFiles.filter((f) => f !== 'kustomization.yaml' && f !== 'sample-policy.yaml'),
    );
    // The image can be retagged through `images:`, and it is the image the Deployment runs.
    const image = deployment().container.image;
    const entry = k.images?.find((i) => image.startsWith(`${i.name}:`) || image === i.name);
    expect(entry, `an images: entry for ${image}`).toBeDefined();
    expect(`${entry?.newName ?? entry?.name}:${entry?.newTag}`).toBe('meshmedic:0.1.0');
    expect(image).toBe('meshmedic:0.1.0');
  });

  it('the sample policy proposes, for a labelled namespace set, with parameters meshmedic and its CRD accept', () => {
    const [p] = parse('sample-policy.yaml');
    if (!p) throw new Error('empty sample-policy.yaml');
    expect(p.kind).toBe('MeshHealthPolicy');
    const spec = p.spec as {
      mode: string;
      namespaceSelector?: { matchLabels?: Record<string, string> };
      rules: { id: string; parameters?: Record<string, unknown> }[];
    };
    expect(spec.mode).toBe('Propose');
    expect(Object.keys(spec.namespaceSelector?.matchLabels ?? {}).length).toBeGreaterThan(0);
    expect(parsePolicy({ ...p, metadata: { ...p.metadata, generation: 1 } }).problems).toEqual([]);
    expect(spec.rules.some((r) => r.id === 'MM106' && r.parameters?.['keepAliveIdleTimeout'])).toBe(true);
    // Fields the CRD does not declare would be refused by kubectl apply (strict field validation).
    const crd = loadAll(readFileSync(join(ROOT, 'crds', 'meshmedic.io_meshhealthpolicies.yaml'), 'utf8'))[0] as {
      spec: {
        versions: {
          schema: {
            openAPIV3Schema: {
              properties: {
                spec: {
                  properties: Record<
                    string,
                    { items?: { properties: { parameters: { properties: Record<string, unknown> } } } }
                  >;
                };
              };
            };
          };
        }[];
      };
    };
    const specProps = crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties ?? {};
    for (const k of Object.keys(spec)) expect(Object.keys(specProps), `spec.${k}`).toContain(k);
    const params = Object.keys(specProps['rules']?.items?.properties.parameters.properties ?? {});
    for (const r of spec.rules)
      for (const k of Object.keys(r.parameters ?? {})) expect(params, `rules[${r.id}].parameters.${k}`).toContain(k);
  });
});

describe('Dockerfile', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    devDependencies: Record<string, string>;
    bin: Record<string, string>;
  };

  it('builds on the Node major the project pins and runs the bin as the Deployment expects', () => {
    const major = /^(\d+)\./.exec(pkg.devDependencies['node'] ?? '')?.[1];
    expect(dockerfile).toContain(`ARG NODE_IMAGE=node:${major}-slim`);
    expect(dockerfile).toMatch(/RUN npm ci --ignore-scripts/);
    expect(dockerfile).toMatch(/RUN npm run build/);
    expect(dockerfile).toMatch(/RUN npm ci --omit=dev --ignore-scripts/);
    expect(dockerfile).toContain(`ENTRYPOINT ["node", "${pkg.bin['meshmedic']}"]`);
    expect(dockerfile).toContain('CMD ["run"]');
    const user = /^USER (\d+)(?::(\d+))?$/m.exec(dockerfile);
    expect(user, 'a numeric USER').not.toBeNull();
    expect(Number(user?.[1])).toBe(deployment().pod.securityContext?.runAsUser);
    // The runtime stage copies build output, not the sources or dev tooling.
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('FROM '));
    expect(runtime).toContain('COPY --from=build /src/dist ./dist');
    expect(runtime).not.toMatch(/COPY (src|test|\.)\s/);
  });

  it('.dockerignore keeps node_modules, dist and the git history out of the build context', () => {
    const ignored = readFileSync(join(ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim());
    for (const x of ['node_modules', 'dist', '.git']) expect(ignored).toContain(x);
    for (const needed of ['src', 'crds', 'package.json', 'package-lock.json', 'tsconfig.json', 'tsconfig.build.json'])
      expect(ignored).not.toContain(needed);
  });
});
