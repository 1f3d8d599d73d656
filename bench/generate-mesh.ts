// A deterministic generator of synthetic meshes with a known mix of the faults meshmedic catches.
import type { KubeObject } from '../src/model/types.js';

export interface GeneratedMesh {
  objects: KubeObject[];
  /** Findings the rules must report, by rule id (every other rule must report nothing). */
  expected: Record<string, number>;
}

export interface GeneratorOptions {
  /** Approximate number of objects. */
  size: number;
  seed?: number;
  servicesPerNamespace?: number;
  hostsPerEntry?: number;
}

/** mulberry32: a small, fast, seeded PRNG so the same options give the same mesh. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAULT_RATE = {
  drDisable: 0.02,
  unknownSubset: 0.01,
  shortTimeout: 0.01,
  tcpEntryWithoutAddresses: 0.1,
  outlierEjectsAll: 0.01,
};

/** The per-namespace objects: the Namespace (injected), a STRICT PeerAuthentication and a Gateway. */
function namespaceObjects(ns: string): KubeObject[] {
  return [
    {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: ns, labels: { 'istio-injection': 'enabled' } },
    },
    {
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: ns },
      spec: { mtls: { mode: 'STRICT' } },
    },
    {
      apiVersion: 'networking.istio.io/v1',
      kind: 'Gateway',
      metadata: { name: 'public', namespace: ns },
      spec: {
        selector: { istio: 'ingressgateway' },
        servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [`${ns}.example.com`] }],
      },
    },
  ];
}

function destinationRule(ns: string, name: string, drDisable: boolean, ejectAll: boolean): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name, namespace: ns },
    spec: {
      host: name,
      trafficPolicy: {
        tls: { mode: drDisable ? 'DISABLE' : 'ISTIO_MUTUAL' },
        connectionPool: { http: { idleTimeout: '30s' } },
        outlierDetection: {
          consecutive5xxErrors: ejectAll ? 1 : 5,
          interval: '10s',
          baseEjectionTime: '30s',
          maxEjectionPercent: ejectAll ? 100 : 50,
        },
      },
      subsets: [
        { name: 'v1', labels: { version: 'v1' } },
        { name: 'v2', labels: { version: 'v2' } },
      ],
    },
  };
}

function virtualService(ns: string, name: string, s: number, badSubset: boolean, shortTimeout: boolean): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'VirtualService',
    metadata: { name, namespace: ns },
    spec: {
      // the VirtualService bound to the Gateway lists the Gateway's host too: Istio serves a host at a gateway only when a server accepts it (MM205)
      hosts: s === 0 ? [name, `${ns}.example.com`] : [name],
      ...(s === 0 ? { gateways: ['public', 'mesh'] } : {}),
      http: [
        {
          timeout: shortTimeout ? '100ms' : '10s',
          route: [
            { destination: { host: name, subset: 'v1' }, weight: 90 },
            { destination: { host: name, subset: badSubset ? 'v3' : 'v2' }, weight: 10 },
          ],
        },
      ],
    },
  };
}

function serviceEntry(ns: string, n: number, tcp: boolean, hostsPerEntry: number): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'ServiceEntry',
    metadata: { name: tcp ? 'legacy-db' : 'external-apis', namespace: ns },
    spec: tcp
      ? {
          hosts: [`db-${n}.corp.example`],
          location: 'MESH_EXTERNAL',
          ports: [{ number: 5432 + (n % 1000), name: 'tcp', protocol: 'TCP' }],
          resolution: 'DNS',
          exportTo: ['.'],
        }
      : {
          hosts: Array.from({ length: hostsPerEntry }, (_, h) => `api-${h}.partner-${n}.example`),
          location: 'MESH_EXTERNAL',
          ports: [{ number: 443, name: 'https', protocol: 'HTTPS' }],
          resolution: 'DNS',
        },
  };
}

/** Draws whether a fault is injected (one rand() call) and counts it in expected when it is. */
function fault(rand: () => number, rate: number, expected: Record<string, number>, rule: string): boolean {
  const hit = rand() < rate;
  if (hit) expected[rule] = (expected[rule] ?? 0) + 1;
  return hit;
}

/**
 * Per namespace: a namespace-wide STRICT PeerAuthentication, a Gateway, S services each with a
 * DestinationRule (ISTIO_MUTUAL, subsets v1/v2) and a VirtualService (subset routes, 10 s timeout), and a
 * MESH_EXTERNAL ServiceEntry with many HTTPS hosts (as in seed 004). Faults are injected at fixed rates:
 * DestinationRules with tls DISABLE (MM101), outlier detection ejecting all (MM107), routes to an unknown
 * subset (MM202) or with a 100 ms timeout (MM105), TCP entries without addresses (MM103).
 */
export function generateMesh(options: GeneratorOptions): GeneratedMesh {
  const rand = prng(options.seed ?? 42);
  const perNs = options.servicesPerNamespace ?? 20;
  const hostsPerEntry = options.hostsPerEntry ?? 30;
  const objectsPerNs = 3 + 3 * perNs + 1;
  const namespaces = Math.max(1, Math.round(options.size / objectsPerNs));
  const objects: KubeObject[] = [];
  const expected: Record<string, number> = { MM101: 0, MM103: 0, MM105: 0, MM107: 0, MM202: 0 };
  let ip = 0;
  const nextIp = (): string => {
    ip++;
    return `10.${(ip >> 16) & 255}.${(ip >> 8) & 255}.${ip & 255}`;
  };
  for (let n = 0; n < namespaces; n++) {
    const ns = `team-${n}`;
    objects.push(...namespaceObjects(ns));
    for (let s = 0; s < perNs; s++) {
      const name = `svc-${s}`;
      objects.push({
        apiVersion: 'v1',
        kind: 'Service',
        metadata: { name, namespace: ns },
        spec: { clusterIP: nextIp(), selector: { app: name }, ports: [{ name: 'http', port: 8080 }] },
      });
      // The draws keep their order (the same seed gives the same mesh).
      const drDisable = fault(rand, FAULT_RATE.drDisable, expected, 'MM101');
      const ejectAll = fault(rand, FAULT_RATE.outlierEjectsAll, expected, 'MM107');
      objects.push(destinationRule(ns, name, drDisable, ejectAll));
      const badSubset = fault(rand, FAULT_RATE.unknownSubset, expected, 'MM202');
      const shortTimeout = fault(rand, FAULT_RATE.shortTimeout, expected, 'MM105');
      objects.push(virtualService(ns, name, s, badSubset, shortTimeout));
    }
    const tcp = fault(rand, FAULT_RATE.tcpEntryWithoutAddresses, expected, 'MM103');
    objects.push(serviceEntry(ns, n, tcp, hostsPerEntry));
  }
  return { objects, expected };
}
