import { describe, expect, it } from 'vitest';
import { check, find, fixAndRecheck } from '../helpers.js';

const gatewayRoute = (routeHost = 'foo.bar.org'): string => `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: barl-org, namespace: foo-dev}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: [foo.bar.org]}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: nginx-vs-dev, namespace: foo-dev}
spec:
  gateways: [foo-dev/barl-org]
  hosts: [${routeHost}]
  http:
  - route:
    - destination: {host: dev.bar.org, port: {number: 443}}
`;
const entry = (ports = `[{name: https, number: 443, protocol: HTTPS}]`): string => `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: dev-test, namespace: foo-dev}
spec:
  hosts: [dev.bar.org]
  location: MESH_EXTERNAL
  ports: ${ports}
  resolution: DNS
`;
const rule = (tls: string): string => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: dev-test, namespace: foo-dev}
spec:
  host: dev.bar.org
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 10}}
    ${tls}
`;

describe('MM102 external-tls-missing-sni', () => {
  it('seed 000: no DestinationRule -> creates one with SIMPLE, sni and subjectAltNames = the external host', () => {
    const yaml = gatewayRoute() + entry();
    const findings = check('MM102', yaml);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toMatch(/503 UC.*dev\.bar\.org:443/);
    const created = findings[0]?.fix.create[0];
    expect(created?.kind).toBe('DestinationRule');
    expect(created?.metadata.namespace).toBe('foo-dev');
    expect(created?.spec).toEqual({
      host: 'dev.bar.org',
      trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] } },
    });
    expect(fixAndRecheck('MM102', yaml).after).toEqual([]);
  });

  it('accepts a DestinationRule with the correct sni', () => {
    expect(check('MM102', gatewayRoute() + entry() + rule('tls: {mode: SIMPLE, sni: dev.bar.org}'))).toEqual([]);
  });

  it('flags a wrong sni and replaces only the sni', () => {
    const yaml = gatewayRoute() + entry() + rule('tls: {mode: SIMPLE, sni: foo.bar.org}');
    const f = check('MM102', yaml);
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('sends sni foo.bar.org');
    const { objects, after } = fixAndRecheck('MM102', yaml);
    expect(after).toEqual([]);
    expect((find(objects, 'DestinationRule', 'dev-test').spec as { trafficPolicy: object }).trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 10 } },
      tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] },
    });
  });

  it('flags a missing sni when the route comes in under another host, and says the verdict depends on the Istio version', () => {
    const yaml = gatewayRoute('foo.bar.org') + entry() + rule('tls: {mode: SIMPLE}');
    const f = check('MM102', yaml);
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('auto_sni');
    expect(f[0]?.symptom).toBe('503 UF,URX');
    expect(f[0]?.versionNote).toContain('1.21');
    const old = check('MM102', yaml, { istioVersion: { major: 1, minor: 20 } });
    expect(old[0]?.message).not.toContain('auto_sni');
  });

  it('accepts a missing sni when the route is reached under the external host itself', () => {
    expect(check('MM102', gatewayRoute('dev.bar.org') + entry() + rule('tls: {mode: SIMPLE}'))).toEqual([]);
  });

  it('ignores HTTP ports of external entries', () => {
    expect(check('MM102', gatewayRoute() + entry('[{name: http, number: 443, protocol: HTTP}]'))).toEqual([]);
  });

  it('on a multi-port entry, adds a port-level entry that keeps the top-level pool', () => {
    const yaml =
      gatewayRoute() +
      entry('[{name: https, number: 443, protocol: HTTPS}, {name: http, number: 80, protocol: HTTP}]') +
      rule('loadBalancer: {simple: ROUND_ROBIN}');
    const { objects, after } = fixAndRecheck('MM102', yaml);
    expect(after).toEqual([]);
    const tp = (
      find(objects, 'DestinationRule', 'dev-test').spec as {
        trafficPolicy: { tls?: object; portLevelSettings: object[] };
      }
    ).trafficPolicy;
    expect(tp.tls).toBeUndefined();
    expect(tp.portLevelSettings).toEqual([
      {
        port: { number: 443 },
        connectionPool: { tcp: { maxConnections: 10 } },
        loadBalancer: { simple: 'ROUND_ROBIN' },
        tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] },
      },
    ]);
  });

  it('flags ISTIO_MUTUAL towards an external server', () => {
    const f = check('MM102', gatewayRoute('dev.bar.org') + entry() + rule('tls: {mode: ISTIO_MUTUAL}'));
    expect(f[0]?.symptom).toBe('503 UF');
  });
});

describe('MM102 and TLS originated in a subset (the egress-gateway pattern)', () => {
  const mesh = (subsets: string, subset: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: cnn, namespace: default}
spec:
  hosts: [edition.cnn.com]
  location: MESH_EXTERNAL
  ports: [{name: http, number: 80, protocol: HTTP}, {name: https, number: 443, protocol: HTTPS}]
  resolution: DNS
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cnn, namespace: default}
spec:
  host: edition.cnn.com
  subsets:
${subsets}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: cnn, namespace: default}
spec:
  hosts: [edition.cnn.com]
  http:
  - route:
    - destination: {host: edition.cnn.com, subset: ${subset}, port: {number: 443}}
`;
  const originating = `  - name: tls-origination
    trafficPolicy:
      portLevelSettings:
      - port: {number: 443}
        tls: {mode: SIMPLE, sni: edition.cnn.com}
  - name: tls-passthrough`;

  it('accepts a route to a subset that originates TLS with the right sni', () => {
    expect(check('MM102', mesh(originating, 'tls-origination'))).toEqual([]);
  });

  it('flags a route to a subset without TLS and fixes that subset only, never the one that passes TLS through', () => {
    const yaml = mesh(`${originating}\n  - name: plain`, 'plain');
    const f = check('MM102', yaml);
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('subset plain');
    const { objects, after } = fixAndRecheck('MM102', yaml);
    expect(after).toEqual([]);
    const spec = find(objects, 'DestinationRule', 'cnn').spec as {
      trafficPolicy?: unknown;
      subsets: { name: string; trafficPolicy?: unknown }[];
    };
    expect(spec.trafficPolicy).toBeUndefined();
    expect(spec.subsets.find((s) => s.name === 'tls-passthrough')?.trafficPolicy).toBeUndefined();
    expect(spec.subsets.find((s) => s.name === 'plain')?.trafficPolicy).toEqual({
      portLevelSettings: [
        {
          port: { number: 443 },
          tls: { mode: 'SIMPLE', sni: 'edition.cnn.com', subjectAltNames: ['edition.cnn.com'] },
        },
      ],
    });
  });
});

describe('MM102 and wildcard destinations', () => {
  it('never generates a DestinationRule for host "*" (it would change TLS for the whole namespace)', () => {
    const yaml = `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: any, namespace: default}
spec: {hosts: ['*'], location: MESH_EXTERNAL, ports: [{name: https, number: 443, protocol: HTTPS}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: any, namespace: default}
spec:
  hosts: ['*']
  http: [{route: [{destination: {host: '*', port: {number: 443}}}]}]
`;
    expect(check('MM102', yaml)).toEqual([]);
  });
});
