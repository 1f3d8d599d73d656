import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/rules/types.js';
import { check, find, fixAndRecheck } from '../helpers.js';

const svc = `
apiVersion: v1
kind: Service
metadata: {name: srv-a, namespace: xyz}
spec: {clusterIP: 10.96.10.11, selector: {app: srv-a}, ports: [{name: http, port: 80, targetPort: 8080}]}
`;
const dr = (tp: string): string => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: srv-a, namespace: xyz}
spec:
  host: srv-a
  trafficPolicy:
${tp}
`;
const drRef = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'xyz', name: 'srv-a' };
const vsRef = { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', namespace: 'xyz', name: 'srv-a' };
const shape = (fs: Finding[]): { rule: string; messageType: string; severity: string; resource: object }[] =>
  fs.map((f) => ({ rule: f.rule, messageType: f.messageType, severity: f.severity, resource: f.resource }));
type Od = Record<string, unknown>;
const odOf = (objects: Parameters<typeof find>[0]): Od =>
  (find(objects, 'DestinationRule', 'srv-a').spec as { trafficPolicy: { outlierDetection: Od } }).trafficPolicy
    .outlierDetection;

describe('MM106 inbound-keepalive-race (static form)', () => {
  const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: srv-a, namespace: xyz}
spec:
  hosts: [srv-a]
  http:
  - route:
    - destination: {host: srv-a}
`;
  const keepAlive = { params: { keepAliveIdleTimeoutMs: 60_000 } };

  it("runs only when the policy states the apps' keep-alive", () => {
    const yaml = svc + dr('    connectionPool: {tcp: {maxConnections: 10}}');
    expect(check('MM106', yaml)).toEqual([]);
    expect(shape(check('MM106', yaml, keepAlive))).toEqual([
      { rule: 'MM106', messageType: 'IdleTimeoutNotBelowKeepAlive', severity: 'warning', resource: drRef },
    ]);
  });

  it('proposes an idleTimeout below the keep-alive and a retry on reset on the routes to the service', () => {
    const yaml = svc + dr('    connectionPool: {tcp: {maxConnections: 10}}') + vs;
    const f = check('MM106', yaml, keepAlive);
    expect(shape(f)).toEqual([
      { rule: 'MM106', messageType: 'IdleTimeoutNotBelowKeepAlive', severity: 'warning', resource: drRef },
    ]);
    expect(f[0]?.fix.proposeOnly).toBe(true);
    expect(f[0]?.related).toEqual([vsRef]);
    expect(f[0]?.message).toMatch(
      /^503 UC.*DestinationRule xyz\/srv-a.*1h.*60s.*idleTimeout 59s and retryOn reset on the routes of VirtualService xyz\/srv-a/,
    );
    const { objects, after } = fixAndRecheck('MM106', yaml, keepAlive);
    expect(after).toEqual([]);
    expect((find(objects, 'DestinationRule', 'srv-a').spec as { trafficPolicy: object }).trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 10 }, http: { idleTimeout: '59s' } },
    });
    expect(
      (find(objects, 'VirtualService', 'srv-a').spec as { http: { retries: { retryOn: string } }[] }).http[0]?.retries
        .retryOn,
    ).toContain('reset');
  });

  it('names no retry when no route to the service can take one', () => {
    const f = check('MM106', svc + dr('    connectionPool: {http: {idleTimeout: 2h}}'), keepAlive);
    expect(f.map((x) => x.messageType)).toEqual(['IdleTimeoutNotBelowKeepAlive']);
    expect(f[0]?.message).toMatch(/DestinationRule xyz\/srv-a keeps idle connections for 2h.*idleTimeout 59s\.$/);
    expect(f[0]?.related).toEqual([]);
  });

  it('accepts an idleTimeout already below the keep-alive', () => {
    expect(check('MM106', svc + dr('    connectionPool: {http: {idleTimeout: 30s}}'), keepAlive)).toEqual([]);
    expect(check('MM106', svc + dr('    connectionPool: {http: {idleTimeout: 60s}}'), keepAlive)).toHaveLength(1);
  });
});

describe('MM107 outlier-ejects-all', () => {
  const v16 = { istioVersion: { major: 1, minor: 6 } };
  const v17 = { istioVersion: { major: 1, minor: 7 } };

  it('errors when one 5xx can eject every endpoint, and bounds maxEjectionPercent', () => {
    const yaml =
      svc +
      dr(
        '    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}',
      );
    const f = check('MM107', yaml);
    expect(shape(f)).toEqual([
      { rule: 'MM107', messageType: 'EjectsAllEndpoints', severity: 'error', resource: drRef },
    ]);
    expect(f[0]?.message).toMatch(
      /^503 UH.*DestinationRule xyz\/srv-a trafficPolicy\.outlierDetection.*baseEjectionTime 3m.*maxEjectionPercent 50/,
    );
    expect(f[0]?.claim).toMatchObject({
      kind: 'outlier',
      cluster: 'outbound|80||srv-a.xyz.svc.cluster.local',
      expect: { ejectsAll: true },
    });
    const { objects, after } = fixAndRecheck('MM107', yaml);
    expect(after).toEqual([]);
    expect(odOf(objects)).toEqual({
      consecutive5xxErrors: 1,
      interval: '1s',
      baseEjectionTime: '3m',
      maxEjectionPercent: 50,
    });
  });

  it('from 1.7 on, warns that renaming the ignored consecutiveErrors 1 would eject all (seed 001), and fixes both at once', () => {
    const yaml =
      svc +
      dr('    outlierDetection: {consecutiveErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}');
    for (const opts of [{}, v17]) {
      const f = check('MM107', yaml, opts);
      expect(shape(f)).toEqual([
        { rule: 'MM107', messageType: 'EjectsAllOnceRenamed', severity: 'warning', resource: drRef },
      ]);
      expect(f[0]?.message).toMatch(/DestinationRule xyz\/srv-a trafficPolicy\.outlierDetection: consecutiveErrors 1/);
      const { objects, after } = fixAndRecheck('MM107', yaml, opts);
      expect(after).toEqual([]);
      const od = odOf(objects);
      expect(od['consecutiveErrors']).toBeUndefined();
      expect(od['consecutive5xxErrors']).toBe(1);
      expect(od['maxEjectionPercent']).toBe(50);
    }
  });

  it('from 1.7 on, reports an ignored consecutiveErrors as info (the default 5 applies) and only renames it', () => {
    const yaml = svc + dr('    outlierDetection: {consecutiveErrors: 3, maxEjectionPercent: 100}');
    const f = check('MM107', yaml);
    expect(shape(f)).toEqual([
      { rule: 'MM107', messageType: 'IgnoredConsecutiveErrors', severity: 'info', resource: drRef },
    ]);
    expect(f[0]?.message).toMatch(/DestinationRule xyz\/srv-a trafficPolicy\.outlierDetection: consecutiveErrors 3/);
    const { objects, after } = fixAndRecheck('MM107', yaml);
    expect(after).toEqual([]);
    expect(odOf(objects)).toEqual({ consecutive5xxErrors: 3, maxEjectionPercent: 100 });
  });

  it('from 1.7 on, beside consecutive5xxErrors the ignored consecutiveErrors is removed, not renamed, and cannot eject all', () => {
    const yaml =
      svc + dr('    outlierDetection: {consecutiveErrors: 1, consecutive5xxErrors: 5, maxEjectionPercent: 100}');
    const f = check('MM107', yaml);
    expect(shape(f)).toEqual([
      { rule: 'MM107', messageType: 'IgnoredBesideConsecutive5xxErrors', severity: 'info', resource: drRef },
    ]);
    expect(f[0]?.message).toMatch(
      /DestinationRule xyz\/srv-a trafficPolicy\.outlierDetection: consecutiveErrors 1.*consecutive5xxErrors 5/,
    );
    const { objects, after } = fixAndRecheck('MM107', yaml);
    expect(after).toEqual([]);
    expect(odOf(objects)).toEqual({ consecutive5xxErrors: 5, maxEjectionPercent: 100 });
  });

  it('says the fix it patches: removing consecutiveErrors beside consecutive5xxErrors that ejects all', () => {
    const f = check(
      'MM107',
      svc + dr('    outlierDetection: {consecutiveErrors: 2, consecutive5xxErrors: 1, maxEjectionPercent: 100}'),
    );
    expect(f.map((x) => x.messageType)).toEqual(['EjectsAllEndpoints']);
    expect(f[0]?.message).toMatch(/Fix: remove the ignored consecutiveErrors, maxEjectionPercent 50\.$/);
    expect(f[0]?.fix.patches[0]?.patch.map((o) => o.op)).toEqual(['remove', 'test', 'replace']);
  });

  it('does not report consecutiveErrors 0: Istio never gave 0 to Envoy, and renaming it would disable 5xx ejection', () => {
    expect(check('MM107', svc + dr('    outlierDetection: {consecutiveErrors: 0, maxEjectionPercent: 100}'))).toEqual(
      [],
    );
    expect(
      check('MM107', svc + dr('    outlierDetection: {consecutiveErrors: 2, maxEjectionPercent: 100}')),
    ).toHaveLength(1);
  });

  it('before 1.7, consecutiveErrors 1 is honoured (as consecutive gateway errors) and ejects all: an error, fixed by the bound alone', () => {
    const yaml =
      svc + dr('    outlierDetection: {consecutiveErrors: 1, baseEjectionTime: 3m, maxEjectionPercent: 100}');
    const f = check('MM107', yaml, v16);
    expect(shape(f)).toEqual([
      { rule: 'MM107', messageType: 'EjectsAllBeforeIstio17', severity: 'error', resource: drRef },
    ]);
    expect(f[0]?.message).toMatch(
      /^503 UH.*DestinationRule xyz\/srv-a trafficPolicy\.outlierDetection.*Istio 1\.6.*gateway error.*maxEjectionPercent 50/,
    );
    expect(f[0]?.claim?.kind).toBe('inexpressible');
    const { objects, after } = fixAndRecheck('MM107', yaml, v16);
    expect(after).toEqual([]);
    expect(odOf(objects)).toEqual({ consecutiveErrors: 1, baseEjectionTime: '3m', maxEjectionPercent: 50 });
  });

  it('before 1.7, an honoured consecutiveErrors is not reported as ignored', () => {
    const yaml = svc + dr('    outlierDetection: {consecutiveErrors: 3, maxEjectionPercent: 100}');
    expect(check('MM107', yaml, v16)).toEqual([]);
    expect(check('MM107', yaml, v17).map((x) => x.messageType)).toEqual(['IgnoredConsecutiveErrors']);
  });

  it('before 1.7, consecutiveGatewayErrors replaces consecutiveErrors as the gateway threshold', () => {
    expect(
      check(
        'MM107',
        svc + dr('    outlierDetection: {consecutiveErrors: 1, consecutiveGatewayErrors: 5, maxEjectionPercent: 100}'),
        v16,
      ),
    ).toEqual([]);
    const f = check('MM107', svc + dr('    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}'), v16);
    expect(shape(f)).toEqual([
      { rule: 'MM107', messageType: 'EjectsAllEndpoints', severity: 'error', resource: drRef },
    ]);
    expect(f[0]?.claim?.kind).toBe('outlier');
  });

  it('accepts a bounded outlier detection', () => {
    expect(check('MM107', svc + dr('    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 50}'))).toEqual(
      [],
    );
    expect(
      check('MM107', svc + dr('    outlierDetection: {consecutive5xxErrors: 5, maxEjectionPercent: 100}')),
    ).toEqual([]);
    expect(
      check('MM107', svc + dr('    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}')),
    ).toHaveLength(1);
  });
});

describe('MM107 never proposes a fix that changes nothing', () => {
  it('keeps the finding but proposes no patch when the policy bound would not lower maxEjectionPercent', () => {
    const yaml = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: foo}
spec:
  host: httpbin
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}
`;
    const f = check('MM107', yaml, { params: { maxEjectionPercent: 100 } });
    expect(f.map((x) => [x.messageType, x.severity])).toEqual([['EjectsAllEndpoints', 'error']]);
    expect(f[0]?.fix.patches).toEqual([]);
    expect(f[0]?.message).toMatch(/Fix: none proposed/);
  });
});
