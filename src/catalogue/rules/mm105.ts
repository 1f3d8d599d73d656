import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** Istio's retryOn when `retries` sets none (pilot/pkg/networking/core/route/retry/retry.go defaultRetryOn). */
export const ISTIO_DEFAULT_RETRY_ON = 'connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes';

export const MM105 = defineRule({
  id: 'MM105',
  name: 'route-timeout-too-short',
  summary:
    'A per-try timeout Envoy never retries (a slow try ends the request with 504 UT), a per-try timeout the route timeout makes moot, or (with a policy minimum) a route timeout below it.',
  docs: {
    symptom:
      '504 UT, with a duration equal to the perTryTimeout (upstream_per_try_timeout) or the route timeout (response_timeout).',
    cause:
      "Istio sets no route timeout unless a VirtualService does (route.go setTimeout). The route timeout bounds all tries together; perTryTimeout bounds each. Envoy retries a try that hit its perTryTimeout only when retryOn has 5xx, gateway-error or reset (router.cc onPerTryTimeoutCommon, retry_state_impl.cc wouldRetryFromReset); Istio's default retryOn (connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes, retry.go) has none of them, so with it the first slow try ends the request. `retries` unset: Istio's default of 2 retries and no perTryTimeout; `retries` with attempts 0 or unset: no retry policy at all, the perTryTimeout does not reach Envoy (retry.go ConvertPolicy). A perTryTimeout inside the route timeout, retried on timeouts, is a deliberate retry budget and is not reported, whatever perTryTimeout x attempts is: later tries are cut by the route timeout, the 504 that timeout asks for. A static threshold says nothing about a likely 504 (the corpus' short timeouts are deliberate demos), so the threshold form is off unless a policy sets minRouteTimeout.",
    fix: 'Propose (never apply) reset in retryOn so a timed-out try is retried; raise a route timeout below the policy minimum (or, without a route timeout, the perTryTimeout) to the minimum. A perTryTimeout is never raised when the route has a timeout, so never to or past it nor past the retry budget.',
    seeds: ['seed 002'],
    versions:
      "All versions since 1.0 (no default route timeout). Istio's default retryOn (older releases add 503 as a retriable status code) does not retry a per-try timeout.",
    verify:
      "expressible in part: the matched route's timeout and per-try timeout as Envoy receives them (the route-timeout claim does not check retry_on yet; a route picked by a regex match or behind a TLS gateway server is inexpressible).",
  },
  parameters: ['minRouteTimeout', 'defaultRouteTimeout'],
  subjects: ['VirtualService'],
  reads: ['Service', 'ServiceEntry'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    TimedOutTryNotRetried: message({
      severity: 'warning',
      symptom: '504 UT',
      detail: 'upstream_per_try_timeout',
      template:
        '{vs} {route} sets retries.perTryTimeout {perTry} with retryOn {retryOn}: Envoy retries a timed-out try only on 5xx, gateway-error or reset, so a response slower than {perTry} ends the request with 504 UT after the first try, not after {attempts} retries. Fix (propose only): retryOn {proposed}.',
      certainty:
        'Every response slower than the perTryTimeout fails at the first try, but whether responses are that slow is a risk (and clients may add x-envoy-retry-on).',
    }),
    PerTryTimeoutNotBelowTimeout: message({
      severity: 'info',
      symptom: '504 UT (no retry after a timeout)',
      template:
        '{vs} {route} sets retries.perTryTimeout {perTry}, not below the route timeout {timeout}: the route timeout ends a slow try first, so a try that times out is never retried (the {attempts} retries still follow fast failures).',
      certainty: 'Nothing fails that would not fail without the perTryTimeout: the setting has no effect, hygiene.',
    }),
    TimeoutBelowMinimum: message({
      severity: 'warning',
      symptom: '504 UT',
      template:
        '{vs} {route} sets {fields}, below the minimum {minimum}: responses slower than that are cut with 504 UT (duration = the timeout). Fix: {minimum}.',
      certainty:
        "Only responses slower than the timeout fail, and the policy's minimum says they are expected: a risk, reported only when a policy sets minRouteTimeout.",
    }),
  },
});
