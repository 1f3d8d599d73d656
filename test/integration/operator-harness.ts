// Runs the real meshmedic Operator in-process against the test bed's API server.
import type { KubernetesObject } from '@kubernetes/client-node';
import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';
import { Operator, type OperatorOptions } from '../../src/controller/operator.js';
import type { KubeObject } from '../../src/model/types.js';
import { clients, tempNamespace, type Clients } from '../testbed/client.js';

/** A pino logger whose records a test reads (what the operator said, not only what it did). */
export function capturingLog(level = 'debug'): { log: Logger; records: Record<string, unknown>[] } {
  const records: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) records.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return { log: pino({ level }, sink), records };
}

export const log = pino({ level: process.env['MESHMEDIC_TEST_LOG'] ?? 'silent' });

export async function startOperator(
  c: Clients,
  leaseNamespace: string,
  extra: Partial<OperatorOptions> = {},
): Promise<Operator> {
  const op = new Operator({
    kubeConfig: c.kc,
    log,
    namespace: leaseNamespace,
    leaseDurationSeconds: 4,
    renewDeadlineMs: 3000,
    retryPeriodMs: 500,
    resyncIntervalMs: 3_600_000,
    ...extra,
  });
  op.start();
  await waitFor('the operator to lead with synced caches', () => op.isLeader && op.ready, 30_000);
  return op;
}

export async function waitFor<T>(what: string, fn: () => T | Promise<T>, timeoutMs = 20_000): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function create(c: Clients, o: KubeObject): Promise<KubeObject> {
  return (await c.objects.create(o as KubernetesObject)) as unknown as KubeObject;
}

export async function read(
  c: Clients,
  apiVersion: string,
  kind: string,
  namespace: string | undefined,
  name: string,
): Promise<KubeObject | undefined> {
  try {
    return (await c.objects.read({
      apiVersion,
      kind,
      metadata: { name, ...(namespace ? { namespace } : {}) },
    })) as unknown as KubeObject;
  } catch {
    return undefined;
  }
}

export async function remediations(c: Clients, namespace: string): Promise<KubeObject[]> {
  const list = (await c.custom.listNamespacedCustomObject({
    group: 'meshmedic.io',
    version: 'v1alpha1',
    namespace,
    plural: 'meshremediations',
  })) as { items: KubeObject[] };
  return list.items;
}

/** The fingerprint of the content a proposal shows: what an approval names. */
export function fingerprintOf(mmr: KubeObject): string {
  const fp = (mmr.status as { fingerprint?: string } | undefined)?.fingerprint;
  if (!fp) throw new Error(`${mmr.metadata.name} has no status.fingerprint`);
  return fp;
}

export function phase(o: KubeObject | undefined): string | undefined {
  return (o?.status as { phase?: string } | undefined)?.phase;
}

export async function annotate(
  c: Clients,
  o: { apiVersion: string; kind: string; namespace: string; name: string },
  annotations: Record<string, string | null>,
): Promise<void> {
  await c.objects.patch(
    {
      apiVersion: o.apiVersion,
      kind: o.kind,
      metadata: { name: o.name, namespace: o.namespace, annotations },
    } as KubernetesObject,
    undefined,
    undefined,
    'kubectl-annotate',
    undefined,
    'application/merge-patch+json',
  );
}

export function policy(
  name: string,
  namespace: string,
  mode: string,
  extraSpec: Record<string, unknown> = {},
): KubeObject {
  return {
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshHealthPolicy',
    metadata: { name },
    spec: { mode, namespaces: [namespace], ...extraSpec },
  };
}

export async function deletePolicy(c: Clients, name: string): Promise<void> {
  await c.custom
    .deleteClusterCustomObject({ group: 'meshmedic.io', version: 'v1alpha1', plural: 'meshhealthpolicies', name })
    .catch(() => undefined);
}

export async function namespace(c: Clients, prefix: string): Promise<{ name: string; remove: () => Promise<void> }> {
  return tempNamespace(c.core, prefix);
}

export { clients };

/** Seed 001 in a namespace: STRICT mTLS and a circuit-breaker DestinationRule that sends plaintext. */
export function seed001(ns: string): KubeObject[] {
  return [
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: ns },
      spec: { mtls: { mode: 'STRICT' } },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'httpbin', namespace: ns },
      spec: { selector: { app: 'httpbin' }, ports: [{ name: 'http', port: 8000, targetPort: 80 }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'httpbin', namespace: ns },
      spec: {
        host: 'httpbin',
        trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 } }, tls: { mode: 'DISABLE' } },
      },
    },
  ];
}

/** Seed 003 in a namespace: a TCP ServiceEntry without addresses naming an in-cluster Service. */
export function seed003(ns: string): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'mysql', namespace: ns },
      spec: { ports: [{ name: 'tcp-mysql', port: 3306 }] },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'mysql', namespace: ns },
      spec: {
        hosts: [`mysql.${ns}`],
        location: 'MESH_INTERNAL',
        ports: [{ name: 'tcp', number: 3306, protocol: 'TCP' }],
        resolution: 'DNS',
        exportTo: ['.'],
      },
    },
  ];
}

/** Seed 000 in a namespace: a gateway route to an external HTTPS host without TLS origination. */
export function seed000(ns: string): KubeObject[] {
  return [
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: ns },
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: ['foo.bar.org'] }],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'VirtualService',
      metadata: { name: 'nginx-vs-dev', namespace: ns },
      spec: {
        gateways: [`${ns}/public`],
        hosts: ['foo.bar.org'],
        http: [{ route: [{ destination: { host: 'dev.bar.org', port: { number: 443 } } }] }],
      },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'dev-test', namespace: ns },
      spec: {
        hosts: ['dev.bar.org'],
        location: 'MESH_EXTERNAL',
        ports: [{ name: 'https', number: 443, protocol: 'HTTPS' }],
        resolution: 'DNS',
        exportTo: ['.'],
      },
    },
  ];
}
