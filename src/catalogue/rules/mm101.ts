import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** One offending level, repeated in the message. */
export const MM101_OFFENDER = '{level} sends {sends} to {where}, which {pa} makes STRICT';
/** One level sending Istio mTLS to a DISABLE server, repeated in the message. */
export const MM101_TO_DISABLED = '{level} sends Istio mTLS (ISTIO_MUTUAL) to {where}, which {pa} makes DISABLE';
/** One DestinationRule level sending Istio mTLS to the servers of a DISABLE PeerAuthentication. */
export const MM101_SENDER = '{dr} {level} sends Istio mTLS (ISTIO_MUTUAL) to {where}';
/** One level sending Istio mTLS to pods without a sidecar. */
export const MM101_TO_NO_SIDECAR =
  '{level} sends Istio mTLS (ISTIO_MUTUAL) to {where}, whose pods run no sidecar ({why})';
/** What a finding without a Service in the input assumed. */
export const MM101_ASSUMED =
  'no Service it reaches is in the input, so Services matching the host are assumed to run there with sidecars (the sidecar data plane: no namespace of the input is labelled istio.io/dataplane-mode=ambient), and no workload-selector PeerAuthentication to select them';

export const MM101 = defineRule({
  id: 'MM101',
  name: 'dr-tls-disables-mtls',
  summary:
    'mTLS disagrees between client and server: plaintext or non-Istio TLS to STRICT workloads (503 UC), Istio mTLS to DISABLE workloads or pods without a sidecar (503 UF).',
  docs: {
    symptom:
      '503 UC, "upstream connect error or disconnect/reset before headers" (plaintext to a STRICT server: its sidecar logs a TLS handshake error), or 503 UF with a TLS error (Istio mTLS to a DISABLE server or to a pod without a sidecar).',
    cause:
      "mTLS disagrees between the two ends. (1) A DestinationRule (top level, a portLevelSettings entry, or a subset) sends plaintext (DISABLE, or no tls while meshConfig.enableAutoMtls is false) or non-Istio TLS (SIMPLE/MUTUAL) to workloads whose PeerAuthentication is STRICT. (2) With auto mTLS off, a Service that no DestinationRule covers for some clients gets plaintext on its STRICT ports (the finding is on the Service; with no Service in the input, on the namespace- or mesh-wide STRICT PeerAuthentication). (3) A DestinationRule ISTIO_MUTUAL reaches workloads whose PeerAuthentication is DISABLE (mesh-wide in the root namespace, namespace, workload selector or portLevelMtls): an HTTP port refuses the TLS connection, a TCP port passes the TLS bytes to the application. (4) ISTIO_MUTUAL reaches pods without a sidecar: Istio sets the cluster's mTLS transport unconditionally, unlike auto mTLS (istio#36672). Which DestinationRule a client uses follows Istio's lookup (client namespace, service namespace, root namespace; exact hosts before wildcards), so a shadowed rule is not blamed. A port-level entry replaces tls as a block (no tls there = auto mTLS); subset tls overrides only when set; PeerAuthentication precedence workload > namespace > mesh-wide, with port-level mtls; auto mTLS infers from namespace/mesh policies only, so a workload STRICT under a namespace DISABLE gets plaintext. A server the input shows without a sidecar (sidecar.istio.io/inject=false, istio-injection=disabled, or live pods without istio-proxy) enforces no PeerAuthentication and is not judged STRICT. Ambient namespaces and pods (label istio.io/dataplane-mode=ambient) are left out, as clients and as servers: ztunnel carries mTLS over HBONE and a DestinationRule's TLS applies at waypoints only; every message is about sidecars. With no matching Service in the input, the servers are assumed from the host (the namespace it names, or every namespace the input knows) and the finding is a warning that says so.",
    fix: "The object to change. (1) tls.mode ISTIO_MUTUAL at each offending level, every other field kept (certificate fields Istio refuses next to ISTIO_MUTUAL are removed). (2) A DestinationRule for the Service with ISTIO_MUTUAL on its STRICT ports (for a PeerAuthentication: one for *.namespace.svc, or *.svc mesh-wide, unless a DISABLE policy in the input would then receive Istio mTLS). (3) A DestinationRule that names the service: tls.mode DISABLE at the level; a wildcard (namespace- or mesh-wide) ISTIO_MUTUAL is the mesh's rule and the DISABLE policy its exception: the PeerAuthentication mode (or the port's) becomes PERMISSIVE, which accepts both, so no other client breaks. (4) tls.mode DISABLE when the DestinationRule names the host, else a DestinationRule of that host beside the wildcard one, its settings copied with ISTIO_MUTUAL made DISABLE.",
    seeds: [
      'seed 001',
      'Kiali KIA0207',
      'Kiali KIA0208',
      'Kiali KIA0401',
      'Kiali KIA0501',
      'Kiali KIA0505',
      'Kiali KIA0506',
      'istio#36672',
    ],
    versions:
      'Auto mTLS is judged for the Istio version: before 1.5 it is off unless the mesh config sets enableAutoMtls (the finding then has a version note).',
    verify:
      "expressible for Services of the input: the client sidecar's cluster transport (plaintext, non-Istio TLS, Istio mTLS) and the server sidecar's inbound answer to it (no filter chains matched, invalid mTLS, a TLS handshake on a plaintext HTTP chain). For pods without a sidecar: that the client's cluster gives endpoints without the tlsMode label Istio mTLS (what the application then does is beyond the simulation). Inexpressible: servers assumed from the host (no pod to simulate) and Istio mTLS to a DISABLE TCP port (the sidecar forwards the TLS bytes; the failure is the application's).",
  },
  parameters: [],
  subjects: ['DestinationRule', 'PeerAuthentication', 'Service'],
  reads: ['DestinationRule', 'Service', 'PeerAuthentication', 'ConfigMap', 'Namespace', 'Pod'],
  messages: {
    PlaintextToStrictAssumed: message({
      severity: 'warning',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template:
        '{dr} {offenders}. The server sidecar only accepts Istio mTLS. Assumption: {assumed}. Fix: tls.mode ISTIO_MUTUAL at {levels}.',
      certainty:
        'The DestinationRule and the PeerAuthentication prove the failure for any server they both cover, but no such Service is in the input: the servers are assumed from the host.',
    }),
    MtlsToDisabled: message({
      severity: 'error',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{dr} {offenders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application, which cannot answer the Istio handshake. Fix: tls.mode DISABLE at {levels}.',
      certainty:
        "Istio's generator gives the client an Istio mTLS transport unconditionally for ISTIO_MUTUAL, and a DISABLE inbound listener has no TLS filter chain.",
    }),
    MtlsToDisabledAssumed: message({
      severity: 'warning',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{dr} {offenders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application. Assumption: {assumed}. Fix: tls.mode DISABLE at {levels}.',
      certainty:
        'The DestinationRule and the PeerAuthentication prove the failure for any server they both cover, but no such Service is in the input: the servers are assumed from the host.',
    }),
    DisabledReceivesMtls: message({
      severity: 'error',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{pa} makes mTLS DISABLE, but {senders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application. Fix: mode PERMISSIVE (accepts Istio mTLS and plaintext) at {fields}, or stop sending ISTIO_MUTUAL there.',
      certainty:
        'A namespace- or mesh-wide DestinationRule sends ISTIO_MUTUAL to every server it covers, whatever the server accepts; this policy is the exception to it.',
    }),
    DisabledReceivesMtlsAssumed: message({
      severity: 'warning',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{pa} makes mTLS DISABLE, but {senders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application. Assumption: {assumed}. Fix: mode PERMISSIVE (accepts Istio mTLS and plaintext) at {fields}, or stop sending ISTIO_MUTUAL there.',
      certainty:
        'The DestinationRule and the PeerAuthentication prove the failure for any server they both cover, but no such Service is in the input: the servers are assumed from the host.',
    }),
    NoRuleToStrict: message({
      severity: 'error',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template:
        '{svc}: {clients} send plaintext to {ports}, which {pa} makes STRICT: auto mTLS is off (meshConfig.enableAutoMtls false) and no DestinationRule gives them tls. The server sidecar only accepts Istio mTLS. Fix: a DestinationRule for {host} with tls.mode ISTIO_MUTUAL.',
      certainty:
        'The snapshot is the whole mesh: with auto mTLS off, a client without a DestinationRule for the host sends plaintext.',
    }),
    NoRuleToStrictInInput: message({
      severity: 'warning',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template:
        '{svc}: {clients} send plaintext to {ports}, which {pa} makes STRICT: auto mTLS is off (meshConfig.enableAutoMtls false) and no DestinationRule in the input gives them tls. The server sidecar only accepts Istio mTLS. Fix: a DestinationRule for {host} with tls.mode ISTIO_MUTUAL (unless one is applied from elsewhere; --complete: the input is the whole mesh).',
      certainty:
        'Offline manifests are often part of what is applied: a DestinationRule with ISTIO_MUTUAL may exist elsewhere.',
    }),
    MtlsToNoSidecar: message({
      severity: 'error',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{dr} {offenders}. Istio gives an ISTIO_MUTUAL cluster its mTLS transport for every endpoint, sidecar or not (auto mTLS would send plaintext there): the application receives a TLS handshake it cannot answer (istio#36672). Fix: plaintext to them: {fix}.',
      certainty:
        "The input says the pods run without a sidecar (pod or namespace injection settings, or the pods themselves), and Istio's generator sets the ISTIO_MUTUAL transport socket unconditionally.",
    }),
    MtlsToNoSidecarLikely: message({
      severity: 'warning',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{dr} {offenders}. Istio gives an ISTIO_MUTUAL cluster its mTLS transport for every endpoint, sidecar or not (auto mTLS would send plaintext there): the application receives a TLS handshake it cannot answer (istio#36672). Fix, unless the pods are injected another way: plaintext to them: {fix}.',
      certainty:
        'Injection is decided by webhooks at pod creation: offline, a namespace without injection labels only suggests that its pods have no sidecar.',
    }),
    NoRuleToStrictAssumed: message({
      severity: 'warning',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template:
        '{pa} makes {scope} STRICT while auto mTLS is off (meshConfig.enableAutoMtls false), and no DestinationRule in the input gives tls to calls to {where}: clients without one send plaintext, which the server sidecars refuse. Assumption: {assumed}. Fix: a DestinationRule with tls.mode ISTIO_MUTUAL for those hosts (unless one is applied from elsewhere).',
      certainty:
        'No Service of the namespace is in the input, and the verdict rests on DestinationRules being absent: offline, both may exist elsewhere.',
    }),
    PlaintextToStrict: message({
      severity: 'error',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template: '{dr} {offenders}. The server sidecar only accepts Istio mTLS. Fix: tls.mode ISTIO_MUTUAL at {levels}.',
      certainty:
        'A STRICT server sidecar refuses every connection that is not Istio mTLS; the oracle confirms it where it can express the call.',
    }),
  },
});
