import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** Parts of the `{fix}` argument of EjectsAllEndpoints and EjectsAllBeforeIstio17, joined with ", ". */
export const MM107_FIX = {
  rename: 'rename consecutiveErrors to consecutive5xxErrors',
  drop: 'remove the ignored consecutiveErrors',
  bound: 'maxEjectionPercent {bound}',
  noLowerBound: "none proposed for maxEjectionPercent (the policy's maxEjectionPercent {bound} would not lower it)",
} as const;

export const MM107 = defineRule({
  id: 'MM107',
  name: 'outlier-ejects-all',
  summary:
    'outlierDetection can eject every endpoint (maxEjectionPercent 100 with consecutive errors <= 1: 503 UH), or uses the ignored consecutiveErrors.',
  docs: {
    symptom: '503 UH (no healthy upstream) for baseEjectionTime after one failure per endpoint.',
    cause:
      "maxEjectionPercent 100 with consecutive5xxErrors or consecutiveGatewayErrors <= 1 ejects every endpoint. Before Istio 1.7, consecutiveErrors N was given to Envoy as consecutive_gateway_failure N (enforced 100%) with consecutive_5xx not enforced (v1alpha3/cluster.go applyOutlierDetection, istio/api#617): only gateway errors (502, 503, 504, connect failures) counted. Since 1.7 it is ignored (istio/istio#24087; cluster_traffic_policy.go applyOutlierDetection maps only consecutive5xxErrors and consecutiveGatewayErrors) and Envoy's default consecutive_5xx 5 applies; validation only warns.",
    fix: 'Bound maxEjectionPercent (policy maxEjectionPercent, default 50); from 1.7 on, rename consecutiveErrors to consecutive5xxErrors. A bound that would not lower it is never proposed.',
    seeds: ['seed 001'],
    versions:
      'Before 1.7 (--istio-version), consecutiveErrors is honoured as consecutiveGatewayErrors: judged for ejecting all, never reported as ignored. From 1.7 on it is ignored.',
    verify:
      "expressible: outlier_detection of the cluster as Envoy receives it (consecutive_5xx, max_ejection_percent; consecutiveErrors does not reach Envoy). Inexpressible before 1.7 when consecutiveErrors is the threshold: the oracle's Istio ignores it.",
  },
  parameters: ['maxEjectionPercent'],
  subjects: ['DestinationRule'],
  reads: ['Service', 'ServiceEntry'],
  dataPlanes: ['sidecar', 'gateway', 'waypoint'],
  messages: {
    EjectsAllEndpoints: message({
      severity: 'error',
      symptom: '503 UH',
      template:
        '{dr} {level}: maxEjectionPercent {max} with {threshold} consecutive error(s) ejects every endpoint after one failure each: 503 UH (no healthy upstream) for baseEjectionTime {baseEjectionTime}. Fix: {fix}.',
      certainty:
        'One failure per endpoint ejects all of them: a certain 503 UH window whenever the upstream fails once; the oracle checks outlier_detection.',
    }),
    EjectsAllBeforeIstio17: message({
      severity: 'error',
      symptom: '503 UH',
      template:
        '{dr} {level}: maxEjectionPercent {max} with consecutiveErrors {threshold} (Istio {version} gives it to Envoy as consecutive_gateway_failure) ejects every endpoint after one gateway error (502, 503, 504 or a connect failure) each: 503 UH (no healthy upstream) for baseEjectionTime {baseEjectionTime}. Fix: {fix}.',
      certainty:
        'For the Istio version judged, consecutiveErrors reaches Envoy: one gateway error per endpoint ejects all of them, a certain 503 UH window. The oracle (current Istio) cannot show it.',
    }),
    IgnoredConsecutiveErrors: message({
      severity: 'info',
      symptom: '503 UH (latent)',
      template:
        '{dr} {level}: consecutiveErrors {value} has been ignored since Istio 1.7 (the default of 5 applies). Fix: rename to consecutive5xxErrors.',
      certainty:
        "Envoy's default consecutive_5xx 5 applies instead: outlier detection does not do what the field says, but nothing fails by itself (hygiene).",
    }),
    IgnoredBesideConsecutive5xxErrors: message({
      severity: 'info',
      symptom: '503 UH (latent)',
      template:
        '{dr} {level}: consecutiveErrors {value} has been ignored since Istio 1.7; consecutive5xxErrors {c5xx} beside it applies. Fix: remove consecutiveErrors.',
      certainty: 'consecutive5xxErrors already says what applies: the ignored field only misleads readers (hygiene).',
    }),
    EjectsAllOnceRenamed: message({
      severity: 'warning',
      symptom: '503 UH (latent)',
      template:
        '{dr} {level}: consecutiveErrors {value} has been ignored since Istio 1.7 (the default of 5 applies); once it is renamed to consecutive5xxErrors, maxEjectionPercent {max} would eject every endpoint. Fix: rename to consecutive5xxErrors, maxEjectionPercent {bound}.',
      certainty: 'Latent: the rename the deprecation asks for would make every endpoint ejectable after one failure.',
    }),
  },
});
