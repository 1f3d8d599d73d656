import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/rules/types.js';
import { check, find, fixAndRecheck } from '../helpers.js';

const external = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: default}
spec: {hosts: [www.bing.com, api.map.baidu.com], location: MESH_EXTERNAL, ports: [{number: 443, name: tls, protocol: TLS}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: default, namespace: istio-demo}
spec:
  egress:
  - hosts: [./*]
`;
const route = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: map, namespace: istio-demo}
spec:
  hosts: [api.map.baidu.com]
  tls:
  - match: [{port: 443, sniHosts: [api.map.baidu.com]}]
    route: [{destination: {host: api.map.baidu.com, port: {number: 443}}}]
`;

describe('MM108 sidecar-hides-serviceentry', () => {
  it('flags an entry used in the namespace but hidden by egress ./*, and imports it', () => {
    const f = check('MM108', external + route);
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('api.map.baidu.com');
    expect(f[0]?.message).not.toContain('www.bing.com');
    const { objects, after } = fixAndRecheck('MM108', external + route);
    expect(after).toEqual([]);
    expect((find(objects, 'Sidecar', 'default').spec as { egress: { hosts: string[] }[] }).egress[0]?.hosts).toEqual([
      './*',
      'default/api.map.baidu.com',
    ]);
  });

  it('does not flag unused hidden entries under ALLOW_ANY, errors on all of them under REGISTRY_ONLY', () => {
    expect(check('MM108', external)).toEqual([]);
    const f = check('MM108', external, { mesh: { outboundTrafficPolicy: 'REGISTRY_ONLY' } });
    expect(f[0]?.severity).toBe('error');
    expect(f[0]?.message).toContain('502 BlackHoleCluster');
  });

  it('does not flag entries the egress imports', () => {
    expect(check('MM108', external.replace('[./*]', '[./*, default/*]') + route)).toEqual([]);
  });
});

const reviews = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: bookinfo}
spec: {clusterIP: 10.96.0.5, ports: [{port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: bookinfo, creationTimestamp: "2024-01-01T00:00:00Z"}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets: [{name: v1, labels: {version: v1}}]
`;
const vs = (dest: string, gateways = ''): string => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: bookinfo}
spec:
  hosts: [reviews]
  ${gateways}
  http:
  - route: [{destination: ${dest}}]
`;

const onVs = { kind: 'VirtualService', namespace: 'bookinfo', name: 'reviews' };
const types = (fs: Finding[]): { rule: string; messageType: string; severity: string; resource: object }[] =>
  fs.map((f) => ({
    rule: f.rule,
    messageType: f.messageType,
    severity: f.severity,
    resource: { kind: f.resource.kind, namespace: f.resource.namespace, name: f.resource.name },
  }));

describe('parity rules', () => {
  it('MM201: a route to an unknown cluster-local host is an error when the snapshot is complete, a warning offline', () => {
    const typo = reviews + vs('{host: review}');
    expect(types(check('MM201', typo, { complete: true }))).toEqual([
      { rule: 'MM201', messageType: 'HostNotFound', severity: 'error', resource: onVs },
    ]);
    const offline = check('MM201', typo);
    expect(types(offline)).toEqual([
      { rule: 'MM201', messageType: 'HostNotInInput', severity: 'warning', resource: onVs },
    ]);
    expect(offline[0]?.message).toContain('review.bookinfo.svc.cluster.local');
    expect(check('MM201', reviews + vs('{host: reviews}'), { complete: true })).toEqual([]);
  });

  it('MM202: a subset the applying DestinationRule lacks, no DestinationRule at all, and the offline form', () => {
    const v2 = vs('{host: reviews, subset: v2}');
    const lacking = check('MM202', reviews + v2, { complete: true });
    expect(types(lacking)).toEqual([
      { rule: 'MM202', messageType: 'SubsetNotDefined', severity: 'error', resource: onVs },
    ]);
    expect(lacking[0]?.message).toContain('DestinationRule bookinfo/reviews');
    expect(lacking[0]?.related.map((r) => r.name)).toEqual(['reviews']);
    const withoutDr = reviews
      .split('---')
      .filter((d) => !d.includes('DestinationRule'))
      .join('---');
    expect(types(check('MM202', withoutDr + v2, { complete: true })).map((t) => t.messageType)).toEqual([
      'NoSubsetsForHost',
    ]);
    expect(types(check('MM202', reviews + v2)).map((t) => [t.messageType, t.severity])).toEqual([
      ['SubsetNotInInput', 'warning'],
    ]);
    expect(check('MM202', reviews + vs('{host: reviews, subset: v1}'), { complete: true })).toEqual([]);
  });

  it('MM203 flags the later of two DestinationRules whose trafficPolicy is dropped', () => {
    const second = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-pool, namespace: bookinfo, creationTimestamp: "2025-01-01T00:00:00Z"}
spec:
  host: reviews.bookinfo.svc.cluster.local
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 5}}}
`;
    const f = check('MM203', reviews + second);
    expect(f.map((x) => [x.messageType, x.resource.name, x.related.map((r) => r.name)])).toEqual([
      ['PolicyIgnored', 'reviews-pool', ['reviews']],
    ]);
    expect(check('MM203', reviews)).toEqual([]);
  });

  it('MM204: a missing Gateway is an error when the snapshot is complete, a warning offline; mesh is no Gateway', () => {
    const bound = reviews + vs('{host: reviews}', 'gateways: [istio-system/public]');
    const complete = check('MM204', bound, { complete: true });
    expect(types(complete)).toEqual([
      { rule: 'MM204', messageType: 'GatewayNotFound', severity: 'error', resource: onVs },
    ]);
    expect(complete[0]?.message).toContain('istio-system/public');
    expect(types(check('MM204', bound)).map((t) => [t.messageType, t.severity])).toEqual([
      ['GatewayNotInInput', 'warning'],
    ]);
    expect(check('MM204', reviews + vs('{host: reviews}', 'gateways: [mesh]'), { complete: true })).toEqual([]);
  });

  it('MM204 reads gateway names as Istio does: legacy name.ns and FQDN forms are served, ./name is invalid', () => {
    const gw = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: istio-system}
spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]}
`;
    for (const form of ['istio-system/public', 'public.istio-system', 'public.istio-system.svc.cluster.local']) {
      expect(check('MM204', reviews + gw + vs('{host: reviews}', `gateways: [${form}]`))).toEqual([]);
    }
    const invalid = check('MM204', reviews + gw + vs('{host: reviews}', 'gateways: [./public]'));
    expect(types(invalid)).toEqual([
      { rule: 'MM204', messageType: 'InvalidGatewayName', severity: 'error', resource: onVs },
    ]);
    expect(invalid[0]?.message).toContain('./public');
  });
});
