import { describe, expect, it } from 'vitest';
import { affectedSubjects } from '../../../src/controller/affected.js';
import type { KubeObject } from '../../../src/model/types.js';
import { indexFrom } from '../helpers.js';

const mesh = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec: {host: reviews, trafficPolicy: {tls: {mode: DISABLE}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: other-team-rule, namespace: shop}
spec: {host: api.example.com}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-from-web, namespace: web}
spec: {host: reviews.shop.svc.cluster.local}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: web}
spec: {host: web}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: shop}
spec: {hosts: [reviews], http: [{route: [{destination: {host: reviews}}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: mysql, namespace: db}
spec: {clusterIP: 10.0.0.14, ports: [{name: tcp, port: 3306}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mysql-by-host, namespace: db}
spec: {hosts: [mysql.db], ports: [{number: 3306, name: tcp, protocol: TCP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mysql-by-endpoint, namespace: db}
spec: {hosts: [db.internal], ports: [{number: 3307, name: tcp, protocol: TCP}], resolution: DNS, endpoints: [{address: mysql.db}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mysql-with-addresses, namespace: db}
spec: {hosts: [mysql.db], addresses: [10.0.0.14], ports: [{number: 3308, name: tcp, protocol: TCP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: unrelated, namespace: db}
spec: {hosts: [api.example.com], ports: [{number: 443, name: https, protocol: HTTPS}], resolution: DNS}
`;

function obj(kind: string, namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject {
  const apiVersion =
    kind === 'Service' ? 'v1' : kind === 'PeerAuthentication' ? 'security.istio.io/v1' : 'networking.istio.io/v1';
  return { apiVersion, kind, metadata: { name, namespace }, spec };
}

describe('affectedSubjects: what is re-evaluated when an object changes', () => {
  it("a PeerAuthentication change in a namespace re-evaluates that namespace's DestinationRules and Services, those for its services elsewhere, and itself", () => {
    const index = indexFrom(mesh);
    const got = affectedSubjects(obj('PeerAuthentication', 'shop', 'default', { mtls: { mode: 'STRICT' } }), index);
    // MM101 judges Services (plaintext to STRICT with no DestinationRule) and PeerAuthentications (DISABLE receiving mTLS) too.
    expect([...got].sort()).toEqual([
      'DestinationRule/shop/other-team-rule',
      'DestinationRule/shop/reviews',
      'DestinationRule/web/reviews-from-web',
      'PeerAuthentication/shop/default',
      'Service/shop/reviews',
    ]);
  });

  it('a mesh-wide PeerAuthentication (root namespace) re-evaluates every DestinationRule', () => {
    const index = indexFrom(mesh);
    const got = affectedSubjects(
      obj('PeerAuthentication', 'istio-system', 'default', { mtls: { mode: 'STRICT' } }),
      index,
    );
    expect([...got].filter((k) => k.startsWith('DestinationRule/')).sort()).toEqual([
      'DestinationRule/shop/other-team-rule',
      'DestinationRule/shop/reviews',
      'DestinationRule/web/reviews-from-web',
      'DestinationRule/web/web',
    ]);
  });

  it('a Service change re-evaluates the ServiceEntries without addresses that name it, by host or endpoint', () => {
    const index = indexFrom(mesh);
    const got = affectedSubjects(
      obj('Service', 'db', 'mysql', { clusterIP: '10.0.0.15', ports: [{ name: 'tcp', port: 3306 }] }),
      index,
    );
    expect(got.has('ServiceEntry/db/mysql-by-host')).toBe(true);
    expect(got.has('ServiceEntry/db/mysql-by-endpoint')).toBe(true);
    expect(got.has('ServiceEntry/db/unrelated')).toBe(false);
  });

  it('a Service change re-evaluates the DestinationRules and routes for its host, not others', () => {
    const index = indexFrom(mesh);
    const got = affectedSubjects(obj('Service', 'shop', 'reviews', { ports: [{ name: 'http', port: 9080 }] }), index);
    expect(got.has('DestinationRule/shop/reviews')).toBe(true);
    expect(got.has('DestinationRule/web/reviews-from-web')).toBe(true);
    expect(got.has('VirtualService/shop/reviews')).toBe(true);
    expect(got.has('DestinationRule/shop/other-team-rule')).toBe(false);
    expect(got.has('DestinationRule/web/web')).toBe(false);
  });

  it('a subject itself is always re-evaluated (a Service too: MM101 judges Services), and nothing unrelated', () => {
    const index = indexFrom(mesh);
    expect(
      affectedSubjects(obj('DestinationRule', 'web', 'web', { host: 'web' }), index).has('DestinationRule/web/web'),
    ).toBe(true);
    expect([...affectedSubjects(obj('Service', 'nowhere', 'lonely'), index)]).toEqual(['Service/nowhere/lonely']);
  });

  it('a Namespace change (its labels pick the policy) re-evaluates every subject in it, and none elsewhere', () => {
    const index = indexFrom(mesh);
    const ns: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } };
    expect([...affectedSubjects(ns, index)].sort()).toEqual([
      'DestinationRule/shop/other-team-rule',
      'DestinationRule/shop/reviews',
      'Namespace//shop',
      'Service/shop/reviews',
      'VirtualService/shop/reviews',
    ]);
  });
});

describe('VirtualServices by declared host', () => {
  const two = `
apiVersion: v1
kind: Service
metadata: {name: front, namespace: shop}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: a, namespace: shop}
spec: {hosts: [front], http: [{route: [{destination: {host: back}}]}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: b, namespace: web}
spec: {hosts: [front.shop.svc.cluster.local], http: [{route: [{destination: {host: other}}]}]}
`;
  it('a VirtualService re-evaluates those declaring its hosts (MM219), a Service those served on it (MM220)', () => {
    const index = indexFrom(two);
    const a = index.get('VirtualService/shop/a')?.object as KubeObject;
    expect([...affectedSubjects(a, index)]).toContain('VirtualService/web/b');
    const front = index.get('Service/shop/front')?.object as KubeObject;
    expect([...affectedSubjects(front, index)]).toEqual(
      expect.arrayContaining(['VirtualService/shop/a', 'VirtualService/web/b']),
    );
  });
});

describe('workloads, Secrets and the Gateway API (kinds the operator watches for MM210-214 and MM3xx)', () => {
  const cluster = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews-from-web, namespace: web}
spec: {host: reviews.shop.svc.cluster.local, subsets: [{name: v2, labels: {version: v2}}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: web, namespace: web}
spec: {host: web}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec: {selector: {istio: ingressgateway}, servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ['*'], tls: {mode: SIMPLE, credentialName: cert}}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: shop}
spec: {template: {metadata: {labels: {app: reviews}}, spec: {containers: [{name: app, ports: [{containerPort: 9080}]}]}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: elsewhere, namespace: web}
spec: {template: {metadata: {labels: {app: web}}, spec: {containers: [{name: app}]}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: infra}
spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: shop}
spec: {parentRefs: [{name: shared, namespace: infra}], rules: [{backendRefs: [{name: reviews, port: 9080}]}]}
`;
  const pod = (labels: Record<string, string>): KubeObject => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'reviews-v2-abc', namespace: 'shop', labels },
    spec: { containers: [{ name: 'app' }] },
  });

  it('a Pod re-evaluates the DestinationRules of its namespace’s Services in any namespace (MM210), and Gateways anywhere', () => {
    const got = affectedSubjects(pod({ app: 'reviews', version: 'v2' }), indexFrom(cluster));
    expect(got.has('DestinationRule/web/reviews-from-web')).toBe(true);
    expect(got.has('Gateway/edge/public')).toBe(true);
    expect(got.has('DestinationRule/web/web')).toBe(false);
    expect(got.has('Deployment/web/elsewhere')).toBe(false);
  });

  it('a Deployment (its pod template) re-evaluates like its pods, and is judged itself (MM214)', () => {
    const index = indexFrom(cluster);
    const d = index.get('Deployment/shop/reviews')?.object as KubeObject;
    const got = affectedSubjects(d, index);
    expect(got.has('Deployment/shop/reviews')).toBe(true);
    expect(got.has('DestinationRule/web/reviews-from-web')).toBe(true);
    expect(got.has('Gateway/edge/public')).toBe(true);
  });

  it("a Secret re-evaluates Gateways in every namespace (MM213: the credential lives with the gateway's pods)", () => {
    const secret: KubeObject = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cert', namespace: 'istio-system' },
    };
    const got = affectedSubjects(secret, indexFrom(cluster));
    expect(got.has('Gateway/edge/public')).toBe(true);
    expect(got.has('DestinationRule/web/web')).toBe(false);
  });

  it('a RequestAuthentication re-evaluates VirtualServices of other namespaces (MM222: they bind its gateways)', () => {
    const index = indexFrom(
      `${mesh}---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: claims, namespace: web}
spec: {hosts: [web.example.com], gateways: [istio-system/ingress], http: [{route: [{destination: {host: web}}]}]}
`,
    );
    const ra: KubeObject = {
      apiVersion: 'security.istio.io/v1',
      kind: 'RequestAuthentication',
      metadata: { name: 'jwt', namespace: 'istio-system' },
      spec: { selector: { matchLabels: { istio: 'ingressgateway' } }, jwtRules: [{ issuer: 'https://idp' }] },
    };
    expect(affectedSubjects(ra, index).has('VirtualService/web/claims')).toBe(true);
  });

  it('a Gateway API Gateway re-evaluates the routes of other namespaces (MM301-303)', () => {
    const index = indexFrom(cluster);
    const gw = index.get('Gateway.gateway.networking.k8s.io/infra/shared')?.object as KubeObject;
    expect(affectedSubjects(gw, index).has('HTTPRoute/shop/reviews')).toBe(true);
  });

  it('a Service re-evaluates the workloads of its namespace (MM214) and the routes to it (MM301)', () => {
    const index = indexFrom(cluster);
    const svc = index.get('Service/shop/reviews')?.object as KubeObject;
    const got = affectedSubjects(svc, index);
    expect(got.has('Deployment/shop/reviews')).toBe(true);
    expect(got.has('HTTPRoute/shop/reviews')).toBe(true);
    expect(got.has('Deployment/web/elsewhere')).toBe(false);
  });
});
