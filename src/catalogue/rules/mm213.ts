import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const NO_CERT = 'the gateway has no certificate for the server on port {port}, and TLS handshakes for {hosts} fail';

export const MM213 = defineRule({
  id: 'MM213',
  name: 'gateway-credential-unusable',
  summary:
    "An Istio Gateway server's credentialName names a Secret missing from the gateway pods' namespace, or one without certificate keys.",
  docs: {
    symptom: "TLS handshakes fail (connection reset) for the server's hosts.",
    cause:
      'A credentialName ("name" or "kubernetes://name") is read from the namespace of the gateway pods, not the Gateway\'s. The Secret must hold cert and key, or tls.crt and tls.key (pilot/pkg/credentials/kube/secrets.go ExtractCertInfo, whatever its type); for MUTUAL the CA comes from the Secret NAME-cacert, or else from the key cacert or ca.crt of the Secret itself (GetCaCert).',
    fix: "None automatic: meshmedic does not make certificates. Create the Secret in the gateway pods' namespace (type kubernetes.io/tls, tls.crt and tls.key), or fix credentialName.",
    seeds: [
      'istioctl IST0101 (ReferencedResourceNotFound: credentialName)',
      'istioctl IST0161 (InvalidGatewayCredential)',
    ],
    versions:
      'All versions. meshmedic reads a Secret\'s name, type and key names, never its values: an empty value, a certificate that does not parse or has expired (what IST0161 also reports) are not judged. Only the forms "name" and "kubernetes://name" are judged, with tls.mode SIMPLE, MUTUAL or OPTIONAL_MUTUAL (PASSTHROUGH ignores credentialName). An input without any Secret says nothing about them (cert-manager and the like create them), and is not judged.',
    verify:
      'inexpressible: the oracle serves no Secrets (no SDS) and checks no certificate; the listener it generates refers to the credential either way.',
  },
  parameters: [],
  subjects: ['Gateway'],
  reads: ['Secret', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  dataPlanes: ['gateway'],
  messages: {
    SecretNotFound: message({
      severity: 'error',
      symptom: 'TLS handshake failure',
      detail: 'connection reset',
      template: `{gateway} server port {port} uses credentialName {credential}, but no Secret {credential} exists in {namespace}, the namespace of its gateway pods (Secrets of that name elsewhere: {elsewhere}): ${NO_CERT}.`,
      certainty:
        "The snapshot is the whole mesh, Secrets included, and the gateway pods' namespace holds no such Secret.",
    }),
    SecretNotInInput: message({
      severity: 'warning',
      symptom: 'TLS handshake failure',
      detail: 'connection reset',
      template: `{gateway} server port {port} uses credentialName {credential}, but the input holds no Secret {credential} in {namespace}, the namespace of its gateway pods (Secrets of that name elsewhere: {elsewhere}): unless it is created from elsewhere, ${NO_CERT} (pass --complete if the input is the whole mesh).`,
      certainty:
        "The input holds Secrets, but not this one in the gateway pods' namespace; certificates are often created apart from the manifests (cert-manager, a vault).",
    }),
    NoCertificateKeys: message({
      severity: 'error',
      symptom: 'TLS handshake failure',
      detail: 'connection reset',
      template: `{gateway} server port {port} uses {secret} (type {type}), whose keys ({keys}) are neither cert and key nor tls.crt and tls.key: ${NO_CERT}.`,
      certainty: 'The Secret is in the input and Istio reads the certificate only from those key pairs.',
    }),
    NoCaCertificate: message({
      severity: 'error',
      symptom: 'TLS handshake failure',
      detail: 'connection reset',
      template:
        '{gateway} server port {port} is MUTUAL with credentialName {credential}, but neither a Secret {caSecret} nor the key cacert or ca.crt of {secret} holds a CA certificate ({found}): the gateway cannot verify clients, and TLS handshakes for {hosts} fail.',
      certainty:
        'The snapshot is the whole mesh (or the Secret NAME-cacert is in the input without a CA key): Istio finds no CA for the server.',
    }),
    NoCaCertificateInInput: message({
      severity: 'warning',
      symptom: 'TLS handshake failure',
      detail: 'connection reset',
      template:
        '{gateway} server port {port} is MUTUAL with credentialName {credential}, but the input holds no Secret {caSecret} and {secret} has no key cacert or ca.crt ({found}): unless {caSecret} is created from elsewhere, the gateway cannot verify clients and TLS handshakes for {hosts} fail (pass --complete if the input is the whole mesh).',
      certainty: 'The CA may come from a Secret NAME-cacert created apart from the manifests.',
    }),
  },
});
