import { describe, expect, it } from 'vitest';
import { decodeDocuments } from '../../../src/model/decode.js';
import { K8S_GATEWAY, kindKey, objectKey } from '../../../src/model/kinds.js';
import { RESOURCES, resourceForKind } from '../../../src/kube/resources.js';
import { analyze } from '../../../src/analysis/analyze.js';
import { mm302 } from '../../../src/rules/mm302-gateway-api-route-not-attached.js';
import { check, fixAndRecheck, indexFrom } from '../helpers.js';

const gateway = (
  listeners = '[{name: https, port: 443, protocol: HTTPS, hostname: foo.bar.org}]',
  ns = 'foo-dev',
  cls = 'istio',
): string => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: ${ns}}
spec:
  gatewayClassName: ${cls}
  listeners: ${listeners}
`;
const route = (spec: string, ns = 'foo-dev', kind = 'HTTPRoute', api = 'gateway.networking.k8s.io/v1'): string => `
---
apiVersion: ${api}
kind: ${kind}
metadata: {name: web, namespace: ${ns}}
spec:
${spec}
`;
const service = (name = 'web', ns = 'foo-dev', ports = '[{name: http, port: 8080}]'): string => `
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${ns}}
spec: {selector: {app: ${name}}, ports: ${ports}}
`;
const externalEntry = `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dev-test, namespace: foo-dev}
spec:
  hosts: [dev.bar.org]
  location: MESH_EXTERNAL
  ports: [{name: https, number: 443, protocol: HTTPS}]
  resolution: DNS
`;
const toHostname = `  parentRefs: [{name: public}]
  hostnames: [dev.bar.org]
  rules:
  - matches: [{path: {type: PathPrefix, value: /api/test}}]
    backendRefs: [{group: networking.istio.io, kind: Hostname, name: dev.bar.org, port: 443}]`;
const toService = (ref = '{name: web, port: 8080}', extra = ''): string => `  parentRefs: [{name: public${extra}}]
  hostnames: [foo.bar.org]
  rules:
  - backendRefs: [${ref}]`;

describe("the kinds registry: Gateway API kinds beside Istio's", () => {
  it('keys the Gateway API Gateway by group and kind, and every other kind by its name', () => {
    expect(kindKey({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway' })).toBe(K8S_GATEWAY);
    expect(kindKey({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway' })).toBe('Gateway');
    expect(kindKey({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute' })).toBe('HTTPRoute');
    expect(
      objectKey({
        apiVersion: 'gateway.networking.k8s.io/v1beta1',
        kind: 'Gateway',
        metadata: { name: 'g', namespace: 'n' },
      }),
    ).not.toBe(
      objectKey({ apiVersion: 'networking.istio.io/v1', kind: 'Gateway', metadata: { name: 'g', namespace: 'n' } }),
    );
  });

  it('gives the operator the API kind, not the registry key', () => {
    expect(RESOURCES[K8S_GATEWAY]).toEqual({
      group: 'gateway.networking.k8s.io',
      version: 'v1',
      kind: 'Gateway',
      plural: 'gateways',
      namespaced: true,
    });
    expect(resourceForKind('Gateway')?.group).toBe('networking.istio.io');
  });

  it('indexes an Istio Gateway and a Gateway API Gateway of one name as two objects', () => {
    const index = indexFrom(`${gateway('[{name: http, port: 80, protocol: HTTP}]', 'edge')}---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec: {selector: {istio: ingressgateway}}
`);
    expect(index.gateway('edge', 'public')?.apiVersion).toBe('networking.istio.io/v1');
    expect(index.k8sGateway('edge', 'public')?.apiVersion).toBe('gateway.networking.k8s.io/v1');
    expect(index.hasGatewayApiGateway('edge', 'public')).toBe(true);
  });

  it('reads the served versions, and refuses one that is not', () => {
    const doc = (api: string, kind: string) => ({
      value: { apiVersion: api, kind, metadata: { name: 'r', namespace: 'a' }, spec: {} },
      file: 'f',
      line: 1,
    });
    const r = decodeDocuments([
      doc('gateway.networking.k8s.io/v1beta1', 'HTTPRoute'),
      doc('gateway.networking.k8s.io/v1alpha2', 'TCPRoute'),
      doc('gateway.networking.k8s.io/v1', 'BackendTLSPolicy'),
      doc('gateway.networking.k8s.io/v9', 'HTTPRoute'),
    ]);
    expect(r.objects.map((o) => o.object.kind)).toEqual(['HTTPRoute', 'TCPRoute']);
    expect(r.passthrough.map((o) => o.object.kind)).toEqual(['BackendTLSPolicy']);
    expect(r.diagnostics.map((d) => d.message)).toEqual([
      expect.stringMatching(/^HTTPRoute is not served as gateway.networking.k8s.io\/v9/),
    ]);
  });
});

describe('MM102 through an HTTPRoute (seed 000 on the Gateway API)', () => {
  it('flags an HTTPRoute backendRef to an external HTTPS host with no TLS origination, and creates the DestinationRule', () => {
    const yaml = gateway() + route(toHostname) + externalEntry;
    const f = check('MM102', yaml);
    expect(f.map((x) => [x.rule, x.messageType, x.resource.kind, x.resource.name])).toEqual([
      ['MM102', 'NoDestinationRule', 'HTTPRoute', 'web'],
    ]);
    expect(f[0]?.message).toMatch(/^503 UC: HTTPRoute foo-dev\/web routes HTTP to dev\.bar\.org:443/);
    expect(f[0]?.claim).toEqual({
      kind: 'upstream-tls-sni',
      client: { type: 'router', namespace: 'foo-dev', labels: { 'gateway.networking.k8s.io/gateway-name': 'public' } },
      cluster: 'outbound|443||dev.bar.org',
      wantSni: 'dev.bar.org',
    });
    expect(f[0]?.fix.create[0]?.spec).toEqual({
      host: 'dev.bar.org',
      trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] } },
    });
    const { after, failures } = fixAndRecheck('MM102', yaml);
    expect(failures).toBe(0);
    expect(after).toEqual([]);
  });

  it('flags a missing sni when the route is reached under another hostname (auto_sni)', () => {
    const yaml =
      gateway() +
      route(toHostname.replace('hostnames: [dev.bar.org]', 'hostnames: [foo.bar.org]')) +
      externalEntry +
      `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dev-test, namespace: foo-dev}
spec: {host: dev.bar.org, trafficPolicy: {tls: {mode: SIMPLE}}}
`;
    expect(check('MM102', yaml).map((x) => x.messageType)).toEqual(['SniFromOriginalHost']);
    expect(fixAndRecheck('MM102', yaml).after).toEqual([]);
    // Without hostnames the route is reached under its listener's hostname (foo.bar.org).
    expect(yaml).toContain('  hostnames: [foo.bar.org]\n');
    expect(check('MM102', yaml.replace('  hostnames: [foo.bar.org]\n', '')).map((x) => x.messageType)).toEqual([
      'SniFromOriginalHost',
    ]);
  });

  it('judges a GRPCRoute alike', () => {
    const grpc = route(
      `  parentRefs: [{name: public}]\n  hostnames: [dev.bar.org]\n  rules: [{backendRefs: [{group: networking.istio.io, kind: Hostname, name: dev.bar.org, port: 443}]}]`,
      'foo-dev',
      'GRPCRoute',
    );
    const yaml = gateway() + grpc + externalEntry;
    expect(check('MM102', yaml).map((x) => [x.messageType, x.resource.kind])).toEqual([
      ['NoDestinationRule', 'GRPCRoute'],
    ]);
    expect(fixAndRecheck('MM102', yaml).after).toEqual([]);
  });

  it("accepts TLS origination with the right sni, a backend of another controller's Gateway, and a Service backend", () => {
    const dr = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dev-test, namespace: foo-dev}
spec: {host: dev.bar.org, trafficPolicy: {tls: {mode: SIMPLE, sni: dev.bar.org}}}
`;
    expect(check('MM102', gateway() + route(toHostname) + externalEntry + dr)).toEqual([]);
    expect(check('MM102', gateway(undefined, 'foo-dev', 'other-vendor') + route(toHostname) + externalEntry)).toEqual(
      [],
    );
    expect(check('MM102', gateway() + route(toService()) + service() + externalEntry)).toEqual([]);
  });
});

describe('MM301 gateway-api-backend-not-found', () => {
  it('flags a backendRef to a missing Service: an error on a complete snapshot, a warning offline', () => {
    const yaml = gateway() + route(toService());
    expect(
      check('MM301', yaml, { complete: true }).map((x) => [
        x.rule,
        x.messageType,
        x.severity,
        x.resource.kind,
        x.resource.name,
      ]),
    ).toEqual([['MM301', 'BackendNotFound', 'error', 'HTTPRoute', 'web']]);
    const offline = check('MM301', yaml);
    expect(offline.map((x) => [x.messageType, x.severity])).toEqual([['BackendNotInInput', 'warning']]);
    expect(offline[0]?.message).toContain('Service foo-dev/web');
    expect(offline[0]?.fix.notes?.[0]).toMatch(/no automatic fix/);
  });

  it('flags a port the Service does not declare, names the weight share, and a missing Hostname', () => {
    const f = check(
      'MM301',
      gateway() + route(toService('{name: web, port: 80, weight: 1}, {name: web, port: 8080, weight: 9}')) + service(),
    );
    expect(f.map((x) => x.messageType)).toEqual(['PortNotFound']);
    expect(f[0]?.message).toContain(
      '1 of 10 weight of rules[0] to port 80 of Service foo-dev/web, which declares only 8080',
    );
    const h = check(
      'MM301',
      gateway() +
        route(toService('{group: networking.istio.io, kind: Hostname, name: nowhere.example.com, port: 443}')),
      { complete: true },
    );
    expect(h.map((x) => x.messageType)).toEqual(['BackendNotFound']);
  });

  it('accepts existing backends, weight-0 refs, routes only for other controllers, and leaves ungranted cross-namespace refs to MM303', () => {
    expect(check('MM301', gateway() + route(toService()) + service(), { complete: true })).toEqual([]);
    expect(
      check(
        'MM301',
        gateway() + route(toService('{name: gone, port: 8080, weight: 0}, {name: web, port: 8080}')) + service(),
        { complete: true },
      ),
    ).toEqual([]);
    expect(check('MM301', gateway(undefined, 'foo-dev', 'nginx') + route(toService()), { complete: true })).toEqual([]);
    expect(
      check('MM301', gateway() + route(toService('{name: web, namespace: other, port: 8080}')), { complete: true }),
    ).toEqual([]);
    expect(
      check(
        'MM301',
        gateway() +
          route(toService('{group: networking.istio.io, kind: Hostname, name: dev.bar.org, port: 443}')) +
          externalEntry,
        { complete: true },
      ),
    ).toEqual([]);
  });

  it('judges TCPRoutes and GRPCRoutes alike', () => {
    const tcp = route(
      `  parentRefs: [{name: public}]\n  rules: [{backendRefs: [{name: db, port: 5432}]}]`,
      'foo-dev',
      'TCPRoute',
      'gateway.networking.k8s.io/v1alpha2',
    );
    expect(
      check('MM301', gateway('[{name: tcp, port: 5432, protocol: TCP}]') + tcp, { complete: true }).map((x) => [
        x.messageType,
        x.resource.kind,
      ]),
    ).toEqual([['BackendNotFound', 'TCPRoute']]);
    const grpc = route(toService('{name: web, port: 9090}'), 'foo-dev', 'GRPCRoute');
    expect(
      check('MM301', gateway() + grpc + service(), { complete: true }).map((x) => [x.messageType, x.resource.kind]),
    ).toEqual([['PortNotFound', 'GRPCRoute']]);
  });
});

describe('MM302 gateway-api-route-not-attached', () => {
  it('flags a parentRef to a missing Gateway (error when complete, warning offline) and to a missing Service (GAMMA)', () => {
    expect(
      check('MM302', route(toService()) + service(), { complete: true }).map((x) => [
        x.messageType,
        x.severity,
        x.resource.name,
      ]),
    ).toEqual([['ParentNotFound', 'error', 'web']]);
    expect(check('MM302', route(toService()) + service()).map((x) => x.messageType)).toEqual(['ParentNotInInput']);
    const mesh = route(
      `  parentRefs: [{group: '', kind: Service, name: reviews}]\n  rules: [{backendRefs: [{name: web, port: 8080}]}]`,
    );
    expect(check('MM302', mesh + service(), { complete: true }).map((x) => x.messageType)).toEqual(['ParentNotFound']);
    expect(check('MM302', mesh + service() + service('reviews'), { complete: true })).toEqual([]);
  });

  it('flags a sectionName or port no listener has', () => {
    expect(
      check('MM302', gateway() + route(toService(undefined, ', sectionName: http')) + service()).map(
        (x) => x.messageType,
      ),
    ).toEqual(['NoSuchListener']);
    expect(
      check('MM302', gateway() + route(toService(undefined, ', port: 80')) + service()).map((x) => x.messageType),
    ).toEqual(['NoSuchListener']);
    expect(
      check('MM302', gateway() + route(toService(undefined, ', sectionName: https, port: 443')) + service()),
    ).toEqual([]);
  });

  it('flags hostnames no listener accepts, and accepts wildcards either way', () => {
    const f = check(
      'MM302',
      gateway() + route(toService().replace('[foo.bar.org]', '[other.example.com]')) + service(),
    );
    expect(f.map((x) => x.messageType)).toEqual(['HostnameNotAccepted']);
    expect(f[0]?.message).toContain('listener hostnames https: foo.bar.org');
    expect(
      check(
        'MM302',
        gateway('[{name: https, port: 443, protocol: HTTPS, hostname: "*.bar.org"}]') + route(toService()) + service(),
      ),
    ).toEqual([]);
    expect(
      check('MM302', gateway() + route(toService().replace('[foo.bar.org]', '["*.bar.org"]')) + service()),
    ).toEqual([]);
    expect(
      check('MM302', gateway('[{name: http, port: 80, protocol: HTTP}]') + route(toService()) + service()),
    ).toEqual([]);
  });

  it('flags a route namespace allowedRoutes does not admit: Same by default, a Selector over the namespace labels', () => {
    const other = route(toService(undefined, ', namespace: foo-dev'), 'apps') + service('web', 'apps');
    expect(check('MM302', gateway() + other).map((x) => x.messageType)).toEqual(['NamespaceNotAllowed']);
    const all = gateway('[{name: https, port: 443, protocol: HTTPS, allowedRoutes: {namespaces: {from: All}}}]');
    expect(check('MM302', all + other)).toEqual([]);
    const selector = gateway(
      '[{name: https, port: 443, protocol: HTTPS, allowedRoutes: {namespaces: {from: Selector, selector: {matchLabels: {shared-gateway: "true"}}}}}]',
    );
    const ns = (labels: string) =>
      `\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: apps, labels: ${labels}}\n`;
    expect(check('MM302', selector + other + ns('{team: a}')).map((x) => x.messageType)).toEqual([
      'NamespaceNotAllowed',
    ]);
    expect(check('MM302', selector + other + ns('{shared-gateway: "true"}'))).toEqual([]);
    // The namespace's labels are unknown offline: not judged.
    expect(check('MM302', selector + other)).toEqual([]);
    // Complete, its absent labels are only kubernetes.io/metadata.name (run unrecorded: offline the case has no finding to replay).
    expect(
      analyze(indexFrom(selector + other), { complete: true, rules: [mm302] }).findings.map((x) => x.messageType),
    ).toEqual(['NamespaceNotAllowed']);
  });

  it('flags a route kind the listener does not take (protocol or allowedRoutes.kinds)', () => {
    const tcp = route(
      `  parentRefs: [{name: public}]\n  rules: [{backendRefs: [{name: web, port: 8080}]}]`,
      'foo-dev',
      'TCPRoute',
      'gateway.networking.k8s.io/v1alpha2',
    );
    expect(check('MM302', gateway() + tcp + service()).map((x) => x.messageType)).toEqual(['KindNotAllowed']);
    const grpcOnly = gateway(
      '[{name: https, port: 443, protocol: HTTPS, allowedRoutes: {kinds: [{kind: GRPCRoute}]}}]',
    );
    expect(check('MM302', grpcOnly + route(toService()) + service()).map((x) => x.messageType)).toEqual([
      'KindNotAllowed',
    ]);
    expect(check('MM302', gateway('[{name: tcp, port: 5432, protocol: TCP}]') + tcp + service())).toEqual([]);
  });

  it('does not judge Gateways of other controllers, waypoints, or listeners of protocols Istio does not program as an ingress', () => {
    expect(
      check(
        'MM302',
        gateway(undefined, 'foo-dev', 'other') + route(toService().replace('[foo.bar.org]', '[x.y]')) + service(),
      ),
    ).toEqual([]);
    expect(
      check(
        'MM302',
        gateway('[{name: mesh, port: 15008, protocol: HBONE}]', 'foo-dev', 'istio-waypoint') +
          route(toService()) +
          service(),
      ),
    ).toEqual([]);
    const cls = `\n---\napiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: custom}\nspec: {controllerName: istio.io/gateway-controller}\n`;
    expect(
      check(
        'MM302',
        gateway(undefined, 'foo-dev', 'custom') +
          cls +
          route(toService().replace('[foo.bar.org]', '[x.y]')) +
          service(),
      ).map((x) => x.messageType),
    ).toEqual(['HostnameNotAccepted']);
  });
});

describe('MM303 gateway-api-reference-not-granted', () => {
  const grant = (from: string, to: string, ns = 'backend') => `
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow, namespace: ${ns}}
spec: {from: [${from}], to: [${to}]}
`;
  const cross = gateway() + route(toService('{name: api, namespace: backend, port: 8080}')) + service('api', 'backend');

  it('flags a cross-namespace backendRef without a ReferenceGrant, naming the grant to create', () => {
    const f = check('MM303', cross, { complete: true });
    expect(f.map((x) => [x.rule, x.messageType, x.severity, x.resource.kind])).toEqual([
      ['MM303', 'BackendNotGranted', 'error', 'HTTPRoute'],
    ]);
    expect(f[0]?.message).toContain('Create a ReferenceGrant in backend from HTTPRoute in foo-dev to Service api');
    expect(check('MM303', cross).map((x) => [x.messageType, x.severity])).toEqual([
      ['BackendGrantNotInInput', 'warning'],
    ]);
  });

  it('accepts a grant for the kind and namespace, by name or for every name; not one for another kind, namespace or name', () => {
    expect(
      check(
        'MM303',
        cross +
          grant(
            '{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: foo-dev}',
            "{group: '', kind: Service}",
          ),
        { complete: true },
      ),
    ).toEqual([]);
    expect(
      check(
        'MM303',
        cross +
          grant(
            '{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: foo-dev}',
            "{group: '', kind: Service, name: api}",
          ),
        { complete: true },
      ),
    ).toEqual([]);
    expect(
      check(
        'MM303',
        cross +
          grant(
            '{group: gateway.networking.k8s.io, kind: GRPCRoute, namespace: foo-dev}',
            "{group: '', kind: Service}",
          ),
        { complete: true },
      ),
    ).toHaveLength(1);
    expect(
      check(
        'MM303',
        cross +
          grant(
            '{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: elsewhere}',
            "{group: '', kind: Service}",
          ),
        { complete: true },
      ),
    ).toHaveLength(1);
    expect(
      check(
        'MM303',
        cross +
          grant(
            '{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: foo-dev}',
            "{group: '', kind: Service, name: other}",
          ),
        { complete: true },
      ),
    ).toHaveLength(1);
    expect(
      check(
        'MM303',
        cross +
          grant(
            '{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: foo-dev}',
            "{group: '', kind: Service}",
            'foo-dev',
          ),
        { complete: true },
      ),
    ).toHaveLength(1);
  });

  it('flags a Gateway certificateRef to a Secret in another namespace without a grant', () => {
    const gw = gateway(
      '[{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert, namespace: certs}]}}]',
    );
    const f = check('MM303', gw, { complete: true });
    expect(f.map((x) => [x.messageType, x.resource.kind, x.resource.apiVersion])).toEqual([
      ['CertificateNotGranted', 'Gateway', 'gateway.networking.k8s.io/v1'],
    ]);
    expect(f[0]?.message).toContain('certificate Secret certs/cert');
    expect(
      check(
        'MM303',
        gw +
          grant(
            '{group: gateway.networking.k8s.io, kind: Gateway, namespace: foo-dev}',
            "{group: '', kind: Secret, name: cert}",
            'certs',
          ),
        { complete: true },
      ),
    ).toEqual([]);
    expect(
      check('MM303', gateway('[{name: https, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: cert}]}}]'), {
        complete: true,
      }),
    ).toEqual([]);
  });
});
