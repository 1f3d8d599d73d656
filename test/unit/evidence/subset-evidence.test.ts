import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ISTIO_VERSION } from '../../../src/analysis/analyze.js';
import { explainGroups, type ExplainResult } from '../../../src/evidence/diagnose.js';
import { DEFAULT_PARAMETERS } from '../../../src/rules/types.js';
import { indexFrom } from '../helpers.js';
import { currentLine, groupOf } from './helpers.js';

/** MM210's access-log form: 503 UH on a subset cluster whose DestinationRule subset selects no pod of the manifests. */

const reviews = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec: {template: {metadata: {labels: {app: reviews, version: v1}}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v3, labels: {version: v3}}]
`;

const V3 = 'outbound|9080|v3|reviews.shop.svc.cluster.local';
const V1 = 'outbound|9080|v1|reviews.shop.svc.cluster.local';

const textLine = (cluster: string): string =>
  currentLine({
    code: 503,
    flags: 'UH',
    details: 'no_healthy_upstream',
    authority: 'reviews.shop:9080',
    cluster,
    downstreamLocal: '10.96.0.20:9080',
  });

/** Istio's JSON encoding (meshConfig.accessLogEncoding: JSON) of the same record. */
const jsonLine = (cluster: string): string =>
  JSON.stringify({
    start_time: '2024-05-02T10:00:00.000Z',
    method: 'GET',
    path: '/reviews/0',
    protocol: 'HTTP/1.1',
    response_code: 503,
    response_flags: 'UH',
    response_code_details: 'no_healthy_upstream',
    connection_termination_details: null,
    upstream_transport_failure_reason: null,
    bytes_received: 0,
    bytes_sent: 19,
    duration: 0,
    upstream_service_time: null,
    x_forwarded_for: null,
    user_agent: 'curl/8.5.0',
    request_id: 'b1c3d7e2-0000-4000-8000-000000000001',
    authority: 'reviews.shop:9080',
    upstream_host: null,
    upstream_cluster: cluster,
    upstream_local_address: null,
    downstream_local_address: '10.96.0.20:9080',
    downstream_remote_address: '10.244.0.7:41000',
    requested_server_name: null,
    route_name: 'default',
  });

function explain(line: string, yaml: string): ExplainResult {
  const index = indexFrom(yaml);
  return explainGroups([groupOf(line)], {
    index,
    staticFindings: analyze(index, { params: DEFAULT_PARAMETERS }).findings,
    params: DEFAULT_PARAMETERS,
    istioVersion: DEFAULT_ISTIO_VERSION,
    namespace: 'default',
  });
}

describe.each([
  ['text', textLine],
  ['JSON', jsonLine],
] as const)('503 UH on a subset cluster (%s log)', (_format, line) => {
  it('names MM210, the DestinationRule, the subset and its labels when the subset selects no pod', () => {
    const { diagnoses, findings } = explain(line(V3), reviews);
    expect(diagnoses).toHaveLength(1);
    expect(diagnoses[0]).toMatchObject({
      symptom: '503 UH',
      rule: 'MM210',
      ruleBasis: 'logs',
      severity: 'error',
      finding: { rule: 'MM210', resource: { kind: 'DestinationRule', namespace: 'shop', name: 'reviews' } },
    });
    expect(diagnoses[0]?.detail).toContain('shop/reviews subset v3 (version=v3)');
    expect(diagnoses[0]?.detail).toContain('Deployment shop/reviews-v1');
    const mm210 = findings.filter((f) => f.rule === 'MM210');
    expect(mm210).toHaveLength(1);
    expect(mm210[0]).toMatchObject({ messageType: 'SubsetSelectsNoPodLogged', evidence: { count: 1, targets: [V3] } });
    expect(mm210[0]?.fix).toMatchObject({ patches: [], create: [] });
  });

  it('does not blame a subset that selects pods in the input: UH has other causes, said in words', () => {
    const { diagnoses, findings } = explain(line(V1), reviews);
    expect(findings.filter((f) => f.rule === 'MM210')).toEqual([]);
    expect(diagnoses[0]?.finding).toBeUndefined();
    expect(diagnoses[0]).toMatchObject({ rule: 'MM107', ruleBasis: 'suspected' });
    expect(diagnoses[0]?.detail).toMatch(
      /subset v1 \(version=v1\) selects Deployment shop\/reviews-v1 in the input, so the subset is not to blame/,
    );
    expect(diagnoses[0]?.detail).toContain('MM107');
  });

  it('says the input cannot tell when it holds no workload of the Service', () => {
    const noPods = reviews.replace(/---\napiVersion: apps\/v1[\s\S]*?version: v1\}\}\}\}\n/, '');
    expect(noPods).not.toContain('Deployment');
    const { diagnoses, findings } = explain(line(V3), noPods);
    expect(findings.filter((f) => f.rule === 'MM210')).toEqual([]);
    expect(diagnoses[0]?.detail).toContain(
      'cannot be told from the input: the input holds no workload of Service shop/reviews',
    );
  });

  it('without manifests, only the row speaks (no finding)', () => {
    const r = explainGroups([groupOf(line(V3))], {
      staticFindings: [],
      params: DEFAULT_PARAMETERS,
      istioVersion: DEFAULT_ISTIO_VERSION,
      namespace: 'default',
    });
    expect(r.findings).toEqual([]);
    expect(r.diagnoses[0]).toMatchObject({ rule: 'MM210', ruleBasis: 'suspected' });
  });
});

describe('503 UH on a cluster without a subset', () => {
  it('stays the generic no-healthy-upstream diagnosis', () => {
    const { diagnoses, findings } = explain(textLine('outbound|9080||reviews.shop.svc.cluster.local'), reviews);
    expect(findings.filter((f) => f.rule === 'MM210')).toEqual([]);
    expect(diagnoses[0]?.rule).toBe('MM107');
  });
});

describe('503 UH on a subset of a ServiceEntry host that lists its endpoints inline', () => {
  const entry = (label: string): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: shop}
spec:
  hosts: [legacy.example.internal]
  location: MESH_INTERNAL
  resolution: STATIC
  ports: [{number: 8080, name: http, protocol: HTTP}]
  endpoints: [{address: 10.1.0.5, labels: {version: ${label}}}]
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: legacy, namespace: shop}
spec:
  host: legacy.example.internal
  subsets: [{name: v2, labels: {version: v2}}]
`;
  const line = textLine('outbound|8080|v2|legacy.example.internal').replace(
    'reviews.shop:9080',
    'legacy.example.internal:8080',
  );

  it('names the entry and its endpoints when none carries the labels', () => {
    const { diagnoses, findings } = explain(line, entry('v1'));
    expect(diagnoses[0]).toMatchObject({ rule: 'MM210', ruleBasis: 'logs', severity: 'error' });
    expect(diagnoses[0]?.detail).toContain(
      'DestinationRule shop/legacy subset v2 (version=v2) selects none of the endpoints ServiceEntry shop/legacy lists (10.1.0.5 version=v1)',
    );
    expect(findings.filter((f) => f.rule === 'MM210').map((f) => f.messageType)).toEqual([
      'SubsetSelectsNoEndpointLogged',
    ]);
  });

  it('does not blame the subset when an endpoint carries them', () => {
    const { diagnoses, findings } = explain(line, entry('v2'));
    expect(findings.filter((f) => f.rule === 'MM210')).toEqual([]);
    expect(diagnoses[0]).toMatchObject({ rule: 'MM107', ruleBasis: 'suspected' });
  });
});
