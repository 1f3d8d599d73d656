import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analysis/analyze.js';
import type { OracleResponse, QueryResult } from '../../src/verify/oracle-protocol.js';
import { buildRequest, flagsFor, meshConfigFor, readVerdicts, type VerifyInput } from '../../src/verify/verify.js';
import { indexFrom, httpbinService, objectsFrom, strictMeshWide } from './helpers.js';
import { cli } from './run-cli-in-process.js';

const seed001 = `${strictMeshWide}
---
${httpbinService}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: foo}
spec:
  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}
`;

function input(): VerifyInput {
  const index = indexFrom(seed001);
  const { findings } = analyze(index);
  return { index, objects: objectsFrom(seed001), findings, istioVersion: { major: 1, minor: 28 } };
}

describe('meshmedic verify: what is asked of the oracle', () => {
  it('emulates Istio before 1.25 without IP auto-allocation and before 1.5 without auto mTLS', () => {
    expect(flagsFor({ major: 1, minor: 24 })).toEqual({ PILOT_ENABLE_IP_AUTOALLOCATE: 'false' });
    expect(flagsFor({ major: 1, minor: 25 })).toEqual({});
    expect(meshConfigFor(undefined, { major: 1, minor: 4 })).toContain('enableAutoMtls: false');
    expect(meshConfigFor('enableAutoMtls: true\n', { major: 1, minor: 4 })).toBe('enableAutoMtls: true\n');
    expect(meshConfigFor(undefined, { major: 1, minor: 28 })).toBeUndefined();
  });

  it('asks about the input as it is and about the input with each fix applied alone', () => {
    const { request, probes } = buildRequest(input());
    expect(request.cases.map((c) => c.id)).toEqual(['base', 'fix0']);
    expect(request.cases[0]?.yaml).toContain('mode: DISABLE');
    expect(request.cases[1]?.yaml).toContain('mode: ISTIO_MUTUAL');
    // MM101's claim: the client's cluster, and the server's inbound side for each way it could be called
    const ids = request.cases[0]?.queries.map((q) => q.id) ?? [];
    expect(ids).toContain('f0/client');
    expect(ids).toContain('f0/inbound-plaintext');
    expect(request.cases[0]?.queries.find((q) => q.id === 'f0/inbound-plaintext')?.proxy).toMatchObject({
      namespace: 'foo',
      labels: { app: 'httpbin' },
      pod: true,
    });
    // the calls a fix must not change: every Service port from every namespace of the input
    expect(probes.map((p) => p.id)).toContain('probe/sidecar:foo/http httpbin.foo.svc.cluster.local:8000');
  });
});

describe('meshmedic verify: how the oracle is read', () => {
  const cluster = 'outbound|8000||httpbin.foo.svc.cluster.local';
  const plaintext = { exists: true, type: 'EDS', transport: { kind: 'plaintext' } };
  const mtls = { exists: true, type: 'EDS', transport: { kind: 'istio-mtls', credential: 'default' } };
  const rejected = { call: { listener: 'virtualInbound', error: 'no filter chains matched' } };
  const accepted = { call: { listener: 'virtualInbound', filterChain: '0.0.0.0_80', cluster: 'inbound|80||' } };
  const queries = (client: object, probeCluster: string, probeTransport: object): QueryResult[] => [
    { id: 'f0/client', clusters: { [cluster]: client as never } },
    { id: 'f0/inbound-plaintext', ...rejected },
    { id: 'f0/inbound-tls', ...rejected },
    { id: 'f0/inbound-mtls', ...accepted },
    { id: 'probe/sidecar:foo/http httpbin.foo.svc.cluster.local:8000', call: { cluster, clusterInfo: mtls } },
    {
      id: 'probe/sidecar:foo/http other.foo.svc.cluster.local:80',
      call: { cluster: probeCluster, clusterInfo: probeTransport as never },
    },
  ];
  const response = (fixed: QueryResult[]): OracleResponse => ({
    istio: '1.31-dev',
    cases: [
      { id: 'base', queries: queries(plaintext, 'outbound|80||other.foo.svc.cluster.local', mtls) },
      { id: 'fix0', queries: fixed },
    ],
  });
  const probesOf = (): ReturnType<typeof buildRequest>['probes'] => [
    { id: 'probe/sidecar:foo/http httpbin.foo.svc.cluster.local:8000', proxy: { type: 'sidecar', namespace: 'foo' } },
    { id: 'probe/sidecar:foo/http other.foo.svc.cluster.local:80', proxy: { type: 'sidecar', namespace: 'foo' } },
  ];

  it('confirms a plaintext client against a server that refuses plaintext, and accepts a fix that changes only that cluster', () => {
    const v = readVerdicts(
      input(),
      probesOf(),
      response(queries(mtls, 'outbound|80||other.foo.svc.cluster.local', mtls)),
    );
    expect(v).toHaveLength(1);
    expect(v[0]).toMatchObject({ rule: 'MM101', verdict: 'confirmed', fix: 'ok' });
    expect(v[0]?.evidence).toContain('plaintext');
    expect(v[0]?.evidence).toContain('no filter chains matched');
  });

  it('refutes the claim when the client already sends Istio mTLS', () => {
    const r = response(queries(mtls, 'outbound|80||other.foo.svc.cluster.local', mtls));
    const base = r.cases[0];
    if (base) base.queries = queries(mtls, 'outbound|80||other.foo.svc.cluster.local', mtls);
    expect(readVerdicts(input(), probesOf(), r)[0]?.verdict).toBe('refuted');
  });

  it('reports fix-breaks when the fix changes another call, naming it with both results', () => {
    const v = readVerdicts(
      input(),
      probesOf(),
      response(queries(mtls, 'outbound|80||other.foo.svc.cluster.local', plaintext)),
    );
    expect(v[0]?.fix).toBe('fix-breaks');
    expect(v[0]?.fixEvidence).toContain('other.foo.svc.cluster.local:80');
    expect(v[0]?.fixEvidence).toMatch(/before the fix ".*istio-mtls.*", after ".*plaintext.*"/);
  });

  it('reports fix-breaks when the claimed effect remains after the fix', () => {
    const v = readVerdicts(
      input(),
      probesOf(),
      response(queries(plaintext, 'outbound|80||other.foo.svc.cluster.local', mtls)),
    );
    expect(v[0]?.fix).toBe('fix-breaks');
    expect(v[0]?.fixEvidence).toContain('remains');
  });
});

describe('meshmedic verify without the oracle', () => {
  it('exits 2 and says how to get it', async () => {
    const prev = process.env['MESHMEDIC_ORACLE'];
    process.env['MESHMEDIC_ORACLE'] = '/nonexistent/oracle.test';
    try {
      const { code, err } = await cli(['verify', 'examples/001-dr-overrides-mtls']);
      expect(code).toBe(2);
      expect(err).toContain('npm run oracle:build');
    } finally {
      if (prev === undefined) delete process.env['MESHMEDIC_ORACLE'];
      else process.env['MESHMEDIC_ORACLE'] = prev;
    }
  });
});
