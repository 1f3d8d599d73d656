import { describe, expect, it } from 'vitest';
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
  it('runs only when the policy states the apps\' keep-alive', () => {
    expect(check('MM106', svc + dr('    connectionPool: {tcp: {maxConnections: 10}}'))).toEqual([]);
  });

  it('proposes an idleTimeout below the keep-alive and a retry on reset', () => {
    const yaml = svc + dr('    connectionPool: {tcp: {maxConnections: 10}}') + vs;
    const opts = { params: { keepAliveIdleTimeoutMs: 60_000 } };
    const f = check('MM106', yaml, opts);
    expect(f).toHaveLength(1);
    expect(f[0]?.fix.proposeOnly).toBe(true);
    expect(f[0]?.message).toContain('503 UC');
    const { objects, after } = fixAndRecheck('MM106', yaml, opts);
    expect(after).toEqual([]);
    expect((find(objects, 'DestinationRule', 'srv-a').spec as { trafficPolicy: object }).trafficPolicy).toEqual({
      connectionPool: { tcp: { maxConnections: 10 }, http: { idleTimeout: '59s' } },
    });
    expect((find(objects, 'VirtualService', 'srv-a').spec as { http: { retries: { retryOn: string } }[] }).http[0]?.retries.retryOn).toContain('reset');
  });

  it('accepts an idleTimeout already below the keep-alive', () => {
    expect(check('MM106', svc + dr('    connectionPool: {http: {idleTimeout: 30s}}'), { params: { keepAliveIdleTimeoutMs: 60_000 } })).toEqual([]);
  });
});

describe('MM107 outlier-ejects-all', () => {
  it('errors when one 5xx can eject every endpoint, and bounds maxEjectionPercent', () => {
    const yaml = svc + dr('    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}');
    const f = check('MM107', yaml);
    expect(f).toHaveLength(1);
    expect(f[0]?.severity).toBe('error');
    expect(f[0]?.message).toContain('503 UH');
    const { objects, after } = fixAndRecheck('MM107', yaml);
    expect(after).toEqual([]);
    expect((find(objects, 'DestinationRule', 'srv-a').spec as { trafficPolicy: { outlierDetection: object } }).trafficPolicy.outlierDetection).toEqual({
      consecutive5xxErrors: 1,
      interval: '1s',
      baseEjectionTime: '3m',
      maxEjectionPercent: 50,
    });
  });

  it('warns on the ignored consecutiveErrors (seed 001) and renames it', () => {
    const yaml = svc + dr('    outlierDetection: {consecutiveErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}');
    const f = check('MM107', yaml);
    expect(f[0]?.severity).toBe('warning');
    expect(f[0]?.message).toContain('ignored since Istio 1.7');
    const { objects, after } = fixAndRecheck('MM107', yaml);
    expect(after).toEqual([]);
    const od = (find(objects, 'DestinationRule', 'srv-a').spec as { trafficPolicy: { outlierDetection: Record<string, unknown> } }).trafficPolicy.outlierDetection;
    expect(od['consecutiveErrors']).toBeUndefined();
    expect(od['consecutive5xxErrors']).toBe(1);
    expect(od['maxEjectionPercent']).toBe(50);
  });

  it('accepts a bounded outlier detection', () => {
    expect(check('MM107', svc + dr('    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 50}'))).toEqual([]);
    expect(check('MM107', svc + dr('    outlierDetection: {consecutive5xxErrors: 5, maxEjectionPercent: 100}'))).toEqual([]);
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
    expect(f.map((x) => x.severity)).toEqual(['error']);
    expect(f[0]?.fix.patches).toEqual([]);
    expect(f[0]?.message).toContain('none proposed');
  });
});
