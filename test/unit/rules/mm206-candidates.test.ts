import { describe, expect, it } from 'vitest';
import { droppedServers } from '../../../src/model/gateway-servers.js';
import type { Gateway } from '../../../src/model/types.js';
import { pairCandidates } from '../../../src/rules/mm206-conflicting-gateway-servers.js';

/** A small deterministic PRNG: the same Gateways every run. */
function rng(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function gateways(n: number, seed: number): Gateway[] {
  const r = rng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: n }, (_, i) => ({
    apiVersion: 'networking.istio.io/v1',
    kind: 'Gateway',
    metadata: { name: `gw${i}`, namespace: 'ns' },
    spec: {
      selector: { istio: 'ingressgateway' },
      servers: Array.from({ length: 1 + Math.floor(r() * 3) }, () => ({
        port: {
          number: pick([80, 443, 8443]),
          name: 'p',
          protocol: pick(['HTTP', 'HTTPS', 'HTTP2', 'TCP', 'TLS', 'GRPC']),
        },
        hosts: [pick(['a.example.com', 'b.example.com', '*', 'ns/c.example.com'])],
        ...(r() < 0.5 ? { tls: { mode: pick(['SIMPLE', 'PASSTHROUGH', 'ISTIO_MUTUAL']) } } : {}),
      })),
    },
  })) as Gateway[];
}

describe('MM206 compares a Gateway only with those that can collide with it', () => {
  it('misses no pair Istio would drop a server of, in either merge order (randomised Gateways)', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const all = gateways(60, seed);
      let colliding = 0;
      for (const gw of all) {
        const near = pairCandidates(gw, all);
        for (const other of all) {
          if (other === gw) continue;
          // A server dropped by another of its own Gateway is not a pair's: MM206 leaves those out too.
          const crossed = (order: Gateway[]): boolean => droppedServers(order).some((d) => d.gateway !== d.byGateway);
          const collides = crossed([gw, other]) || crossed([other, gw]);
          if (collides) colliding++;
          if (collides) expect(near.has(other), `${gw.metadata.name} / ${other.metadata.name}`).toBe(true);
        }
      }
      expect(colliding).toBeGreaterThan(0);
    }
  });

  it('leaves out Gateways that only share plain HTTP ports, which Istio merges', () => {
    const http = (name: string, host: string): Gateway =>
      ({
        apiVersion: 'networking.istio.io/v1',
        kind: 'Gateway',
        metadata: { name, namespace: 'ns' },
        spec: {
          selector: { istio: 'ingressgateway' },
          servers: [{ port: { number: 80, name: 'http', protocol: 'HTTP' }, hosts: [host] }],
        },
      }) as Gateway;
    const a = http('a', 'a.example.com');
    expect(pairCandidates(a, [a, http('b', 'b.example.com'), http('c', 'c.example.com')]).size).toBe(0);
  });
});
