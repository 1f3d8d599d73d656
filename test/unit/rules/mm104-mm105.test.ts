import { describe, expect, it } from 'vitest';
import { check, fixAndRecheck, find } from '../helpers.js';

const vs = (http: string, name = 'ext', host = 'external.service.com'): string => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: xyz}
spec:
  hosts: [${host}]
  http:
${http}
`;

describe('MM104 external-host-passthrough (static form)', () => {
  const route = vs(`  - route:
    - destination: {host: external.service.com}`);

  const onVs = { kind: 'VirtualService', namespace: 'xyz', name: 'ext' };
  const typed = (fs: ReturnType<typeof check>): object[] => fs.map((f) => ({ rule: f.rule, messageType: f.messageType, severity: f.severity, resource: { kind: f.resource.kind, namespace: f.resource.namespace, name: f.resource.name } }));

  it('generates a MESH_EXTERNAL ServiceEntry with resolution DNS for a routed host nobody declares', () => {
    const f = check('MM104', route);
    expect(typed(f)).toEqual([{ rule: 'MM104', messageType: 'HostNotInInput', severity: 'warning', resource: onVs }]);
    expect(f[0]?.message).toContain('VirtualService xyz/ext');
    expect(f[0]?.message).toContain('outbound|80||external.service.com');
    expect(f[0]?.fix.create[0]?.spec).toEqual({
      hosts: ['external.service.com'],
      location: 'MESH_EXTERNAL',
      ports: [{ number: 80, name: 'http-80', protocol: 'HTTP' }],
      resolution: 'DNS',
    });
    expect(fixAndRecheck('MM104', route).after).toEqual([]);
  });

  it('is an error only when the input is the whole mesh: offline, the ServiceEntry may be applied from elsewhere', () => {
    const f = check('MM104', route, { complete: true });
    expect(typed(f)).toEqual([{ rule: 'MM104', messageType: 'HostNotDeclared', severity: 'error', resource: onVs }]);
    expect(f[0]?.message).toContain('VirtualService xyz/ext');
    expect(f[0]?.claim).toMatchObject({ kind: 'no-cluster', cluster: 'outbound|80||external.service.com' });
  });

  it('generates one entry per host with every routed port (TLS routes too)', () => {
    const mixed = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ext, namespace: xyz}
spec:
  hosts: [external.service.com]
  http:
  - route:
    - destination: {host: external.service.com, port: {number: 8080}}
  tls:
  - match: [{sniHosts: [external.service.com]}]
    route:
    - destination: {host: external.service.com, port: {number: 443}}
`;
    const f = check('MM104', mixed, { complete: true });
    expect(typed(f).map((t) => (t as { messageType: string }).messageType)).toEqual(['HostNotDeclared']);
    expect((f[0]?.fix.create[0]?.spec as { ports: unknown[] } | undefined)?.ports).toEqual([{ number: 8080, name: 'http-8080', protocol: 'HTTP' }, { number: 443, name: 'tls-443', protocol: 'TLS' }]);
    expect(fixAndRecheck('MM104', mixed, { complete: true }).after).toEqual([]);
  });

  it('does not flag a host a ServiceEntry declares, nor in-cluster hosts', () => {
    const declared = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: xyz}
spec: {hosts: [external.service.com], location: MESH_EXTERNAL, ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
${route}`;
    expect(check('MM104', declared)).toEqual([]);
    expect(check('MM104', vs(`  - route:
    - destination: {host: reviews}`, 'r', 'reviews'))).toEqual([]);
  });
});

describe('MM105 route-timeout-too-short (static form)', () => {
  const entry = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: xyz}
spec: {hosts: [external.service.com], location: MESH_EXTERNAL, ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
`;
  const short = entry + vs(`  - name: slow-api
    timeout: 500ms
    retries: {attempts: 2, perTryTimeout: 200ms}
    route:
    - destination: {host: external.service.com}`);

  const min = { params: { minRouteTimeoutMs: 1000 } };

  it('flags a route timeout below the policy minimum and raises it, leaving the retry budget inside it alone', () => {
    const f = check('MM105', short, min);
    expect(f.map((x) => [x.messageType, x.severity])).toEqual([['TimeoutBelowMinimum', 'warning']]);
    expect(f[0]?.message).toMatch(/504 UT.*route slow-api.*timeout 500ms, below the minimum 1s/);
    const { objects, after } = fixAndRecheck('MM105', short, min);
    expect(after).toEqual([]);
    const http = (find(objects, 'VirtualService', 'ext').spec as { http: { timeout: string; retries: { perTryTimeout: string } }[] }).http[0];
    expect(http?.timeout).toBe('1s');
    // 200ms per try inside a 1s route timeout is a deliberate retry budget: never raised to or past the route timeout.
    expect(http?.retries.perTryTimeout).toBe('200ms');
  });

  it('is off without a policy minimum: a number below a threshold is not a likely 504', () => {
    expect(check('MM105', short)).toEqual([]);
  });

  it('a perTryTimeout inside the route timeout is a retry budget; without a route timeout it is judged alone', () => {
    const budget = entry + vs(`  - timeout: 3s
    retries: {attempts: 3, perTryTimeout: 500ms}
    route:
    - destination: {host: external.service.com}`);
    expect(check('MM105', budget, min)).toEqual([]);
    const perTryOnly = entry + vs(`  - retries: {attempts: 3, perTryTimeout: 500ms}
    route:
    - destination: {host: external.service.com}`);
    expect(check('MM105', perTryOnly, min).map((x) => x.messageType)).toEqual(['TimeoutBelowMinimum']);
  });

  it('reports retries that can never run: a perTryTimeout not below the route timeout (info, no fix)', () => {
    const dead = entry + vs(`  - timeout: 2s
    retries: {attempts: 2, perTryTimeout: 2s}
    route:
    - destination: {host: external.service.com}`);
    const f = check('MM105', dead);
    expect(f.map((x) => [x.messageType, x.severity, x.fix.patches.length])).toEqual([['RetriesNeverRun', 'info', 0]]);
  });

  it('uses the policy minimum, and leaves disabled (0s) or long timeouts alone', () => {
    const fifteen = entry + vs(`  - timeout: 15s
    route:
    - destination: {host: external.service.com}`);
    expect(check('MM105', fifteen, min)).toEqual([]);
    expect(check('MM105', fifteen, { params: { minRouteTimeoutMs: 30_000 } })[0]?.message).toContain('below the minimum 30s');
    expect(check('MM105', entry + vs(`  - timeout: 0s
    route:
    - destination: {host: external.service.com}`))).toEqual([]);
  });

  it('leaves a route to a host nobody declares to MM104: it answers 503 NC, never 504 (Istio programs no route for it)', () => {
    expect(check('MM105', vs(`  - timeout: 500ms
    route:
    - destination: {host: external.service.com}`))).toEqual([]);
  });
});

describe('MM104 and hosts declared where meshmedic cannot see', () => {
  it('is a warning, not an error, for a federation\'s imported *.local domain, even when the input is the whole mesh', () => {
    const f = check('MM104', vs(`  - route:
    - destination: {host: ratings.bookinfo.svc.west-imports.local}`), { complete: true });
    expect(f.map((x) => [x.rule, x.messageType, x.severity, x.resource.name])).toEqual([['MM104', 'ForeignLocalHost', 'warning', 'ext']]);
    expect(f[0]?.message).toContain('VirtualService xyz/ext');
  });
});
