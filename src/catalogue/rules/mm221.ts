import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM221 = defineRule({
  id: 'MM221',
  name: 'destination-rule-unknown-host',
  summary: "A DestinationRule's host matches no Service or ServiceEntry: its policy applies to nothing.",
  docs: {
    symptom:
      "The rule's TLS origination, connection pool, outlier detection and subsets never reach Envoy; when the host is a typo, the intended host runs without them (e.g. plaintext to a TLS port, 503).",
    cause:
      'Istio attaches a DestinationRule to the clusters of the services its host names; a host no Service or ServiceEntry declares has no cluster to attach to.',
    fix: "None automatic: the intended host is unknown. Check the name and namespace (short names resolve in the rule's namespace).",
    seeds: ['istioctl IST0174 (UnknownDestinationRuleHost)'],
    versions: 'All versions.',
    verify: 'inexpressible: a rule that matches no host leaves nothing in Envoy to check.',
  },
  parameters: [],
  subjects: ['DestinationRule'],
  reads: ['Service', 'ServiceEntry'],
  messages: {
    HostNotFound: message({
      severity: 'warning',
      symptom: 'policy applies to nothing',
      template:
        '{dr} configures {host}, which no Service or ServiceEntry declares: its traffic policy and subsets apply to nothing. Check the host (short names resolve in {namespace}).',
      certainty:
        'The snapshot is the whole mesh, but a rule for no host fails no call by itself: a risk (often a typo that leaves the intended host without the policy).',
    }),
    HostNotInInput: message({
      severity: 'info',
      symptom: 'policy applies to nothing',
      template:
        '{dr} configures {host}, which no Service or ServiceEntry in the input declares: unless one is applied from elsewhere, its traffic policy and subsets apply to nothing (pass --complete if the input is the whole mesh).',
      certainty: 'Offline manifests are often part of what is applied, and a rule for no host fails no call by itself.',
    }),
  },
});
