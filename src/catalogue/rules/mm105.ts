import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

export const MM105 = defineRule({
  id: 'MM105',
  name: 'route-timeout-too-short',
  summary: 'A route timeout below the policy minimum, or a per-try timeout no retry budget explains: slower responses end in 504 UT.',
  docs: {
    symptom: '504 UT, with a duration equal to the timeout.',
    cause:
      'Route timeouts are disabled by default since Istio 1.0: a 504 UT means a timeout or perTryTimeout set somewhere. The route timeout bounds all tries together; perTryTimeout bounds each (Istio retries 2 times by default). A perTryTimeout inside the route timeout is a deliberate retry budget and is not reported; a perTryTimeout at or above the route timeout means no retry can run.',
    fix: 'Raise the route timeout (or, without a route timeout, the perTryTimeout) to the policy minimum; never raise a perTryTimeout to or past the route timeout.',
    seeds: ['seed 002'],
    versions: 'All versions since 1.0 (no default route timeout).',
    verify: 'expressible: the matched route\'s timeout and per-try timeout as Envoy receives them (a route picked by a regex match or behind a TLS gateway server is inexpressible).',
  },
  parameters: ['minRouteTimeout', 'defaultRouteTimeout'],
  subjects: ['VirtualService'],
  reads: ['Service', 'ServiceEntry'],
  messages: {
    TimeoutBelowMinimum: message({
      severity: 'warning',
      symptom: '504 UT',
      template: '{vs} {route} sets {fields}, below the minimum {minimum}: responses slower than that are cut with 504 UT (duration = the timeout). Fix: {minimum}.',
      certainty: "Only responses slower than the timeout fail, and the policy's minimum says they are expected: a risk, reported only when a policy sets minRouteTimeout.",
    }),
    RetriesNeverRun: message({
      severity: 'info',
      symptom: '504 UT (no retry)',
      template: '{vs} {route} sets retries.perTryTimeout {perTry}, not below the route timeout {timeout}: the route timeout ends the first try, so the {attempts} retries it asks for never run.',
      certainty: 'Nothing fails that would not fail anyway; the retry settings have no effect.',
    }),
  },
});
