import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** Fragments of MM103's messages, filled by the rule. */
export const MM103_FRAGMENTS = {
  port: '0.0.0.0:{port} ({protocol})',
  sniffed: 'protocol unset, sniffed',
  shared: ' {count} other entr{plural} without addresses ({entries}) declare the same port: only one listener survives and the other is silently dropped.',
  orKeeper: ' or to the entry that keeps the listener',
  noDnsCapture: ' (Without DNS capture, sidecars do not use the addresses istiod auto-allocates.)',
  fixAddresses: 'spec.addresses {addresses}',
  fixExportTo: 'restrict exportTo and set spec.addresses',
  fixSetAddresses: 'set spec.addresses',
} as const;

const HEAD = '{se} ({hosts}) has no spec.addresses, so sidecars get a catch-all listener {ports}:';
const TAIL = ' It is {scope}.{shared}{dns} Fix: {fix}.';
const CAPTURES = `${HEAD} every connection to that port, whatever its destination IP, goes to {hosts}{orKeeper}.${TAIL}`;

export const MM103 = defineRule({
  id: 'MM103',
  name: 'serviceentry-wildcard-listener',
  summary: 'A ServiceEntry without addresses on a TCP (or unset) port makes a 0.0.0.0:PORT listener that captures all traffic to that port.',
  docs: {
    symptom: '503 UF or connection resets for unrelated traffic on the same port; TLS handshakes to the wrong server (Istio 1.11).',
    cause:
      'A ServiceEntry without spec.addresses (and none auto-allocated with DNS capture) and a TCP or unset-protocol port makes a 0.0.0.0:PORT listener that captures every connection to that port; two such entries on one port: one is silently dropped. Seed 004\'s TLS case: a MESH_INTERNAL, resolution DNS alias with a TLS port and no addresses (0.0.0.0 443 ALL on Istio 1.11). Resolution NONE: the cluster is ORIGINAL_DST and connections keep their destination, so only the shadowing of another entry remains. An unset protocol is sniffed: HTTP is still routed by Host.',
    fix: 'spec.addresses from what the entry points at (the ClusterIP of the Service its endpoints or hosts name, IP endpoints as /32); where nothing can be derived, exportTo ["."] (propose-only, and not offered when a VirtualService or DestinationRule in another namespace names the entry, or when another entry would then keep the listener).',
    seeds: ['seed 003', 'seed 004', 'istioctl IST0134'],
    versions: 'With DNS capture, from 1.25 on istiod auto-allocates an address (status.addresses) unless the label networking.istio.io/enable-autoallocate-ip: "false" opts out; ISTIO_META_DNS_AUTO_ALLOCATE does the same earlier. The TLS-alias catch-all is an error before 1.12, a warning after.',
    verify: 'expressible: a TCP connection to an unrelated IP on the port, from a sidecar in a namespace the entry is exported to; the TLS-alias form (an Istio 1.11 behaviour) is inexpressible on the current generator.',
  },
  parameters: [],
  subjects: ['ServiceEntry'],
  reads: ['ServiceEntry', 'Service', 'VirtualService', 'DestinationRule', 'ConfigMap'],
  messages: {
    CatchAllListener: message({
      severity: 'error',
      symptom: '503 UF / connection reset',
      template: CAPTURES,
      certainty: 'Envoy sends every connection to the port to the entry, from every namespace it is exported to, or it shadows another entry: the oracle checks a connection to an unrelated IP.',
    }),
    CatchAllContained: message({
      severity: 'warning',
      symptom: '503 UF / connection reset',
      template: CAPTURES,
      certainty: 'Visible in its own namespace only and alone on the port: only that namespace\'s other traffic on the port is at risk.',
    }),
    SniffedCatchAll: message({
      severity: 'warning',
      symptom: '503 UF / connection reset',
      template: `${HEAD} HTTP is still routed by Host, but every non-HTTP connection to that port, whatever its destination IP, goes to {hosts}{orKeeper}.${TAIL}`,
      certainty: 'The port is sniffed: HTTP is still routed by Host, only non-HTTP bytes on the port fall into the entry.',
    }),
    OriginalDstShared: message({
      severity: 'warning',
      symptom: '503 UF / connection reset',
      template: `${HEAD} its resolution is NONE, so connections keep their destination (ORIGINAL_DST), but it shares that listener with other entries.${TAIL}`,
      certainty: 'Connections keep their destination; which entry keeps the shared listener is an ordering detail.',
    }),
    TlsAliasCatchAll: message({
      severity: 'error',
      symptom: 'TLS handshake to the wrong server',
      template:
        '{se} is a MESH_INTERNAL, resolution DNS alias ({hosts}) with TLS port {tlsPorts} and no spec.addresses; it is {scope}. On Istio 1.11 this produced "0.0.0.0 {port} ALL" and sent every HTTPS connection to it. Fix: {fix}.',
      certainty: 'Before Istio 1.12 the TLS port had a catch-all filter chain: every HTTPS connection on the port went to the alias.',
    }),
    TlsAliasNoAddress: message({
      severity: 'warning',
      symptom: 'TLS handshake to the wrong server',
      template:
        '{se} is a MESH_INTERNAL, resolution DNS alias ({hosts}) with TLS port {tlsPorts} and no spec.addresses; it is {scope}. On Istio 1.11 this produced "0.0.0.0 {port} ALL" and sent every HTTPS connection to it; current Istio matches on SNI, but the entry still has no address of its own. Fix: {fix}.',
      certainty: 'Current Istio matches TLS ports on SNI: no catch-all, a risk on upgrade paths and older proxies.',
    }),
  },
});
