import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM207 = defineRule({
  id: 'MM207',
  name: 'gateway-shared-certificate',
  summary:
    'HTTPS servers of several Gateways on the same pods and port use one certificate: HTTP/2 connection reuse sends requests to the wrong server (404 NR).',
  docs: {
    symptom:
      '404 NR for some requests from browsers and other HTTP/2 clients, depending on which host they connected to first.',
    cause:
      'Each HTTPS server gets its own filter chain (matched by SNI) and its own route config (https.PORT.NAME.GATEWAY.NAMESPACE, pilot/pkg/model/gateway.go gatewayRDSRouteName). An HTTP/2 client that holds a connection for one host reuses it for another host the same certificate covers (RFC 7540 9.1.1); Envoy routes that request with the first server\'s routes, which do not list the other host. Istio documents it under "404 errors occur when multiple gateways configured with same TLS certificate".',
    fix: 'None automatic: serve the hosts that share a certificate from one server, so that one filter chain and one route config hold them all.',
    seeds: ['istioctl IST0138 (GatewayDuplicateCertificate)'],
    versions: 'All versions.',
    verify:
      'Inexpressible: the simulation makes one request per connection; HTTP/2 connection reuse across hosts is not simulated.',
  },
  parameters: [],
  subjects: ['Gateway'],
  reads: ['Gateway', 'Pod'],
  dataPlanes: ['gateway'],
  messages: {
    SharedCertificate: message({
      severity: 'warning',
      symptom: '404 NR',
      template:
        "{gw}'s server on {server} and {other}'s server on {otherServer} terminate TLS with the same certificate ({certificate}) on the same gateway pods ({selector}): an HTTP/2 client connected for one server's hosts reuses the connection for the other's, and Envoy routes those requests with the first server's routes, which do not list them. Serve these hosts from one server.",
      certainty:
        "Only clients that reuse connections across hosts fail, and only when the certificate covers both servers' hosts (meshmedic does not read Secret data).",
    }),
  },
});
