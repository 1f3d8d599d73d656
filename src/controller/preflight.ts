import { AuthorizationV1Api, CoreV1Api, type KubeConfig } from '@kubernetes/client-node';

/** One permission the operator cannot run without. */
interface Needed {
  verb: string;
  group: string;
  resource: string;
  subresource?: string;
  /** In the operator's own namespace (the Lease); otherwise cluster-wide. */
  own?: boolean;
  /** One object: what the operator reads and writes is its own Lease, and RBAC may grant only that one. */
  name?: string;
}

/** The Lease `meshmedic run` leads through (src/controller/operator.ts: leaseName, default meshmedic-leader). */
const LEASE = 'meshmedic-leader';

const NEEDED: Needed[] = [
  { verb: 'get', group: 'coordination.k8s.io', resource: 'leases', own: true, name: LEASE },
  { verb: 'create', group: 'coordination.k8s.io', resource: 'leases', own: true },
  { verb: 'update', group: 'coordination.k8s.io', resource: 'leases', own: true, name: LEASE },
  { verb: 'watch', group: 'meshmedic.io', resource: 'meshhealthpolicies' },
  { verb: 'watch', group: 'meshmedic.io', resource: 'meshremediations' },
  { verb: 'patch', group: 'meshmedic.io', resource: 'meshremediations' },
  { verb: 'patch', group: 'meshmedic.io', resource: 'meshremediations', subresource: 'status' },
  { verb: 'patch', group: 'meshmedic.io', resource: 'meshhealthpolicies', subresource: 'status' },
  { verb: 'watch', group: 'networking.istio.io', resource: 'destinationrules' },
  { verb: 'watch', group: '', resource: 'services' },
  // The workloads rules read (src/controller/watched.ts): an older ClusterRole without them leaves it unready.
  { verb: 'watch', group: '', resource: 'pods' },
  { verb: 'watch', group: 'apps', resource: 'deployments' },
  { verb: 'create', group: '', resource: 'events' },
];

function describeNeed(n: Needed, namespace: string): string {
  const res = `${n.resource}${n.subresource ? `/${n.subresource}` : ''}${n.group ? `.${n.group}` : ''}`;
  return `${n.verb} ${res}${n.name ? ` ${n.name}` : ''}${n.own ? ` in namespace ${namespace}` : ' cluster-wide'}`;
}

function messageOf(err: unknown): string {
  const e = err as { code?: number; body?: unknown; message?: string };
  const body = typeof e.body === 'string' ? e.body : JSON.stringify(e.body ?? '');
  const m = /"message":"([^"]+)"/.exec(body);
  return m?.[1] ?? e.message ?? String(err);
}

/**
 * What keeps the operator from working, checked once at start-up and said plainly (instead of a raw API
 * error every few seconds): its namespace missing, or permissions missing from its ServiceAccount.
 * Empty when it can run.
 */
export async function preflight(kc: KubeConfig, namespace: string): Promise<string[]> {
  const server = kc.getCurrentCluster()?.server ?? 'the API server';
  const core = kc.makeApiClient(CoreV1Api);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const problems: string[] = [];
  try {
    await core.readNamespace({ name: namespace });
  } catch (err) {
    const code = (err as { code?: number }).code;
    if (code === 404)
      problems.push(
        `namespace ${namespace} does not exist on ${server}: create it (kubectl create namespace ${namespace}, or kubectl apply -k deploy/) or pass --namespace`,
      );
    else if (code !== 403) return [`cannot reach ${server}: ${messageOf(err)}`];
  }
  const reviews = await Promise.all(
    NEEDED.map(async (n) => {
      const review = await authz.createSelfSubjectAccessReview({
        body: {
          spec: {
            resourceAttributes: {
              verb: n.verb,
              group: n.group,
              resource: n.resource,
              ...(n.subresource ? { subresource: n.subresource } : {}),
              ...(n.own ? { namespace } : {}),
              ...(n.name ? { name: n.name } : {}),
            },
          },
        },
      });
      return review.status?.allowed ? undefined : describeNeed(n, namespace);
    }),
  );
  const denied = reviews.filter((r): r is string => r !== undefined);
  if (denied.length > 0)
    problems.push(
      `the operator's identity may not: ${denied.join('; ')} (apply deploy/rbac.yaml, or check the ClusterRoleBinding's subject)`,
    );
  return problems;
}
