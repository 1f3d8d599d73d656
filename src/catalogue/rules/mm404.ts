import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

const ZTUNNEL =
  'ztunnel enforces {policy} for {targets} (ambient) and does not support its HTTP attributes ({attributes})';

export const MM404 = defineRule({
  id: 'MM404',
  name: 'l7-authorization-policy-on-ztunnel',
  summary:
    'An AuthorizationPolicy with HTTP attributes (methods, paths, hosts, requestPrincipals, remoteIpBlocks, request.* conditions) that ztunnel enforces for ambient workloads: ztunnel drops the ALLOW rules that use them (an ALLOW policy of only such rules allows nothing) and enforces DENY rules without them (a DENY rule then denies every connection its L4 attributes match, or nothing when a condition has none).',
  docs: {
    symptom:
      'Connections to the ambient workloads are reset by ztunnel (ztunnel logs "policy rejection"/RBAC denied): an ALLOW policy whose rules all use HTTP attributes allows nothing, a DENY rule whose conditions all keep an L4 attribute besides the HTTP ones denies every connection those match. A DENY rule with a condition of only HTTP attributes denies nothing instead: a security gap, not a traffic failure. istiod says so in the policy status (ZtunnelAccepted, reason UnsupportedValue).',
    cause:
      'istiod converts every AuthorizationPolicy without targetRef(s) for ztunnel (pilot/pkg/serviceregistry/ambient/authorization.go:397-479 convertAuthorizationPolicy; a policy with targetRef(s) is left to waypoints, :419-423). ztunnel is an L4 proxy: the HTTP attributes hosts, notHosts, methods, notMethods, paths, notPaths (:491-512), remoteIpBlocks, notRemoteIpBlocks, requestPrincipals, notRequestPrincipals (:514-531) and every `when` key other than source.ip, source.namespace, source.principal, destination.ip, destination.port (:578-583, :608-614) cannot be matched. In an ALLOW policy a rule that uses one is dropped whole (:599-603, "L7 policies never match for ALLOW"), so an ALLOW policy whose rules all use them allows nothing and, as an ALLOW policy applies, ztunnel denies what no other ALLOW policy allows. In a DENY policy the rule is kept without its HTTP attributes (:485-486, :599-605): each condition (the `to` entries, the `from` entries, each `when`) becomes one clause of matches, an entry without L4 attribute an empty match (:537-598). ztunnel ANDs the clauses of a rule and ORs the matches of a clause, and never matches an empty match (istio/ztunnel src/rbac.rs Authorization::matches, `mg.is_empty()` skipped; test rbac_empty_policy; an Authorization with no rules matches nothing). So a DENY rule whose conditions all keep an L4 attribute denies every connection those match, whatever the method, path or host; one with a condition of only HTTP attributes denies nothing. The policy applies to the workloads its selector picks in its namespace, or in every namespace from the root namespace; without a selector to its namespace, or to the whole mesh from the root namespace (:425-432; pilot/pkg/serviceregistry/ambient/workloads.go:870-900 buildWorkloadPolicies). A waypoint never takes a selector policy (pilot/pkg/model/policyattachment.go:139-147), so a waypoint does not help until the policy names it with targetRefs. Judged only for workloads that run ambient, by their labels or their namespace\'s (src/model/data-plane.ts); sidecars enforce HTTP attributes.',
    fix: 'None automatic: which traffic to allow is a security decision. Enforce the HTTP attributes at a waypoint (istioctl waypoint apply -n NS --enroll-namespace) with a policy that names it (targetRefs: kind Gateway, or the Service), and keep only L4 attributes (ports, principals, namespaces, ipBlocks) in the ztunnel policy.',
    seeds: ['Istio ambient: ztunnel and waypoint authorization policy', 'istiod ZtunnelAccepted status'],
    versions:
      'Ambient mode (GA in 1.24). Dry-run policies (istio.io/dry-run) and the CUSTOM/AUDIT actions are not sent to ztunnel (authorization.go:409-417, :441-444) and not judged here.',
    verify: 'inexpressible: the oracle simulates sidecars and gateways, not ztunnel.',
  },
  parameters: [],
  subjects: ['AuthorizationPolicy'],
  reads: ['Namespace', 'Pod', 'Deployment', 'StatefulSet', 'DaemonSet', 'ReplicaSet'],
  dataPlanes: ['ztunnel', 'waypoint'],
  messages: {
    AllowsNothing: message({
      severity: 'error',
      symptom: 'connection denied by ztunnel',
      detail: 'RBAC',
      template: `${ZTUNNEL}: it drops every rule that uses one ({rules}), so no rule is left and the ALLOW policy allows nothing; ztunnel denies the connections it was meant to allow.`,
      certainty:
        "The workloads run ambient by their labels, and the policy's own rules all use HTTP attributes: the traffic they allow is denied unless another ALLOW policy's L4 rules allow it, and the input has no such policy for these workloads.",
    }),
    AllowsNothingInInput: message({
      severity: 'warning',
      symptom: 'connection denied by ztunnel',
      detail: 'RBAC',
      template: `${ZTUNNEL}: it drops every rule that uses one ({rules}), so no rule is left and the ALLOW policy allows nothing; unless an ALLOW policy applied from elsewhere allows them at L4, ztunnel denies the connections it was meant to allow (pass --complete if the input is the whole mesh).`,
      certainty:
        'The policy allows nothing, but whether the connections are denied rests on the absence of another ALLOW policy with L4 rules for these workloads, which an input of some files does not prove.',
    }),
    AllowRulesDropped: message({
      severity: 'warning',
      symptom: 'connection denied by ztunnel',
      detail: 'RBAC',
      template: `${ZTUNNEL}: it drops the ALLOW rules that use one ({rules}); the requests only those rules allow are denied{others}.`,
      certainty:
        'Other rules of the policy, or another ALLOW policy of the input for these workloads, still allow some traffic: which requests are denied depends on the traffic.',
    }),
    DeniesMore: message({
      severity: 'error',
      symptom: 'connection denied by ztunnel',
      detail: 'RBAC',
      template: `${ZTUNNEL}: it enforces the DENY rules that use one ({rules}) without them, so they deny every connection their L4 attributes (ports, principals, namespaces, IPs) match, not only the requests the HTTP attributes name.`,
      certainty:
        'The workloads run ambient by their labels, and every condition of these rules keeps an L4 attribute: every connection those match is denied, whatever its method, path or host.',
    }),
    DenyRulesIgnored: message({
      severity: 'warning',
      symptom: 'DENY rule not enforced',
      detail: 'security gap',
      template: `${ZTUNNEL}: in the DENY rules that use one ({rules}) a condition is left with nothing ztunnel can match, and ztunnel never matches an empty condition, so these rules deny nothing: the requests they name are let through.`,
      certainty:
        'No traffic fails from this: the policy is weaker than written (a security gap), which only a waypoint enforcing it, or an L4-only rule, closes.',
    }),
  },
});
