import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** One offending level, repeated in the message. */
export const MM101_OFFENDER = '{level} sends {sends} to {where}, which {pa} makes STRICT';
/** One level sending Istio mTLS to a DISABLE server, repeated in the message. */
export const MM101_TO_DISABLED = '{level} sends Istio mTLS (ISTIO_MUTUAL) to {where}, which {pa} makes DISABLE';
/** One DestinationRule level sending Istio mTLS to the servers of a DISABLE PeerAuthentication. */
export const MM101_SENDER = '{dr} {level} sends Istio mTLS (ISTIO_MUTUAL) to {where}';
/** One level sending Istio mTLS to pods without a sidecar. */
export const MM101_TO_NO_SIDECAR = '{level} sends Istio mTLS (ISTIO_MUTUAL) to {where}, whose pods run no sidecar ({why})';
/** What a finding without a Service in the input assumed. */
export const MM101_ASSUMED =
  'no Service it reaches is in the input, so Services matching the host are assumed to run there with sidecars, and no workload-selector PeerAuthentication to select them';

export const MM101 = defineRule({
  id: 'MM101',
  name: 'dr-tls-disables-mtls',
  summary: 'A DestinationRule sends plaintext or non-Istio TLS to workloads whose PeerAuthentication is STRICT (503 UC).',
  docs: {
    symptom: '503 UC, "upstream connect error or disconnect/reset before headers"; the server sidecar logs a TLS handshake error.',
    cause:
      'A DestinationRule (top level, a portLevelSettings entry, or a subset) sends plaintext (DISABLE, or no tls while meshConfig.enableAutoMtls is false) or non-Istio TLS (SIMPLE/MUTUAL) to workloads whose PeerAuthentication is STRICT. A port-level entry replaces tls as a block (no tls there = auto mTLS); subset tls overrides only when set; PeerAuthentication precedence workload > namespace > mesh-wide, with port-level mtls; auto mTLS infers from namespace/mesh policies only, so a workload STRICT under a namespace DISABLE gets plaintext.',
    fix: 'tls.mode ISTIO_MUTUAL at each offending level, every other field kept (certificate fields Istio refuses next to ISTIO_MUTUAL are removed).',
    seeds: ['seed 001', 'Kiali KIA0207', 'Kiali KIA0208'],
    versions: 'Auto mTLS is judged for the Istio version: before 1.5 it is off unless the mesh config sets enableAutoMtls (the finding then has a version note).',
    verify: "expressible: the client sidecar's cluster transport (plaintext, non-Istio TLS) and the server sidecar's inbound answer to it (no filter chains matched, invalid mTLS).",
  },
  parameters: [],
  subjects: ['DestinationRule', 'PeerAuthentication', 'Service'],
  reads: ['DestinationRule', 'Service', 'PeerAuthentication', 'ConfigMap', 'Namespace'],
  messages: {
    PlaintextToStrictAssumed: message({
      severity: 'warning',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template: '{dr} {offenders}. The server sidecar only accepts Istio mTLS. Assumption: {assumed}. Fix: tls.mode ISTIO_MUTUAL at {levels}.',
      certainty: 'The DestinationRule and the PeerAuthentication prove the failure for any server they both cover, but no such Service is in the input: the servers are assumed from the host.',
    }),
    MtlsToDisabled: message({
      severity: 'error',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{dr} {offenders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application, which cannot answer the Istio handshake. Fix: tls.mode DISABLE at {levels}.',
      certainty: "Istio's generator gives the client an Istio mTLS transport unconditionally for ISTIO_MUTUAL, and a DISABLE inbound listener has no TLS filter chain.",
    }),
    MtlsToDisabledAssumed: message({
      severity: 'warning',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{dr} {offenders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application. Assumption: {assumed}. Fix: tls.mode DISABLE at {levels}.',
      certainty: 'The DestinationRule and the PeerAuthentication prove the failure for any server they both cover, but no such Service is in the input: the servers are assumed from the host.',
    }),
    DisabledReceivesMtls: message({
      severity: 'error',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{pa} makes mTLS DISABLE, but {senders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application. Fix: mode PERMISSIVE (accepts Istio mTLS and plaintext) at {fields}, or stop sending ISTIO_MUTUAL there.',
      certainty: 'A namespace- or mesh-wide DestinationRule sends ISTIO_MUTUAL to every server it covers, whatever the server accepts; this policy is the exception to it.',
    }),
    DisabledReceivesMtlsAssumed: message({
      severity: 'warning',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        '{pa} makes mTLS DISABLE, but {senders}. A DISABLE server sidecar accepts plaintext only: on an HTTP port it refuses the TLS connection, on a TCP port it passes the TLS bytes to the application. Assumption: {assumed}. Fix: mode PERMISSIVE (accepts Istio mTLS and plaintext) at {fields}, or stop sending ISTIO_MUTUAL there.',
      certainty: 'The DestinationRule and the PeerAuthentication prove the failure for any server they both cover, but no such Service is in the input: the servers are assumed from the host.',
    }),
    NoRuleToStrict: message({
      severity: 'error',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template:
        '{svc}: {clients} send plaintext to {ports}, which {pa} makes STRICT: auto mTLS is off (meshConfig.enableAutoMtls false) and no DestinationRule gives them tls. The server sidecar only accepts Istio mTLS. Fix: a DestinationRule for {host} with tls.mode ISTIO_MUTUAL.',
      certainty: 'The snapshot is the whole mesh: with auto mTLS off, a client without a DestinationRule for the host sends plaintext.',
    }),
    NoRuleToStrictInInput: message({
      severity: 'warning',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template:
        '{svc}: {clients} send plaintext to {ports}, which {pa} makes STRICT: auto mTLS is off (meshConfig.enableAutoMtls false) and no DestinationRule in the input gives them tls. The server sidecar only accepts Istio mTLS. Fix: a DestinationRule for {host} with tls.mode ISTIO_MUTUAL (unless one is applied from elsewhere; --complete: the input is the whole mesh).',
      certainty: 'Offline manifests are often part of what is applied: a DestinationRule with ISTIO_MUTUAL may exist elsewhere.',
    }),
    MtlsToNoSidecar: message({
      severity: 'error',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        "{dr} {offenders}. Istio gives an ISTIO_MUTUAL cluster its mTLS transport for every endpoint, sidecar or not (auto mTLS would send plaintext there): the application receives a TLS handshake it cannot answer (istio#36672). Fix: plaintext to them: {fix}.",
      certainty: "The input says the pods run without a sidecar (pod or namespace injection settings, or the pods themselves), and Istio's generator sets the ISTIO_MUTUAL transport socket unconditionally.",
    }),
    MtlsToNoSidecarLikely: message({
      severity: 'warning',
      symptom: '503 UF',
      detail: 'upstream_reset_before_response_started{connection_failure,TLS_error}',
      template:
        "{dr} {offenders}. Istio gives an ISTIO_MUTUAL cluster its mTLS transport for every endpoint, sidecar or not (auto mTLS would send plaintext there): the application receives a TLS handshake it cannot answer (istio#36672). Fix, unless the pods are injected another way: plaintext to them: {fix}.",
      certainty: 'Injection is decided by webhooks at pod creation: offline, a namespace without injection labels only suggests that its pods have no sidecar.',
    }),
    PlaintextToStrict: message({
      severity: 'error',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template: '{dr} {offenders}. The server sidecar only accepts Istio mTLS. Fix: tls.mode ISTIO_MUTUAL at {levels}.',
      certainty: 'A STRICT server sidecar refuses every connection that is not Istio mTLS; the oracle confirms it where it can express the call.',
    }),
  },
});
