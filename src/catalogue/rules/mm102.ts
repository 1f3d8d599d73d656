import { K8S_GATEWAY } from '../../model/kinds.js';
import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** Where the route goes, at the head of every MM102 message. */
export const MM102_WHERE = '{vs} routes HTTP to {host}:{port}{subset} ({protocol}, MESH_EXTERNAL in {entry})';

const FIX = 'Fix: DestinationRule for {host} with tls.mode SIMPLE and sni {host}.';
const CERTAIN =
  'The external server speaks TLS on that port and Envoy does not originate it as the server needs: every request fails; the oracle checks the cluster transport.';

export const MM102 = defineRule({
  id: 'MM102',
  name: 'external-tls-missing-sni',
  summary:
    'A route (VirtualService or HTTPRoute) sends HTTP to an external HTTPS/TLS host without a DestinationRule that originates TLS with sni = that host (503 UC / UF,URX).',
  docs: {
    symptom: '503 UC (plaintext to a TLS port) or 503 UF,URX with CERTIFICATE_VERIFY_FAILED (wrong or missing SNI).',
    cause:
      "A VirtualService (typically on a Gateway) routes HTTP to a MESH_EXTERNAL ServiceEntry host Y on an HTTPS/TLS port, and the DestinationRule that applies (client namespace, then the entry's, then root) does not originate TLS with sni Y: no DestinationRule, ISTIO_MUTUAL, a wrong sni, or no sni while the route comes in under another host X. A route to a subset is judged on that subset's cluster. The same holds for a Gateway API HTTPRoute (or GRPCRoute) whose backendRef is such a host (`group: networking.istio.io, kind: Hostname`, with its port): it runs on its Istio Gateway's pods, whose namespace the DestinationRule lookup starts from, and is reached under the route's hostnames.",
    fix: 'Create (in the entry\'s namespace) or patch a DestinationRule: tls.mode SIMPLE, sni Y, subjectAltNames [Y]; port-level when the entry has other plaintext ports (copying the top-level pool, load balancer and outlier settings); on the routed subset only, so that a tls-passthrough subset keeps sending the application\'s own TLS. Never for host "*".',
    seeds: ['seed 000'],
    versions:
      'Istio >= 1.21 sets Envoy auto_sni from the original Host header, even with rewrite.authority: without sni the handshake names X.',
    verify:
      'expressible: the transport socket of outbound|PORT|SUBSET|HOST at the gateway (or sidecar) that runs the route: plaintext, Istio mTLS, another SNI, or auto_sni.',
  },
  parameters: [],
  subjects: ['VirtualService', 'HTTPRoute', 'GRPCRoute'],
  reads: ['ServiceEntry', 'DestinationRule', 'Gateway', K8S_GATEWAY, 'GatewayClass'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    NoDestinationRule: message({
      severity: 'error',
      symptom: '503 UC',
      template: `{where}; no DestinationRule originates TLS, so Envoy sends plaintext HTTP to the TLS port. ${FIX}`,
      certainty: CERTAIN,
    }),
    NoClientTls: message({
      severity: 'error',
      symptom: '503 UC',
      template: `{where}; {dr} sets no client TLS for it, so Envoy sends plaintext HTTP to the TLS port. ${FIX}`,
      certainty: CERTAIN,
    }),
    IstioMtlsToExternal: message({
      severity: 'error',
      symptom: '503 UF',
      template: `{where}; {dr} sends Istio mTLS, which an external server cannot accept. ${FIX}`,
      certainty: CERTAIN,
    }),
    WrongSni: message({
      severity: 'error',
      symptom: '503 UF,URX',
      template: `{where}; {dr} sends sni {sni}; the server's certificate is for {host} (CERTIFICATE_VERIFY_FAILED or handshake failure). ${FIX}`,
      certainty: CERTAIN,
    }),
    SniFromOriginalHost: message({
      severity: 'error',
      symptom: '503 UF,URX',
      template: `{where}; {dr} sets no sni and the route is reached under host {otherHosts}: Envoy's auto_sni takes the ORIGINAL Host ({originalHost}), even with rewrite.authority, and the TLS handshake with {host} fails (CERTIFICATE_VERIFY_FAILED). ${FIX}`,
      certainty: 'From Istio 1.21 on, auto_sni names the original Host, which the external certificate does not cover.',
    }),
    NoSniUnderOtherHost: message({
      severity: 'error',
      symptom: '503 UC',
      template: `{where}; {dr} sets no sni and the route is reached under host {otherHosts}: the handshake with {host} does not name it, and the server presents a certificate for another name or closes the connection. ${FIX}`,
      certainty: 'Before Istio 1.21 the handshake carries no SNI for the external host.',
    }),
  },
});
