import { describe, expect, it } from 'vitest';
import { check, fixAndRecheck } from '../helpers.js';

const vs = (name: string, ns: string, host: string, extra = '', created = '') => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}${created ? `, creationTimestamp: "${created}"` : ''}}
spec:
  hosts: [${host}]
${extra}  http:
  - route: [{destination: {host: ${host}}}]
`;
const summary = (fs: ReturnType<typeof check>) =>
  fs.map((f) => [f.messageType, f.severity, `${f.resource.namespace}/${f.resource.name}`]);

describe('MM219 conflicting-mesh-virtualservices', () => {
  it("two public mesh VirtualServices for one host: the older is used, the other's routes dropped everywhere", () => {
    const yaml =
      vs('a', 'shop', 'ratings', '', '2026-02-01T00:00:00Z') +
      vs('b', 'web', 'ratings.shop.svc.cluster.local', '', '2026-01-01T00:00:00Z');
    const f = check('MM219', yaml);
    expect(summary(f)).toEqual([
      ['RoutesDropped', 'warning', 'shop/a'],
      ['ShadowsOthers', 'warning', 'web/b'],
    ]);
    expect(f[0]?.message).toContain('only VirtualService web/b for it (the oldest)');
    expect(f[0]?.message).toContain('every namespace');
    expect(fixAndRecheck('MM219', yaml).after).toHaveLength(2); // no automatic fix
  });

  it('a VirtualService exported to its own namespace wins there over a public one', () => {
    const f = check(
      'MM219',
      vs('mine', 'shop', 'ratings', '  exportTo: ["."]\n', '2026-03-01T00:00:00Z') +
        vs('theirs', 'web', 'ratings.shop.svc.cluster.local'),
    );
    expect(summary(f)).toEqual([
      ['ShadowsOthers', 'warning', 'shop/mine'],
      ['RoutesDropped', 'warning', 'web/theirs'],
    ]);
    expect(f[1]?.message).toContain('sidecars of namespace shop');
  });

  it('no finding: exportTo keeps them apart, gateway-only bindings, different hosts, overlapping wildcards, delegates', () => {
    const local = '  exportTo: ["."]\n';
    expect(
      check('MM219', vs('a', 'team1', 'ratings', local) + vs('b', 'team2', 'ratings.team1.svc.cluster.local', local)),
    ).toEqual([]);
    expect(
      check(
        'MM219',
        vs('a', 'shop', 'ratings') +
          vs('b', 'web', 'ratings.shop.svc.cluster.local', '  gateways: [istio-system/ingress]\n'),
      ),
    ).toEqual([]);
    expect(check('MM219', vs('a', 'shop', 'ratings') + vs('b', 'shop', 'reviews'))).toEqual([]);
    expect(check('MM219', vs('a', 'shop', '"*.example.com"') + vs('b', 'shop', 'api.example.com'))).toEqual([]);
    expect(check('MM219', vs('a', 'shop', 'ratings') + vs('b', 'shop', 'ratings', '  exportTo: ["~"]\n'))).toEqual([]);
  });

  it('a shared host on a mesh-and-gateway VirtualService conflicts only where both are seen', () => {
    const f = check(
      'MM219',
      vs('a', 'team2', 'google.com', '  exportTo: ["."]\n  gateways: [mesh, istio-system/ingress]\n') +
        vs('b', 'bar', 'google.com'),
    );
    expect(summary(f).map((x) => x[2])).toEqual(['bar/b', 'team2/a']);
    expect(f[0]?.message).toContain('sidecars of namespace team2');
  });
});

describe('MM219 on a Gateway', () => {
  const gateway = (name: string, hosts: string) => `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ${hosts}}]
`;
  const gws =
    gateway('ingress', '["*.example.com"]') + gateway('other', '["*"]') + gateway('elsewhere', '["*.example.org"]');
  const gwVs0 = (name: string, ns: string, match: string, created: string) => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}, creationTimestamp: "${created}"}
spec:
  hosts: [shop.example.com]
  gateways: [istio-system/ingress]
  http:
  - ${match}route: [{destination: {host: ${name}.${ns}.svc.cluster.local}}]
`;
  const gwVs = gwVs0;
  it("a catch-all after an older VirtualService's catch-all on the same Gateway host never matches", () => {
    const yaml =
      gwVs('old', 'team1', '', '2026-01-01T00:00:00Z') +
      gwVs('new', 'team2', 'match: [{uri: {prefix: /}}]\n    ', '2026-02-01T00:00:00Z');
    const f = check('MM219', gws + yaml);
    expect(summary(f)).toEqual([['GatewayCatchAllShadowed', 'warning', 'team2/new']]);
    expect(f[0]?.message).toContain("VirtualService team1/old's catch-all takes every request");
  });

  it('no finding: the gateway merges distinct matches, other Gateways, and one catch-all', () => {
    const api = 'match: [{uri: {prefix: /api}}]\n    ';
    expect(
      check(
        'MM219',
        gws + gwVs('old', 'team1', '', '2026-01-01T00:00:00Z') + gwVs('new', 'team2', api, '2026-02-01T00:00:00Z'),
      ),
    ).toEqual([]);
    expect(
      check(
        'MM219',
        gws + gwVs('old', 'team1', api, '2026-01-01T00:00:00Z') + gwVs('new', 'team2', '', '2026-02-01T00:00:00Z'),
      ),
    ).toEqual([]);
    const other = gwVs('new', 'team2', '', '2026-02-01T00:00:00Z').replace(
      'istio-system/ingress',
      'istio-system/other',
    );
    expect(check('MM219', gws + gwVs('old', 'team1', '', '2026-01-01T00:00:00Z') + other)).toEqual([]);
    const unserved = (v: string) => v.replace('istio-system/ingress', 'istio-system/elsewhere');
    expect(
      check(
        'MM219',
        gws +
          unserved(gwVs('old', 'team1', '', '2026-01-01T00:00:00Z')) +
          unserved(gwVs('new', 'team2', '', '2026-02-01T00:00:00Z')),
      ),
    ).toEqual([]);
    const headers = 'match: [{headers: {x-canary: {exact: "1"}}}]\n    ';
    expect(
      check(
        'MM219',
        gws + gwVs('old', 'team1', headers, '2026-01-01T00:00:00Z') + gwVs('new', 'team2', '', '2026-02-01T00:00:00Z'),
      ),
    ).toEqual([]);
  });
});
