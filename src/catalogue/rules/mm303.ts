import { K8S_GATEWAY } from '../../model/kinds.js';
import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const GRANT = 'a ReferenceGrant in {toNamespace} from {fromKind} in {fromNamespace} to {toKind} {toName}';

export const MM303 = defineRule({
  id: 'MM303',
  name: 'gateway-api-reference-not-granted',
  summary:
    "A Gateway API route's backendRef, or a Gateway's certificateRef, names an object in another namespace that no ReferenceGrant there allows (500 / listener not programmed).",
  docs: {
    symptom:
      'Routes: 500 for the requests the backend gets (ResolvedRefs=False, RefNotPermitted). Gateways: the HTTPS/TLS listener is not programmed (ResolvedRefs=False, RefNotPermitted; "Bad TLS configuration"), so its TLS handshakes fail.',
    cause:
      'A reference across namespaces needs the consent of the target namespace: a ReferenceGrant there whose `from` names the referring kind and namespace and whose `to` names the target kind (and name, or none). Istio drops a backendRef without one (conversion.go buildDestination, InvalidDestinationPermit) and a certificateRef without one (buildTLS, InvalidListenerRefNotPermitted).',
    fix: "None automatic: a ReferenceGrant is the target namespace owner's consent, which meshmedic does not give on their behalf. The message names the grant to create.",
    seeds: ['Gateway API spec, ReferenceGrant', 'Istio Gateway API status RefNotPermitted'],
    versions: 'All Istio versions that serve the Gateway API.',
    verify:
      "inexpressible: the oracle's simulated gateways receive no listener from a Gateway API Gateway (a call through its port finds none), so its routes and listeners cannot be called.",
  },
  parameters: [],
  subjects: ['HTTPRoute', 'GRPCRoute', 'TCPRoute', 'TLSRoute', K8S_GATEWAY],
  reads: ['ReferenceGrant', K8S_GATEWAY, 'GatewayClass'],
  messages: {
    BackendNotGranted: message({
      severity: 'error',
      symptom: '500 NC',
      detail: 'RefNotPermitted',
      template: `{route} sends {share} to {backend} in another namespace, and no ReferenceGrant allows it: Istio drops the backend and answers 500 for those requests. Create ${GRANT}.`,
      certainty: 'The snapshot is the whole mesh and holds no grant for the reference.',
    }),
    BackendGrantNotInInput: message({
      severity: 'warning',
      symptom: '500 NC',
      detail: 'RefNotPermitted',
      template: `{route} sends {share} to {backend} in another namespace, and no ReferenceGrant in the input allows it: unless one is applied from elsewhere, Istio answers 500 for those requests. Create ${GRANT} (pass --complete if the input is the whole mesh).`,
      certainty: 'Offline manifests are often part of what is applied: the grant may exist elsewhere.',
    }),
    CertificateNotGranted: message({
      severity: 'error',
      symptom: 'TLS handshake failure',
      detail: 'RefNotPermitted',
      template: `Listener {listener} of {gateway} uses certificate Secret {secret} in another namespace, and no ReferenceGrant allows it: Istio does not program the listener. Create ${GRANT}.`,
      certainty: 'The snapshot is the whole mesh and holds no grant for the reference.',
    }),
    CertificateGrantNotInInput: message({
      severity: 'warning',
      symptom: 'TLS handshake failure',
      detail: 'RefNotPermitted',
      template: `Listener {listener} of {gateway} uses certificate Secret {secret} in another namespace, and no ReferenceGrant in the input allows it: unless one is applied from elsewhere, Istio does not program the listener. Create ${GRANT} (pass --complete if the input is the whole mesh).`,
      certainty: 'Offline manifests are often part of what is applied: the grant may exist elsewhere.',
    }),
  },
});
