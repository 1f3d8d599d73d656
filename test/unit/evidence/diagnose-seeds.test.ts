import { describe, expect, it } from 'vitest';
import type { Diagnosis } from '../../../src/evidence/diagnose.js';
import type { Finding } from '../../../src/rules/types.js';
import { fill } from '../../../src/catalogue/message-type.js';
import { explainFixture, symptomRowById } from './helpers.js';

function byTarget(diagnoses: Diagnosis[], target: string): Diagnosis {
  const d = diagnoses.find((x) => x.target === target);
  if (!d) throw new Error(`no diagnosis for ${target}: ${diagnoses.map((x) => x.target).join(', ')}`);
  return d;
}

function createdSpecs(f: Finding | undefined, kind: string): unknown[] {
  return (f?.fix.create ?? []).filter((o) => o.kind === kind).map((o) => o.spec);
}

describe('seed 000: ingress gateway to an external HTTPS host, 503 UC', () => {
  it('without manifests: the SNI cause in words (foo.bar.org sent to dev.bar.org), no finding', async () => {
    const r = await explainFixture('seed-000-ingress-gateway.json.log');
    expect(r.diagnoses).toHaveLength(1);
    const d = r.diagnoses[0] as Diagnosis;
    expect(d).toMatchObject({
      symptom: '503 UC',
      target: 'outbound|443||dev.bar.org',
      host: 'dev.bar.org',
      count: 1,
      rule: 'MM102',
      ruleBasis: 'suspected',
      explainedBy: [],
    });
    const row = symptomRowById('external-foreign-sni');
    expect(d.cause).toBe(fill(row.cause, { host: 'dev.bar.org' }));
    expect(d.fix).toBe(fill(row.fix, { host: 'dev.bar.org' }));
    // The detail names the SNI the request came in with and the cluster it went to.
    expect(d.detail).toMatch(/^503 UC on outbound\|443\|\|dev\.bar\.org: .*foo\.bar\.org.*dev\.bar\.org/);
    expect(r.findings).toEqual([]);
  });

  it('with the examples/000 manifests: explained by MM102 on VirtualService foo-dev/nginx-vs-dev, with the log evidence', async () => {
    const r = await explainFixture('seed-000-ingress-gateway.json.log', 'examples/000-gateway-external-sni');
    const d = r.diagnoses[0] as Diagnosis;
    expect(d.explainedBy).toEqual([
      {
        rule: 'MM102',
        resource: {
          apiVersion: 'networking.istio.io/v1beta1',
          kind: 'VirtualService',
          namespace: 'foo-dev',
          name: 'nginx-vs-dev',
        },
      },
    ]);
    expect(d.ruleBasis).toBe('manifests');
    expect(r.findings.map((f) => f.rule)).toEqual(['MM102']);
    const f = r.findings[0] as Finding;
    expect(createdSpecs(f, 'DestinationRule')).toEqual([
      {
        host: 'dev.bar.org',
        trafficPolicy: { tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] } },
      },
    ]);
    expect(f.evidence).toMatchObject({
      source: 'access-log',
      count: 1,
      symptoms: ['503 UC'],
      firstSeen: '2022-11-23T08:08:52.303Z',
      lastSeen: '2022-11-23T08:08:52.303Z',
      targets: ['outbound|443||dev.bar.org'],
      authorities: ['foo.bar.org'],
    });
    expect(f.evidence?.sampleLine).toMatch(/^\{"upstream_cluster":"outbound\|443\|\|dev\.bar\.org"/);
  });

  it('CERTIFICATE_VERIFY_FAILED in the current format is the same SNI diagnosis', async () => {
    const r = await explainFixture('istio-current-constructed.log');
    const d = byTarget(r.diagnoses, 'outbound|443||dev.bar.org');
    expect(d).toMatchObject({
      symptom: '503 UF,URX',
      rule: 'MM102',
      cause: fill(symptomRowById('external-tls-failure').cause, { host: 'dev.bar.org' }),
    });
    expect(d.detail).toContain('CERTIFICATE_VERIFY_FAILED');
  });
});

describe('seed 001: 503 UC from sleep to httpbin (2018 format, no cluster field)', () => {
  it('without manifests: in-mesh call reset, check mTLS (MM101)', async () => {
    const r = await explainFixture('seed-001-sleep-sidecar.log');
    const d = byTarget(r.diagnoses, 'httpbin:8000');
    expect(d).toMatchObject({ symptom: '503 UC', host: 'httpbin', rule: 'MM101', ruleBasis: 'suspected' });
    expect(d.fix).toBe(symptomRowById('in-mesh-reset').fix);
    expect(r.findings).toEqual([]);
  });

  it('with the examples/001 manifests: explained by MM101 on DestinationRule foo/httpbin (short name resolved to the Service)', async () => {
    const r = await explainFixture('seed-001-sleep-sidecar.log', 'examples/001-dr-overrides-mtls');
    const d = byTarget(r.diagnoses, 'httpbin:8000');
    expect(d.explainedBy).toEqual([
      {
        rule: 'MM101',
        resource: {
          apiVersion: 'networking.istio.io/v1alpha3',
          kind: 'DestinationRule',
          namespace: 'foo',
          name: 'httpbin',
        },
      },
    ]);
    expect(d.fix).toBe('MM101: patch DestinationRule foo/httpbin');
    expect(r.findings.map((f) => f.rule)).toEqual(['MM101']);
    expect(r.findings[0]?.fix.patches[0]?.patch).toEqual([
      { op: 'add', path: '/spec/trafficPolicy/tls', value: { mode: 'ISTIO_MUTUAL' } },
    ]);
    expect(r.findings[0]?.evidence).toMatchObject({ count: 1, symptoms: ['503 UC'], targets: ['httpbin:8000'] });
  });
});

describe('seed 002: inbound and outbound 503/504 (2022 lines)', () => {
  it('without manifests: MM106 keep-alive on srv-a, app down on srv-b, MM104 ServiceEntry, MM105 VirtualService + ServiceEntry', async () => {
    const r = await explainFixture('seed-002-istio-proxy.log');
    expect(r.parsed).toBe(5);
    expect(r.diagnoses).toHaveLength(5);

    const a = byTarget(r.diagnoses, 'inbound|80|http|srv-a.xyz.svc.cluster.local');
    expect(a).toMatchObject({
      symptom: '503 UC',
      rule: 'MM106',
      ruleBasis: 'logs',
      finding: { rule: 'MM106', resource: { kind: 'DestinationRule', namespace: 'xyz', name: 'srv-a-keepalive' } },
    });
    const mm106 = r.findings.find((f) => f.rule === 'MM106');
    expect(mm106).toMatchObject({ messageType: 'KeepAliveRaceNoRule', severity: 'warning' });
    expect(mm106?.fix.proposeOnly).toBe(true);
    expect(createdSpecs(mm106, 'DestinationRule')).toEqual([
      { host: 'srv-a.xyz.svc.cluster.local', trafficPolicy: { connectionPool: { http: { idleTimeout: '4s' } } } },
    ]);
    expect(mm106?.fix.notes?.[0]).toContain('assumed to be 5s');

    const b = byTarget(r.diagnoses, 'inbound|80|http|srv-b.xyz.svc.cluster.local');
    expect(b).toMatchObject({ symptom: '503 UF', explainedBy: [] });
    expect(b.cause).toBe(symptomRowById('inbound-app-not-listening').cause);
    expect(b.rule).toBeUndefined();
    expect(b.finding).toBeUndefined();

    const ext = byTarget(r.diagnoses, 'PassthroughCluster external.service.com');
    expect(ext).toMatchObject({
      symptom: '503 UF',
      rule: 'MM104',
      finding: { rule: 'MM104', resource: { kind: 'ServiceEntry', name: 'external-service-com' } },
    });
    const mm104 = r.findings.find((f) => f.rule === 'MM104');
    expect(mm104).toMatchObject({ messageType: 'PassthroughStaleConnections', severity: 'error' });
    expect(mm104?.message).toContain('external.service.com (upstream 55.92.142.17:80)');
    expect(createdSpecs(mm104, 'ServiceEntry')).toEqual([
      {
        hosts: ['external.service.com'],
        location: 'MESH_EXTERNAL',
        ports: [{ number: 80, name: 'http-80', protocol: 'HTTP' }],
        resolution: 'DNS',
      },
    ]);
    expect(mm104?.evidence).toMatchObject({
      count: 1,
      symptoms: ['503 UF'],
      sampleLine: expect.stringContaining('55.92.142.17:80'),
    });

    for (const [host, ms] of [
      ['testservice.prod.com', 15004],
      ['apisvc.prod.com', 15001],
    ] as const) {
      const d = byTarget(r.diagnoses, `PassthroughCluster ${host}`);
      expect(d).toMatchObject({ symptom: '504 UT', rule: 'MM105', durationMs: { p50: ms, min: ms, max: ms } });
      const f = r.findings.find((x) => x.rule === 'MM105' && x.resource.name === host.replaceAll('.', '-'));
      expect(f).toMatchObject({ messageType: 'TimeoutWithoutRoute', severity: 'warning' });
      expect(f?.message).toContain(
        `1 request to ${host} was cut after ${ms} ms (p50) ≈ 15 s through PassthroughCluster`,
      );
      expect(createdSpecs(f, 'VirtualService')).toEqual([
        { hosts: [host], http: [{ timeout: '30s', route: [{ destination: { host } }] }] },
      ]);
      expect(createdSpecs(f, 'ServiceEntry')).toEqual([
        {
          hosts: [host],
          location: 'MESH_EXTERNAL',
          ports: [{ number: 80, name: 'http-80', protocol: 'HTTP' }],
          resolution: 'DNS',
        },
      ]);
    }
    expect(r.findings.map((f) => f.rule).sort()).toEqual(['MM104', 'MM105', 'MM105', 'MM106']);
  });

  it('the VirtualService timeout follows the policy defaultRouteTimeout, and MM106 the stated keep-alive', async () => {
    const { readAccessLog } = await import('../../../src/evidence/read-log.js');
    const { explainGroups } = await import('../../../src/evidence/diagnose.js');
    const { createReadStream } = await import('node:fs');
    const agg = await readAccessLog(createReadStream('test/fixtures/logs/seed-002-istio-proxy.log'));
    const r = explainGroups(agg.groups(), {
      staticFindings: [],
      params: {
        minRouteTimeoutMs: 1000,
        defaultRouteTimeoutMs: 45_000,
        keepAliveIdleTimeoutMs: 60_000,
        maxEjectionPercent: 50,
      },
      istioVersion: { major: 1, minor: 20 },
      namespace: 'egress',
    });
    const vs = r.findings.find((f) => f.rule === 'MM105')?.fix.create.find((o) => o.kind === 'VirtualService');
    expect(vs?.metadata.namespace).toBe('egress');
    expect((vs?.spec as { http: { timeout: string }[] }).http[0]?.timeout).toBe('45s');
    const mm106 = r.findings.find((f) => f.rule === 'MM106');
    expect(createdSpecs(mm106, 'DestinationRule')).toEqual([
      { host: 'srv-a.xyz.svc.cluster.local', trafficPolicy: { connectionPool: { http: { idleTimeout: '59s' } } } },
    ]);
    expect(mm106?.versionNote).toBe('before Istio 1.24 inbound resets are not retried by default');
  });

  it('with the examples/002 manifests: explained by the static MM104/MM105/MM106, apisvc.prod.com still gets VirtualService + ServiceEntry', async () => {
    const r = await explainFixture('seed-002-istio-proxy.log', 'examples/002-external-passthrough-timeouts');
    expect(byTarget(r.diagnoses, 'inbound|80|http|srv-a.xyz.svc.cluster.local').explainedBy).toEqual([
      {
        rule: 'MM106',
        resource: {
          apiVersion: 'networking.istio.io/v1alpha3',
          kind: 'DestinationRule',
          namespace: 'xyz',
          name: 'srv-a',
        },
      },
    ]);
    expect(
      byTarget(r.diagnoses, 'PassthroughCluster external.service.com').explainedBy.map(
        (e) => `${e.rule} ${e.resource.namespace}/${e.resource.name}`,
      ),
    ).toEqual(['MM104 xyz/ext-service-vs']);
    const ts = byTarget(r.diagnoses, 'PassthroughCluster testservice.prod.com');
    expect(ts.explainedBy.map((e) => `${e.rule} ${e.resource.name}`)).toEqual(['MM105 testservice-vs']);
    const api = byTarget(r.diagnoses, 'PassthroughCluster apisvc.prod.com');
    expect(api.finding).toMatchObject({ rule: 'MM105', resource: { kind: 'VirtualService', name: 'apisvc-prod-com' } });
    expect(r.findings.find((f) => f.resource.name === 'apisvc-prod-com')?.messageType).toBe('TimeoutWithoutRoute');

    const static105 = r.findings.find((f) => f.rule === 'MM105' && f.resource.name === 'testservice-vs');
    expect(static105?.fix.patches[0]?.patch).toEqual([
      { op: 'test', path: '/spec/http/0/timeout', value: '15s' },
      { op: 'replace', path: '/spec/http/0/timeout', value: '30s' },
    ]);
    expect(static105?.evidence).toMatchObject({ count: 1, symptoms: ['504 UT'], durationMs: { p50: 15004 } });
    // Every static finding shown is one the log confirms; each carries evidence.
    expect(r.findings.every((f) => f.evidence?.source === 'access-log')).toBe(true);
    expect(r.findings.map((f) => `${f.rule}:${f.resource.name}`).sort()).toEqual([
      'MM104:ext-service-vs',
      'MM105:apisvc-prod-com',
      'MM105:testservice-vs',
      'MM106:srv-a',
    ]);
  });
});
