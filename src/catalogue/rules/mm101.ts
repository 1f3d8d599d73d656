import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** One offending level, repeated in the message. */
export const MM101_OFFENDER = '{level} sends {sends} to {where}, which {pa} makes STRICT';

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
  subjects: ['DestinationRule'],
  reads: ['Service', 'PeerAuthentication', 'ConfigMap', 'Namespace'],
  messages: {
    PlaintextToStrict: message({
      severity: 'error',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template: '{dr} {offenders}. The server sidecar only accepts Istio mTLS. Fix: tls.mode ISTIO_MUTUAL at {levels}.',
      certainty: 'A STRICT server sidecar refuses every connection that is not Istio mTLS; the oracle confirms it where it can express the call.',
    }),
  },
});
