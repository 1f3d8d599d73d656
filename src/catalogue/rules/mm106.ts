import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** The part of IdleTimeoutNotBelowKeepAlive's fix naming the VirtualServices that get a retry on reset. */
export const MM106_RETRY_ON_RESET = ' and retryOn reset on the routes of {vss}';

export const MM106 = defineRule({
  id: 'MM106',
  name: 'inbound-keepalive-race',
  summary:
    "Envoy keeps idle connections longer than the app's keep-alive and reuses closed ones: 503 UC on inbound clusters (propose only).",
  docs: {
    symptom: '503 UC (upstream_reset_before_response_started{connection_termination}) on inbound clusters, sporadic.',
    cause:
      "The DestinationRule of an in-mesh service keeps idle connections (connectionPool.http.idleTimeout, Envoy default 1h) at least as long as the application does, so Envoy reuses connections the application has closed. The DR's pool also applies to the server's inbound cluster. The static form runs when the policy sets keepAliveIdleTimeout.",
    fix: 'connectionPool.http.idleTimeout below the keep-alive and retries.retryOn with reset on the routes to it; proposed, never applied automatically.',
    seeds: ['seed 002'],
    versions:
      'Since Istio 1.24 inbound retries on reset-before-request are on by default, which hides part of the race.',
    verify:
      "inexpressible: the race depends on the application's keep-alive timeout and on timing, not on Envoy's configuration.",
  },
  parameters: ['keepAliveIdleTimeout'],
  subjects: ['DestinationRule'],
  reads: ['Service', 'VirtualService'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    IdleTimeoutNotBelowKeepAlive: message({
      severity: 'warning',
      symptom: '503 UC',
      detail: 'upstream_reset_before_response_started{connection_termination}',
      template:
        "on inbound|…|{host}: {dr} keeps idle connections for {current}, not below the applications' keep-alive {keepAlive}, so Envoy reuses connections the app has already closed. Fix (propose only): connectionPool.http.idleTimeout {target}{retry}.",
      certainty:
        'The race needs a request to reuse a connection the application is closing: it depends on timing, a risk.',
    }),
  },
});
