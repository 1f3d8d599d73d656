import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** One catch-all port in a message. */
export const MM103_PORT = '0.0.0.0:{port} ({protocol})';
export const MM103_SNIFFED = 'protocol unset, sniffed';

/** Why sidecars use no auto-allocated address for the entry (pilot/pkg/model/service.go nodeUsesAutoallocatedIPs). */
export const MM103_NO_AUTO_ADDRESS = {
  noDnsCapture: 'DNS capture is off, and without it sidecars use no address istiod auto-allocates',
  resolutionNone: 'istiod allocates none for resolution NONE',
  wildcardHosts: 'istiod allocates none for wildcard hosts',
  optedOut: 'it opts out with the label networking.istio.io/enable-autoallocate-ip: "false"',
  beforeAutoAllocation: 'Istio {version} allocates one only with ISTIO_META_DNS_AUTO_ALLOCATE, which is not set',
} as const;

/** The sidecars that see the entry (its exportTo). */
export const MM103_SCOPE = {
  everyNamespace: 'every namespace',
  ownNamespace: 'its own namespace {namespace} only',
  namespaces: 'namespaces {namespaces}',
} as const;

/** What the fix does, as the message says it. */
export const MM103_FIX = {
  addresses: 'set spec.addresses to {addresses}',
  exportTo:
    'restrict exportTo to "." (proposed, never applied automatically) and set spec.addresses to the IPs or CIDR it serves',
  none: 'set spec.addresses to the IPs or CIDR it serves',
} as const;

export const MM103_VERSION_NOTE =
  'judged for Istio {version}: before 1.12 the TLS port is a catch-all (an error), from 1.12 it matches on SNI (info)';

const HEAD =
  '{se} ({hosts}) has no spec.addresses and no auto-allocated address ({why}), so sidecars in {scope} get a catch-all listener {ports}';
const SHARED =
  'other entries without addresses declare the same port ({others}), and a sidecar that sees several keeps one listener and silently drops the rest';
const TLS_HEAD =
  '{se} is a MESH_INTERNAL, resolution DNS alias ({hosts}) with TLS port {tlsPorts}, no spec.addresses and no auto-allocated address ({why}); sidecars in {scope} see it';

export const MM103 = defineRule({
  id: 'MM103',
  name: 'serviceentry-wildcard-listener',
  summary:
    'A ServiceEntry without addresses on a TCP (or unset) port makes a 0.0.0.0:PORT listener that captures all traffic to that port.',
  docs: {
    symptom:
      '503 UF or connection resets for unrelated traffic on the same port; TLS handshakes to the wrong server (Istio before 1.12).',
    cause:
      'A ServiceEntry without spec.addresses (and none auto-allocated with DNS capture) and a TCP or unset-protocol port makes a 0.0.0.0:PORT listener whose tcp_proxy sends every connection to that port, whatever its destination IP, to the entry, unless a more specific listener (a Service ClusterIP) takes it; two such entries on one port: one listener is silently dropped. Resolution NONE: the cluster is ORIGINAL_DST and connections keep their destination, so only the shadowing of another entry remains. An unset protocol is sniffed: HTTP is still routed by Host, and a port where an HTTP Service or entry is declared sends non-HTTP bytes to PassthroughCluster, not to the entry. Seed 004\'s TLS case: a MESH_INTERNAL, resolution DNS alias with a TLS port and no addresses ("0.0.0.0 443 ALL" on Istio 1.11); from 1.12 the filter chain matches the hosts on SNI (pilot/pkg/networking/core/tls.go buildSidecarOutboundTLSFilterChainOpts).',
    fix: 'spec.addresses from what the entry points at (the ClusterIP of the Service its endpoints or hosts name, IP endpoints as /32); where nothing can be derived, exportTo ["."] (propose-only, and not offered when a VirtualService or DestinationRule in another namespace names the entry, or when another entry would then keep the listener).',
    seeds: ['seed 003', 'seed 004', 'istioctl IST0134'],
    versions:
      'With DNS capture, from 1.25 istiod auto-allocates an address (PILOT_ENABLE_IP_AUTOALLOCATE, status.addresses) unless the label networking.istio.io/enable-autoallocate-ip: "false" opts out; ISTIO_META_DNS_AUTO_ALLOCATE does the same earlier (pilot/pkg/model/service.go nodeUsesAutoallocatedIPs). The TLS-alias catch-all is an error before 1.12, info after.',
    verify:
      'expressible: a TCP connection to an unrelated IP on the port, from a sidecar in a namespace the entry is exported to; the TLS-alias form (an Istio 1.11 behaviour) and a port shared with a resolution NONE entry are inexpressible on the current generator.',
  },
  parameters: [],
  subjects: ['ServiceEntry'],
  reads: ['ServiceEntry', 'Service', 'VirtualService', 'DestinationRule', 'ConfigMap'],
  dataPlanes: ['sidecar'],
  messages: {
    CatchAllListener: message({
      severity: 'error',
      symptom: '503 UF / connection reset',
      template: `${HEAD}: every connection to that port that no more specific listener takes (an external IP, a pod IP, a headless Service) goes to {hosts}. Fix: {fix}.`,
      certainty:
        'The listener is in every sidecar of the namespaces the entry is exported to beyond its own: their connections to the port certainly go to the entry; the oracle checks a connection to an unrelated IP.',
    }),
    CatchAllContained: message({
      severity: 'warning',
      symptom: '503 UF / connection reset',
      template: `${HEAD}: every connection to that port that no more specific listener takes (an external IP, a pod IP, a headless Service) goes to {hosts}. Fix: {fix}.`,
      certainty:
        "Only the sidecars of the entry's own namespace get the listener, and no other entry shares the port: whether that namespace sends other traffic to the port is not known, a risk.",
    }),
    CatchAllShared: message({
      severity: 'error',
      symptom: '503 UF / connection reset',
      template: `${HEAD}; ${SHARED}: connections to that port, for {hosts} and for the other entries' hosts alike, go to whichever entry keeps it. Fix: {fix}.`,
      certainty:
        'Two catch-all TCP listeners on one port cannot both exist: the hosts of the entry that loses go to the other entry, in every sidecar that sees both.',
    }),
    SniffedCatchAll: message({
      severity: 'warning',
      symptom: '503 UF / connection reset',
      template: `${HEAD}: HTTP on the port is still routed by Host, but every non-HTTP connection to that port that no more specific listener takes goes to {hosts}. Fix: {fix}.`,
      certainty:
        'The port is sniffed: HTTP is still routed by Host, only non-HTTP bytes on the port fall into the entry, a risk.',
    }),
    SniffedShared: message({
      severity: 'warning',
      symptom: '503 UF / connection reset',
      template: `${HEAD}; ${SHARED}: non-HTTP connections to that port go to whichever entry keeps it. Fix: {fix}.`,
      certainty:
        'The port is sniffed: where its listener survives, HTTP is routed by Host; which listener survives is an ordering detail, a risk.',
    }),
    OriginalDstShared: message({
      severity: 'warning',
      symptom: '503 UF / connection reset',
      template: `${HEAD}; its resolution is NONE, so connections that reach its listener keep their destination (ORIGINAL_DST), but ${SHARED}: if another entry keeps it, connections for {hosts} go to that entry. Fix: {fix}.`,
      certainty:
        'Connections keep their destination wherever this entry keeps the listener; which entry keeps it is an ordering detail of the generator, a risk.',
    }),
    TlsAliasCatchAll: message({
      severity: 'error',
      symptom: 'TLS handshake to the wrong server',
      template: `${TLS_HEAD}: on Istio {version} they get "0.0.0.0 {port} ALL", a filter chain without SNI match, so every TLS connection to port {port}, whatever its server name, goes to {hosts}. Fix: {fix}.`,
      certainty:
        'Before Istio 1.12 the TLS port of such an alias had a catch-all filter chain: every HTTPS connection on the port went to the alias (seed 004).',
    }),
    TlsAliasNoAddress: message({
      severity: 'info',
      symptom: '(latent)',
      template: `${TLS_HEAD}: Istio {version} matches their 0.0.0.0:{port} filter chain on SNI ({hosts}), so other TLS traffic on the port is not affected; before 1.12 the same entry caught every TLS connection to the port. Fix: {fix}.`,
      certainty:
        'From Istio 1.12 the filter chain matches the hosts on SNI: nothing fails, the entry just has no address of its own (hygiene).',
    }),
  },
});
