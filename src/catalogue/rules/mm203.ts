import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM203 = defineRule({
  id: 'MM203',
  name: 'conflicting-destination-rules',
  summary: 'Several DestinationRules for one host in one namespace: only the first trafficPolicy is used.',
  docs: {
    symptom: "A DestinationRule's tls, connectionPool or outlierDetection silently does nothing.",
    cause:
      'Istio merges DestinationRules for one host in one namespace (without workloadSelector): subsets concatenate, only the oldest top-level trafficPolicy is kept, and a subset name defined twice is used once.',
    fix: 'None automatic: which policy should win is a decision. Merge them into one DestinationRule.',
    seeds: ['Kiali KIA0201'],
    versions: 'All versions meshmedic judges.',
  },
  parameters: [],
  subjects: ['DestinationRule'],
  reads: ['DestinationRule'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    PolicyIgnored: message({
      severity: 'warning',
      symptom: 'policy silently ignored',
      template:
        "{dr} and {winner} both configure {host} in {namespace}; Istio merges them and keeps only the first top-level trafficPolicy ({winner}), so this rule's tls/connectionPool/outlierDetection do nothing. Merge them into one DestinationRule.",
      certainty: 'Nothing fails by itself: settings the author wrote are dropped, a risk.',
    }),
    DuplicateSubset: message({
      severity: 'warning',
      symptom: 'duplicate subset',
      template: '{dr} defines subset {subsets} for {host}, already defined by {other}; only one definition is used.',
      certainty: 'Routes to the subset may reach other pods than intended: a risk.',
    }),
  },
});
