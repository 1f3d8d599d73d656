import { describe, expect, it } from 'vitest';
import { analyze, DEFAULT_ISTIO_VERSION } from '../../../src/analysis/analyze.js';
import { explainGroups, type Diagnosis } from '../../../src/evidence/diagnose.js';
import { DEFAULT_PARAMETERS } from '../../../src/rules/types.js';
import { indexFrom } from '../helpers.js';
import { currentLine, groupOf } from './helpers.js';

/** 404 NR at an ingress gateway: which server of the Gateways on the listener's port accepts the host (MM205). */

const gateway = (hosts: string): string => `
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports: [{name: http2, port: 80, targetPort: 8080}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ${hosts}}]
`;

const vs = (host: string): string => `---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web-vs, namespace: shop}
spec:
  hosts: [${host}]
  gateways: [web]
  http: [{match: [{uri: {prefix: /api}}], route: [{destination: {host: api.shop.svc.cluster.local}}]}]
`;

/** The gateway pod's listener: the Service's targetPort 8080 for server port 80. */
const textLine = (authority: string, downstreamLocal = '10.244.0.10:8080'): string =>
  currentLine({ code: 404, flags: 'NR', details: 'route_not_found', authority, downstreamLocal });

const jsonLine = (authority: string, downstreamLocal = '10.244.0.10:8080'): string =>
  JSON.stringify({
    start_time: '2024-05-02T10:00:02.000Z',
    method: 'GET',
    path: '/',
    protocol: 'HTTP/1.1',
    response_code: 404,
    response_flags: 'NR',
    response_code_details: 'route_not_found',
    connection_termination_details: null,
    upstream_transport_failure_reason: null,
    bytes_received: 0,
    bytes_sent: 0,
    duration: 0,
    upstream_service_time: null,
    x_forwarded_for: '10.0.0.1',
    user_agent: 'curl/8.5.0',
    request_id: '3b0c8f4e-1111-4b1a-8c55-000000000003',
    authority,
    upstream_host: null,
    upstream_cluster: null,
    upstream_local_address: null,
    downstream_local_address: downstreamLocal,
    downstream_remote_address: '10.0.0.1:5555',
    requested_server_name: null,
    route_name: null,
  });

function diagnose(line: string, yaml: string): Diagnosis {
  const index = indexFrom(yaml);
  const { diagnoses } = explainGroups([groupOf(line)], {
    index,
    staticFindings: analyze(index, { params: DEFAULT_PARAMETERS }).findings,
    params: DEFAULT_PARAMETERS,
    istioVersion: DEFAULT_ISTIO_VERSION,
    namespace: 'default',
  });
  expect(diagnoses).toHaveLength(1);
  return diagnoses[0] as Diagnosis;
}

describe.each([
  ['text', textLine],
  ['JSON', jsonLine],
] as const)('404 NR at a gateway (%s log)', (_format, line) => {
  it('names the host no server of the Gateway on that port accepts, and the hosts they do accept', () => {
    const d = diagnose(line('other.example.com'), gateway('[shop.example.com]') + vs('shop.example.com'));
    expect(d).toMatchObject({ symptom: '404 NR', rule: 'MM205', ruleBasis: 'suspected' });
    expect(d.detail).toContain(
      'Port 8080 is a gateway listener (servers of Gateway shop/web), and no server on it accepts other.example.com (they accept shop.example.com)',
    );
  });

  it('a VirtualService bound to the Gateway with a host no server accepts: explained by MM205 on it', () => {
    const d = diagnose(line('api.example.com:80'), gateway('[shop.example.com]') + vs('api.example.com'));
    expect(d).toMatchObject({
      rule: 'MM205',
      ruleBasis: 'manifests',
      explainedBy: [{ rule: 'MM205', resource: { kind: 'VirtualService', namespace: 'shop', name: 'web-vs' } }],
    });
    expect(d.detail).toContain('VirtualService shop/web-vs lists it and is bound to it (MM205)');
  });

  it('a server accepts the host but no bound VirtualService lists it', () => {
    const d = diagnose(line('new.example.com'), gateway('["*.example.com"]') + vs('shop.example.com'));
    expect(d).toMatchObject({ rule: 'MM205', ruleBasis: 'suspected' });
    expect(d.detail).toContain(
      'a server of Gateway shop/web accepts new.example.com, but no VirtualService bound to it lists new.example.com',
    );
  });

  it('a bound VirtualService serves the host: the routes missed, no server or binding is blamed', () => {
    const d = diagnose(line('shop.example.com'), gateway('[shop.example.com]') + vs('shop.example.com'));
    expect(d.rule).toBeUndefined();
    expect(d.detail).toContain(
      'VirtualService shop/web-vs serves shop.example.com there: none of its http routes matched',
    );
  });

  it('on a port no Gateway server listens on (a sidecar), nothing is said about gateways', () => {
    const d = diagnose(line('other.example.com', '10.96.0.5:9080'), gateway('[shop.example.com]'));
    expect(d.rule).toBeUndefined();
    expect(d.detail).not.toContain('gateway listener');
  });
});
