import { describe, expect, it } from 'vitest';
import { REDUCERS, unchangedButVersion, WATCHED_KINDS } from '../../../src/controller/watched.js';
import { decodeDocuments } from '../../../src/model/decode.js';
import { K8S_GATEWAY } from '../../../src/model/kinds.js';
import type { KubeObject } from '../../../src/model/types.js';

describe('WATCHED_KINDS: the kinds the analysis reads, from the registry', () => {
  it('holds the workload, Secret, Node and Gateway API kinds the rules read, besides the Istio kinds', () => {
    for (const k of [
      'DestinationRule',
      'VirtualService',
      'ServiceEntry',
      'Gateway',
      'Sidecar',
      'PeerAuthentication',
      'Service',
      'Namespace',
      'Pod',
      'Deployment',
      'StatefulSet',
      'DaemonSet',
      'ReplicaSet',
      'Node',
      'Secret',
      'GatewayClass',
      K8S_GATEWAY,
      'HTTPRoute',
      'GRPCRoute',
      'TCPRoute',
      'TLSRoute',
      'ReferenceGrant',
    ])
      expect(WATCHED_KINDS).toContain(k);
  });

  it('leaves out what has a watcher of its own or is not analyzed', () => {
    for (const k of ['ConfigMap', 'MeshHealthPolicy', 'MeshRemediation', 'Lease'])
      expect(WATCHED_KINDS).not.toContain(k);
  });
});

describe('REDUCERS: objects shrunk on receipt, in place', () => {
  it('a Secret keeps its name, type and key names; no value, no annotation survives', () => {
    const s: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: {
        name: 'cert',
        namespace: 'istio-system',
        resourceVersion: '7',
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{"data":{"tls.key":"c2VjcmV0"}}' },
      },
      type: 'kubernetes.io/tls',
      data: { 'tls.crt': 'Y2VydA==', 'tls.key': 'c2VjcmV0' },
    };
    REDUCERS.Secret?.(s);
    expect(s).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cert', namespace: 'istio-system', resourceVersion: '7' },
      type: 'kubernetes.io/tls',
      keys: ['tls.crt', 'tls.key'],
    });
    expect(JSON.stringify(s)).not.toContain('c2VjcmV0');
  });

  it('a Pod keeps labels, annotations, node and container names and ports (an istio-proxy init container too)', () => {
    const p: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'reviews-1',
        namespace: 'shop',
        labels: { app: 'reviews' },
        annotations: { 'sidecar.istio.io/inject': 'true', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
        managedFields: [{ manager: 'kubectl' }],
        resourceVersion: '3',
      },
      spec: {
        nodeName: 'node-a',
        containers: [
          { name: 'app', image: 'x', env: [{ name: 'TOKEN', value: 't' }], ports: [{ containerPort: 9080 }] },
        ],
        initContainers: [{ name: 'istio-proxy', image: 'proxyv2', args: ['proxy'] }],
        volumes: [{ name: 'v' }],
      },
      status: { phase: 'Running', podIP: '10.0.0.1' },
    };
    REDUCERS.Pod?.(p);
    expect(p).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        name: 'reviews-1',
        namespace: 'shop',
        labels: { app: 'reviews' },
        annotations: { 'sidecar.istio.io/inject': 'true' },
        resourceVersion: '3',
      },
      spec: {
        nodeName: 'node-a',
        containers: [{ name: 'app', ports: [{ containerPort: 9080 }] }],
        initContainers: [{ name: 'istio-proxy' }],
      },
    });
  });

  it('a Node keeps only its identity and labels (its status lists every image it holds)', () => {
    const n: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'z1' }, annotations: { a: 'b' } },
      status: { images: [{ names: ['x'] }] },
    };
    REDUCERS.Node?.(n);
    expect(n).toEqual({
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'node-a', labels: { 'topology.kubernetes.io/zone': 'z1' } },
    });
  });
});

describe('unchangedButVersion: updates that say nothing new to the rules', () => {
  const decoded = (value: Record<string, unknown>): KubeObject => {
    const o = decodeDocuments([{ value, file: 'cluster', line: 0 }]).objects[0]?.object;
    if (!o) throw new Error('not decoded');
    return o;
  };
  const pod = (rv: string, labels: Record<string, string>): Record<string, unknown> => {
    const p: Record<string, unknown> = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'reviews-1', namespace: 'shop', labels, resourceVersion: rv },
      spec: { containers: [{ name: 'app', image: 'x' }] },
      status: { phase: rv === '1' ? 'Pending' : 'Running' },
    };
    REDUCERS.Pod?.(p);
    return p;
  };

  it('a Pod whose status alone changed is unchanged, once reduced, against the indexed one', () => {
    expect(unchangedButVersion(decoded(pod('1', { app: 'r' })), pod('2', { app: 'r' }) as KubeObject)).toBe(true);
  });

  it('a label change is a change', () => {
    expect(
      unchangedButVersion(decoded(pod('1', { app: 'r' })), pod('2', { app: 'r', version: 'v2' }) as KubeObject),
    ).toBe(false);
  });

  it('a Secret whose keys changed is a change; one whose values alone changed is not', () => {
    const secret = (rv: string, data: Record<string, string>): KubeObject => {
      const s: Record<string, unknown> = {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'cert', namespace: 'shop', resourceVersion: rv },
        data,
      };
      REDUCERS.Secret?.(s);
      return s as KubeObject;
    };
    const before = decoded(secret('1', { 'tls.crt': 'YQ==' }));
    expect(unchangedButVersion(before, secret('2', { 'tls.crt': 'Yg==' }))).toBe(true);
    expect(unchangedButVersion(before, secret('3', { 'tls.crt': 'Yg==', 'tls.key': 'Yw==' }))).toBe(false);
  });
});
