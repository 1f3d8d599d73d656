import { describe, expect, it } from 'vitest';
import { DEFAULT_ISTIO_VERSION } from '../../../src/analysis/analyze.js';
import { LogAggregator } from '../../../src/evidence/aggregate.js';
import { ACCESS_LOG_WORDS } from '../../../src/catalogue/access-log.js';
import { fill } from '../../../src/catalogue/message-type.js';
import { explainGroups, isFailure } from '../../../src/evidence/diagnose.js';
import { DEFAULT_PARAMETERS } from '../../../src/rules/types.js';
import { check, indexFrom } from '../helpers.js';
import { explainFixture, parseOk, symptomRowById } from './helpers.js';

describe('patterns without a seed (current format)', () => {
  it('maps NR, UH, UO, block_all, TCP passthrough with SNI and current inbound clusters to their causes', async () => {
    const r = await explainFixture('istio-current-constructed.log');
    const by = (symptom: string, target: string) =>
      r.diagnoses.find((d) => d.symptom === symptom && d.target === target);
    const cause = (id: string) => symptomRowById(id).cause;
    expect(by('404 NR', 'unknown.example.org')).toMatchObject({ severity: 'error', cause: cause('no-route') });
    expect(by('404 NR', 'unknown.example.org')?.rule).toBeUndefined();
    expect(by('503 UH', 'outbound|8000||httpbin.foo.svc.cluster.local')).toMatchObject({
      rule: 'MM107',
      ruleBasis: 'suspected',
      cause: cause('no-healthy-upstream'),
    });
    expect(by('503 UO', 'outbound|8000||httpbin.foo.svc.cluster.local')?.cause).toBe(cause('pool-overflow'));
    expect(by('502 -', 'www.google.com')).toMatchObject({
      rule: 'MM108',
      ruleBasis: 'suspected',
      cause: cause('registry-only-block'),
    });
    expect(by('503 UC', 'outbound|8000||httpbin.foo.svc.cluster.local')).toMatchObject({
      rule: 'MM101',
      ruleBasis: 'suspected',
    });
    // 200s are aggregated but not diagnosed.
    expect(r.diagnoses.some((d) => d.symptom.startsWith('200'))).toBe(false);

    const tcp = by('0 UF', 'PassthroughCluster api.example.com');
    expect(tcp?.finding?.rule).toBe('MM104');
    expect(r.findings.find((f) => f.rule === 'MM104')).toMatchObject({
      messageType: 'PassthroughStaleConnections',
      severity: 'error',
      resource: { kind: 'ServiceEntry', name: 'api-example-com' },
    });
    const se = r.findings.find((f) => f.rule === 'MM104')?.fix.create[0];
    expect(se?.spec).toEqual({
      hosts: ['api.example.com'],
      location: 'MESH_EXTERNAL',
      ports: [{ number: 443, name: 'tls-443', protocol: 'TLS' }],
      resolution: 'DNS',
    });

    // inbound|8080|| (Istio >= 1.10) names no host: it comes from the SNI outbound_.8080_._.orders.shop.svc.cluster.local.
    const inbound = by('503 UC', 'inbound|8080|| orders.shop:8080');
    expect(inbound).toMatchObject({
      host: 'orders.shop.svc.cluster.local',
      finding: { rule: 'MM106', resource: { kind: 'DestinationRule', namespace: 'shop', name: 'orders-keepalive' } },
    });
  });

  it('only 5xx and failure flags are diagnosed', () => {
    const g = (code: number, flags: string) =>
      ({ responseCode: code, responseFlags: flags }) as Parameters<typeof isFailure>[0];
    expect([
      isFailure(g(200, '-')),
      isFailure(g(499, 'DC')),
      isFailure(g(404, 'NR')),
      isFailure(g(0, 'UF')),
      isFailure(g(503, '-')),
    ]).toEqual([false, false, true, true, true]);
  });
});

function explainLines(lines: string[], yaml?: string, params = DEFAULT_PARAMETERS) {
  const agg = new LogAggregator();
  lines.forEach((l, i) => agg.add(parseOk(l), l, i + 1));
  const index = yaml ? indexFrom(yaml) : undefined;
  const staticFindings = yaml ? check('MM105', yaml, { params }).concat(check('MM106', yaml, { params })) : [];
  return explainGroups(agg.groups(), {
    ...(index ? { index } : {}),
    staticFindings,
    params,
    istioVersion: DEFAULT_ISTIO_VERSION,
    namespace: 'default',
  });
}

const ut = (ms: number, host = 'slow.example.com', cluster = 'outbound|80||slow.example.com') =>
  `[2024-05-02T10:00:00.000Z] "GET / HTTP/1.1" 504 UT response_timeout - "-" 0 24 ${ms} - "-" "curl" "id" "${host}" "1.2.3.4:80" ${cluster} - 1.2.3.4:80 10.0.0.1:1 - -`;

describe('MM105 from the logs: which timeout fired', () => {
  const vsYaml = (timeout: string, perTry?: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: slow, namespace: app}
spec: {hosts: [slow.example.com], location: MESH_EXTERNAL, ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: slow, namespace: app}
spec:
  hosts: [slow.example.com]
  http:
  - timeout: ${timeout}
${perTry ? `    retries: {attempts: 2, perTryTimeout: ${perTry}}\n` : ''}    route:
    - destination: {host: slow.example.com}
`;

  it('patches the VirtualService route whose timeout matches the durations (test + replace to the policy value)', () => {
    const r = explainLines([ut(10_003), ut(10_012), ut(10_001)], vsYaml('10s'));
    const f = r.findings.find((x) => x.rule === 'MM105');
    expect(f).toMatchObject({
      messageType: 'RouteTimeoutCut',
      severity: 'warning',
      resource: { kind: 'VirtualService', namespace: 'app', name: 'slow' },
    });
    expect(f?.fix.patches[0]?.patch).toEqual([
      { op: 'test', path: '/spec/http/0/timeout', value: '10s' },
      { op: 'replace', path: '/spec/http/0/timeout', value: '30s' },
    ]);
    expect(f?.fix.create).toEqual([]);
    expect(f?.evidence?.count).toBe(3);
    // The message names the route and the setting that fired.
    expect(f?.message).toContain('VirtualService app/slow http[0] timeout 10s');
  });

  it('a 504 UT at a perTryTimeout no retryOn retries is explained by the static MM105 finding, with the log evidence', () => {
    const r = explainLines([ut(2_004)], vsYaml('5s', '2s'));
    const f = r.findings.filter((x) => x.rule === 'MM105');
    expect(f.map((x) => [x.messageType, x.resource.name, x.evidence?.count])).toEqual([
      ['TimedOutTryNotRetried', 'slow', 1],
    ]);
  });

  it('no patch when no route timeout matches, or it is already at the policy value: the cause in words', () => {
    const head = (p50: number, rounded: string) => ({
      requests: '1 request',
      host: 'slow.example.com',
      were: 'was',
      p50,
      rounded,
    });
    const other = explainLines([ut(15_004)], vsYaml('10s'));
    expect(other.findings.filter((f) => f.rule === 'MM105')).toEqual([]);
    expect(other.diagnoses[0]?.detail).toContain(
      fill(ACCESS_LOG_WORDS.noMatchingRouteTimeout, { ...head(15_004, '15 s'), routes: 'VirtualService app/slow' }),
    );
    const long = explainLines([ut(30_010)], vsYaml('30s'));
    expect(long.findings).toEqual([]);
    expect(long.diagnoses[0]?.detail).toContain(
      fill(ACCESS_LOG_WORDS.timeoutAlreadyLong, {
        ...head(30_010, '30 s'),
        settings: 'VirtualService app/slow http[0] timeout 30s',
        target: '30s',
      }),
    );
  });

  it('an in-mesh host without a VirtualService gets no generated one', () => {
    const r = explainLines([ut(15_004, 'reviews:9080', 'outbound|9080||reviews.default.svc.cluster.local')]);
    expect(r.findings).toEqual([]);
    expect(r.diagnoses[0]?.detail).toContain(
      fill(ACCESS_LOG_WORDS.noVirtualService, {
        requests: '1 request',
        host: 'reviews.default.svc.cluster.local',
        were: 'was',
        p50: 15_004,
        rounded: '15 s',
        subject: 'reviews.default.svc.cluster.local',
      }),
    );
  });
});

describe('MM106 from the logs', () => {
  const inboundUc =
    '[2022-04-18T09:29:59.633Z] "GET /a HTTP/1.1" 503 UC "-" "-" 0 95 11 - "-" "-" "id" "srv-a.xyz" "127.0.0.1:8080" inbound|80|http|srv-a.xyz.svc.cluster.local - 100.64.121.11:8080 100.64.254.9:35174 -';

  it('patches the DestinationRule for the host and adds a retry on reset to the routes to it', () => {
    const yaml = `
apiVersion: v1
kind: Service
metadata: {name: srv-a, namespace: xyz}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: srv-a, namespace: xyz}
spec:
  host: srv-a
  trafficPolicy: {connectionPool: {http: {idleTimeout: 2h}}}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: srv-a, namespace: web}
spec:
  hosts: [srv-a.xyz.svc.cluster.local]
  http: [{route: [{destination: {host: srv-a.xyz.svc.cluster.local}}]}]
`;
    const r = explainLines([inboundUc], yaml);
    const f = r.findings.find((x) => x.rule === 'MM106');
    expect(f).toMatchObject({
      messageType: 'KeepAliveRace',
      severity: 'warning',
      resource: { kind: 'DestinationRule', namespace: 'xyz', name: 'srv-a' },
    });
    expect(f?.message).toContain('DestinationRule xyz/srv-a keeps idle connections for 2h');
    expect(f?.fix.patches).toEqual([
      {
        target: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'xyz', name: 'srv-a' },
        patch: [
          { op: 'test', path: '/spec/trafficPolicy/connectionPool/http/idleTimeout', value: '2h' },
          { op: 'replace', path: '/spec/trafficPolicy/connectionPool/http/idleTimeout', value: '4s' },
        ],
      },
      {
        target: { apiVersion: 'networking.istio.io/v1', kind: 'VirtualService', namespace: 'web', name: 'srv-a' },
        patch: [
          {
            op: 'add',
            path: '/spec/http/0/retries',
            value: { attempts: 2, retryOn: 'reset,connect-failure,refused-stream,unavailable,cancelled' },
          },
        ],
      },
    ]);
    expect(f?.fix.proposeOnly).toBe(true);
  });

  it('a generated DestinationRule keeps mTLS on when auto mTLS is off, and copies a wildcard rule it would shadow', () => {
    const meshOff = `
apiVersion: v1
kind: ConfigMap
metadata: {name: istio, namespace: istio-system}
data: {mesh: "enableAutoMtls: false"}
`;
    const none = explainLines([inboundUc], meshOff).findings.find((x) => x.rule === 'MM106');
    expect(none).toMatchObject({
      messageType: 'KeepAliveRaceNoRule',
      resource: { kind: 'DestinationRule', namespace: 'xyz', name: 'srv-a-keepalive' },
    });
    expect(none?.message).toContain('no DestinationRule sets an idle timeout for srv-a.xyz.svc.cluster.local');
    const gen = none?.fix.create[0];
    expect(gen?.spec).toEqual({
      host: 'srv-a.xyz.svc.cluster.local',
      trafficPolicy: { connectionPool: { http: { idleTimeout: '4s' } }, tls: { mode: 'ISTIO_MUTUAL' } },
    });

    const wildcard = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: default, namespace: xyz}
spec: {host: "*.xyz.svc.cluster.local", trafficPolicy: {tls: {mode: ISTIO_MUTUAL}, loadBalancer: {simple: LEAST_REQUEST}}}
`;
    const f = explainLines([inboundUc], wildcard).findings.find((x) => x.rule === 'MM106');
    expect(f).toMatchObject({
      messageType: 'KeepAliveRaceBroaderRule',
      resource: { kind: 'DestinationRule', namespace: 'xyz', name: 'srv-a-keepalive' },
    });
    expect(f?.message).toContain('DestinationRule xyz/default (host *.xyz.svc.cluster.local) applies');
    expect(f?.fix.create[0]?.spec).toEqual({
      host: 'srv-a.xyz.svc.cluster.local',
      trafficPolicy: {
        tls: { mode: 'ISTIO_MUTUAL' },
        loadBalancer: { simple: 'LEAST_REQUEST' },
        connectionPool: { http: { idleTimeout: '4s' } },
      },
    });
    expect(f?.fix.notes?.join(' ')).toContain('copies the trafficPolicy of DestinationRule xyz/default');
  });

  it('no finding when the DestinationRule already keeps idle connections below the keep-alive: why, in words', () => {
    const short = `
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: srv-a, namespace: xyz}
spec: {host: srv-a.xyz.svc.cluster.local, trafficPolicy: {connectionPool: {http: {idleTimeout: 1s}}}}
`;
    const r = explainLines([inboundUc], short);
    expect(r.findings).toEqual([]);
    expect(r.diagnoses[0]).toMatchObject({ symptom: '503 UC', rule: 'MM106', ruleBasis: 'suspected' });
    expect(r.diagnoses[0]?.detail).toContain(
      fill(ACCESS_LOG_WORDS.idleTimeoutAlreadyBelow, {
        dr: 'DestinationRule xyz/srv-a',
        current: '1s',
        assumed: 'assumed ',
        keepAlive: '5s',
      }).replace(/^./, (c) => c.toUpperCase()),
    );
  });
});
