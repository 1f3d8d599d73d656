import { describe, expect, it } from 'vitest';
import { check, fixAndRecheck } from '../helpers.js';

const dr = (host: string) => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: rule, namespace: shop}
spec:
  host: "${host}"
  trafficPolicy: {loadBalancer: {simple: LEAST_REQUEST}}
`;
const svc = `
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
`;
const se = `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: shop}
spec: {hosts: [api.example.com], location: MESH_EXTERNAL, resolution: DNS, ports: [{number: 443, name: tls, protocol: TLS}]}
`;
const summary = (fs: ReturnType<typeof check>) =>
  fs.map((f) => [f.messageType, f.severity, `${f.resource.namespace}/${f.resource.name}`]);

describe('MM221 destination-rule-unknown-host', () => {
  it('a host no Service or entry declares: warning when complete, info offline', () => {
    expect(summary(check('MM221', svc + dr('review'), { complete: true }))).toEqual([
      ['HostNotFound', 'warning', 'shop/rule'],
    ]);
    const offline = check('MM221', svc + dr('reviews.other.svc.cluster.local'));
    expect(summary(offline)).toEqual([['HostNotInInput', 'info', 'shop/rule']]);
    expect(fixAndRecheck('MM221', svc + dr('review')).after).toHaveLength(1); // no automatic fix
  });

  it('no finding for a Service (short or full name), an entry host, or a wildcard covering one', () => {
    expect(check('MM221', svc + dr('reviews'), { complete: true })).toEqual([]);
    expect(check('MM221', svc + dr('reviews.shop.svc.cluster.local'), { complete: true })).toEqual([]);
    expect(check('MM221', se + dr('api.example.com'), { complete: true })).toEqual([]);
    expect(check('MM221', se + dr('*.example.com'), { complete: true })).toEqual([]);
    expect(check('MM221', svc + dr('*.shop.svc.cluster.local'), { complete: true })).toEqual([]);
    expect(summary(check('MM221', svc + dr('*.other.svc.cluster.local'), { complete: true }))).toEqual([
      ['HostNotFound', 'warning', 'shop/rule'],
    ]);
  });
});
