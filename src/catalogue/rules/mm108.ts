import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** One hidden host in the message. */
export const MM108_HIDDEN = '{host} ({entry}{usedBy})';

export const MM108 = defineRule({
  id: 'MM108',
  name: 'sidecar-hides-serviceentry',
  summary:
    "A Sidecar's egress hosts hide ServiceEntries that workloads in its namespace use (BlackHoleCluster 502 under REGISTRY_ONLY, or PassthroughCluster without the entry's policies).",
  docs: {
    symptom:
      '502 from BlackHoleCluster / block_all under REGISTRY_ONLY; otherwise traffic through PassthroughCluster (stale connections: 503 UF/UC).',
    cause:
      "A Sidecar's egress.hosts do not import a ServiceEntry that the namespace's VirtualServices or DestinationRules use (or any visible entry, under REGISTRY_ONLY).",
    fix: 'Add <entry-namespace>/<host> to the egress hosts.',
    seeds: ['seed 004'],
    versions: 'All versions.',
    verify:
      "expressible for HTTP, HTTPS/TLS (by SNI) and TCP ports: the call from the Sidecar's workloads leaves through PassthroughCluster or BlackHoleCluster.",
  },
  parameters: [],
  subjects: ['Sidecar'],
  reads: ['ServiceEntry', 'VirtualService', 'DestinationRule', 'ConfigMap'],
  dataPlanes: ['sidecar'],
  messages: {
    HiddenUnderRegistryOnly: message({
      severity: 'error',
      symptom: '502 BlackHoleCluster',
      template:
        '{sidecar} egress hosts do not import {hidden}{more}; with outbound REGISTRY_ONLY, traffic to them is dropped. Fix: add them to egress[{listener}].hosts.',
      certainty:
        'Under REGISTRY_ONLY the proxy has no route or cluster for the hidden host: every call is dropped; the oracle checks the call.',
    }),
    HiddenToPassthrough: message({
      severity: 'warning',
      symptom: 'PassthroughCluster',
      template:
        "{sidecar} egress hosts do not import {hidden}{more}; workloads in {namespace} reach them through PassthroughCluster, without the entry's ports, resolution or the routes and DestinationRules that name them (stale connections: 503 UF/UC). Fix: add them to egress[{listener}].hosts.",
      certainty:
        "Under ALLOW_ANY the traffic still leaves, without the entry's settings: failures depend on DNS and connection reuse, a risk.",
    }),
  },
});
