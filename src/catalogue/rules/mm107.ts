import { message } from '../message-type.js';
import { defineRule } from '../rule-entry.js';

/** The fix part of EjectsAllEndpoints when the policy's bound would not lower maxEjectionPercent. */
export const MM107_NO_LOWER_BOUND = "none proposed (the policy's maxEjectionPercent {bound} would not lower it)";

export const MM107 = defineRule({
  id: 'MM107',
  name: 'outlier-ejects-all',
  summary: 'outlierDetection can eject every endpoint (maxEjectionPercent 100 with consecutive errors <= 1: 503 UH), or uses the ignored consecutiveErrors.',
  docs: {
    symptom: '503 UH (no healthy upstream) for baseEjectionTime after one failure per endpoint.',
    cause: 'maxEjectionPercent 100 with consecutive5xxErrors or consecutiveGatewayErrors <= 1 ejects every endpoint; consecutiveErrors has been ignored since Istio 1.7 (the default of 5 applies).',
    fix: 'Rename consecutiveErrors to consecutive5xxErrors; bound maxEjectionPercent (policy maxEjectionPercent, default 50). A bound that would not lower it is never proposed.',
    seeds: ['seed 001'],
    versions: 'consecutiveErrors is ignored since Istio 1.7.',
    verify: 'expressible: outlier_detection of the cluster as Envoy receives it (consecutive_5xx, max_ejection_percent; consecutiveErrors does not reach Envoy).',
  },
  parameters: ['maxEjectionPercent'],
  subjects: ['DestinationRule'],
  reads: ['Service', 'ServiceEntry'],
  messages: {
    EjectsAllEndpoints: message({
      severity: 'error',
      symptom: '503 UH',
      template: '{dr} {level}: maxEjectionPercent {max} with {threshold} consecutive error(s) ejects every endpoint after one failure each: 503 UH (no healthy upstream) for baseEjectionTime {baseEjectionTime}. Fix: {fix}.',
      certainty: 'One failure per endpoint ejects all of them: a certain 503 UH window whenever the upstream fails once; the oracle checks outlier_detection.',
    }),
    IgnoredConsecutiveErrors: message({
      severity: 'warning',
      symptom: '503 UH (latent)',
      template: '{dr} {level}: consecutiveErrors {value} has been ignored since Istio 1.7 (the default of 5 applies). Fix: rename to consecutive5xxErrors.',
      certainty: 'Outlier detection does not do what the field says; nothing fails by itself.',
    }),
    EjectsAllOnceRenamed: message({
      severity: 'warning',
      symptom: '503 UH (latent)',
      template: '{dr} {level}: consecutiveErrors {value} has been ignored since Istio 1.7 (the default of 5 applies); once it is renamed to consecutive5xxErrors, maxEjectionPercent {max} would eject every endpoint. Fix: rename to consecutive5xxErrors, maxEjectionPercent {bound}.',
      certainty: 'Latent: the rename the deprecation asks for would make every endpoint ejectable after one failure.',
    }),
  },
});
