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
  const typed = (fs: ReturnType<typeof check>): object[] =>
    fs.map((f) => ({
      rule: f.rule,
      messageType: f.messageType,
      severity: f.severity,
      resource: { kind: f.resource.kind, namespace: f.resource.namespace, name: f.resource.name },
    }));

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
    expect((f[0]?.fix.create[0]?.spec as { ports: unknown[] } | undefined)?.ports).toEqual([
      { number: 8080, name: 'http-8080', protocol: 'HTTP' },
      { number: 443, name: 'tls-443', protocol: 'TLS' },
    ]);
    expect(fixAndRecheck('MM104', mixed, { complete: true }).after).toEqual([]);
  });

  it('does not flag a host a ServiceEntry declares, nor in-cluster hosts', () => {
    const declared = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: xyz}
spec: {hosts: [external.service.com], location: MESH_EXTERNAL, ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
${route}`;
    expect(check('MM104', declared)).toEqual([]);
    expect(
      check(
        'MM104',
        vs(
          `  - route:
    - destination: {host: reviews}`,
          'r',
          'reviews',
        ),
      ),
    ).toEqual([]);
  });
});

describe('MM105 route-timeout-too-short (static form)', () => {
  const entry = `apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: xyz}
spec: {hosts: [external.service.com], location: MESH_EXTERNAL, ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
`;
  const route = (fields: string): string =>
    entry +
    vs(`  - name: slow-api
${fields}
    route:
    - destination: {host: external.service.com}`);
  const short = route(`    timeout: 500ms
    retries: {attempts: 2, perTryTimeout: 200ms, retryOn: "5xx,connect-failure"}`);
  const min = { params: { minRouteTimeoutMs: 1000 } };
  const vsRef = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', namespace: 'xyz', name: 'ext' };
  type Http = { timeout?: string; retries: { perTryTimeout: string; retryOn?: string } };
  const httpOf = (objects: Parameters<typeof find>[0]): Http | undefined =>
    (find(objects, 'VirtualService', 'ext').spec as { http: Http[] }).http[0];

  it('flags a route timeout below the policy minimum and raises it, leaving the retry budget inside it alone', () => {
    const f = check('MM105', short, min);
    expect(
      f.map((x) => ({ rule: x.rule, messageType: x.messageType, severity: x.severity, resource: x.resource })),
    ).toEqual([{ rule: 'MM105', messageType: 'TimeoutBelowMinimum', severity: 'warning', resource: vsRef }]);
    expect(f[0]?.message).toMatch(/VirtualService xyz\/ext route slow-api.*timeout 500ms.*1s/);
    const { objects, after } = fixAndRecheck('MM105', short, min);
    expect(after).toEqual([]);
    expect(httpOf(objects)?.timeout).toBe('1s');
    // 200ms per try inside a 1s route timeout is a deliberate retry budget: never raised to or past the route timeout.
    expect(httpOf(objects)?.retries.perTryTimeout).toBe('200ms');
  });

  it('is off without a policy minimum: a number below a threshold is not a likely 504', () => {
    expect(check('MM105', short)).toEqual([]);
    expect(check('MM105', short, min)).toHaveLength(1);
  });

  it('does not report a perTryTimeout inside the route timeout that is retried on timeouts, whatever perTryTimeout x attempts is', () => {
    for (const retryOn of ['5xx', 'gateway-error,connect-failure', 'connect-failure, reset']) {
      const budget = route(`    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: "${retryOn}"}`);
      expect(check('MM105', budget), retryOn).toEqual([]);
      expect(check('MM105', budget, min), retryOn).toEqual([]);
    }
    const overBudget = route(`    timeout: 1s
    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: 5xx}`);
    expect(check('MM105', overBudget, min)).toEqual([]);
    // The same budget under Istio's default retryOn is not one: the first timed-out try is final.
    expect(
      check(
        'MM105',
        route(`    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 500ms}`),
      ).map((x) => x.messageType),
    ).toEqual(['TimedOutTryNotRetried']);
  });

  it('judges a perTryTimeout alone on a route without timeout, and raises it to the minimum', () => {
    const perTryOnly = route('    retries: {attempts: 3, perTryTimeout: 500ms, retryOn: gateway-error}');
    expect(check('MM105', perTryOnly, min).map((x) => x.messageType)).toEqual(['TimeoutBelowMinimum']);
    const { objects, after } = fixAndRecheck('MM105', perTryOnly, min);
    expect(after).toEqual([]);
    expect(httpOf(objects)?.retries.perTryTimeout).toBe('1s');
  });

  it("warns that Istio's default retryOn never retries a timed-out try (504 UT at the perTryTimeout) and proposes reset", () => {
    const slow = route(`    timeout: 3s
    retries: {attempts: 3, perTryTimeout: 500ms}`);
    const f = check('MM105', slow);
    expect(
      f.map((x) => ({ rule: x.rule, messageType: x.messageType, severity: x.severity, resource: x.resource })),
    ).toEqual([{ rule: 'MM105', messageType: 'TimedOutTryNotRetried', severity: 'warning', resource: vsRef }]);
    expect(f[0]?.message).toMatch(/^504 UT.*VirtualService xyz\/ext route slow-api.*perTryTimeout 500ms/);
    expect(f[0]?.fix.proposeOnly).toBe(true);
    const { objects, after } = fixAndRecheck('MM105', slow);
    expect(after).toEqual([]);
    expect(httpOf(objects)?.retries.retryOn).toBe(
      'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes,reset',
    );
    expect(httpOf(objects)?.retries.perTryTimeout).toBe('500ms');
  });

  it('keeps the retryOn a route sets (status codes too) when proposing reset', () => {
    const codes = route(`    timeout: 3s
    retries: {attempts: 2, perTryTimeout: 500ms, retryOn: "503"}`);
    expect(check('MM105', codes).map((x) => x.messageType)).toEqual(['TimedOutTryNotRetried']);
    expect(httpOf(fixAndRecheck('MM105', codes).objects)?.retries.retryOn).toBe('503,reset');
  });

  it('composes with the threshold form on the same route: both fixes apply and nothing is left', () => {
    const both = route(`    timeout: 500ms
    retries: {attempts: 2, perTryTimeout: 200ms}`);
    expect(check('MM105', both, min).map((x) => x.messageType)).toEqual([
      'TimedOutTryNotRetried',
      'TimeoutBelowMinimum',
    ]);
    const { objects, after } = fixAndRecheck('MM105', both, min);
    expect(after).toEqual([]);
    expect(httpOf(objects)).toMatchObject({
      timeout: '1s',
      retries: { perTryTimeout: '200ms', retryOn: expect.stringMatching(/,reset$/) },
    });
  });

  it('ignores a perTryTimeout in retries without attempts: Istio gives Envoy no retry policy at all then', () => {
    for (const retries of ['{perTryTimeout: 200ms}', '{attempts: 0, perTryTimeout: 200ms}']) {
      const disabled = route(`    retries: ${retries}`);
      expect(check('MM105', disabled, min), retries).toEqual([]);
      const inside = route(`    timeout: 3s
    retries: ${retries}`);
      expect(check('MM105', inside), retries).toEqual([]);
    }
    expect(
      check('MM105', route('    retries: {attempts: 1, perTryTimeout: 200ms}'), min).map((x) => x.messageType),
    ).toEqual(['TimedOutTryNotRetried', 'TimeoutBelowMinimum']);
  });

  it('reports a perTryTimeout not below the route timeout as moot (info, no fix), whatever retryOn is', () => {
    for (const retries of ['{attempts: 2, perTryTimeout: 2s}', '{attempts: 2, perTryTimeout: 5s, retryOn: 5xx}']) {
      const dead = route(`    timeout: 2s
    retries: ${retries}`);
      const f = check('MM105', dead);
      expect(
        f.map((x) => [x.messageType, x.severity, x.fix.patches.length]),
        retries,
      ).toEqual([['PerTryTimeoutNotBelowTimeout', 'info', 0]]);
      expect(f[0]?.message).toMatch(/VirtualService xyz\/ext route slow-api.*not below the route timeout 2s/);
    }
  });

  it('uses the policy minimum, and leaves disabled (0s) or long timeouts alone', () => {
    const fifteen = route('    timeout: 15s');
    expect(check('MM105', fifteen, min)).toEqual([]);
    expect(check('MM105', fifteen, { params: { minRouteTimeoutMs: 30_000 } }).map((x) => x.messageType)).toEqual([
      'TimeoutBelowMinimum',
    ]);
    expect(check('MM105', route('    timeout: 0s'), min)).toEqual([]);
  });

  it('leaves a route to a host nobody declares to MM104: it answers 503 NC, never 504 (Istio programs no route for it)', () => {
    const routes = `  - timeout: 500ms
    retries: {attempts: 2, perTryTimeout: 200ms}
    route:
    - destination: {host: external.service.com}`;
    expect(check('MM105', vs(routes), min)).toEqual([]);
    expect(check('MM105', entry + vs(routes), min)).toHaveLength(2);
  });
});

describe('MM104 and hosts declared where meshmedic cannot see', () => {
  it("is a warning, not an error, for a federation's imported *.local domain, even when the input is the whole mesh", () => {
    const f = check(
      'MM104',
      vs(`  - route:
    - destination: {host: ratings.bookinfo.svc.west-imports.local}`),
      { complete: true },
    );
    expect(f.map((x) => [x.rule, x.messageType, x.severity, x.resource.name])).toEqual([
      ['MM104', 'ForeignLocalHost', 'warning', 'ext'],
    ]);
    expect(f[0]?.message).toContain('VirtualService xyz/ext');
  });
});
