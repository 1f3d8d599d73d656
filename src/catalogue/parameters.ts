/**
 * The rule parameters a MeshHealthPolicy can set (spec.rules[].parameters), with their defaults and
 * bounds. The CRD's schema, the policy parser and the rules' defaults all come from this table.
 */
export interface DurationParameter {
  readonly type: 'duration';
  /** Field of RuleParameters it sets, in milliseconds. */
  readonly field: 'minRouteTimeoutMs' | 'defaultRouteTimeoutMs' | 'keepAliveIdleTimeoutMs';
  readonly rules: readonly string[];
  /** As written in a policy ("30s"); absent: the parameter is unset unless a policy sets it. */
  readonly default?: string;
  readonly description: string;
}

export interface IntegerParameter {
  readonly type: 'integer';
  readonly field: 'maxEjectionPercent';
  readonly rules: readonly string[];
  readonly default: number;
  readonly minimum: number;
  readonly maximum: number;
  readonly description: string;
}

export type ParameterSpec = DurationParameter | IntegerParameter;

export const PARAMETERS = {
  minRouteTimeout: {
    type: 'duration',
    field: 'minRouteTimeoutMs',
    rules: ['MM105'],
    description:
      'MM105 reports a route timeout below this (and a perTryTimeout below it on a route without timeout); unset: off.',
  },
  defaultRouteTimeout: {
    type: 'duration',
    field: 'defaultRouteTimeoutMs',
    rules: ['MM104', 'MM105'],
    default: '30s',
    description: 'The timeout meshmedic writes on the routes it fixes or generates.',
  },
  keepAliveIdleTimeout: {
    type: 'duration',
    field: 'keepAliveIdleTimeoutMs',
    rules: ['MM106'],
    description: "The applications' keep-alive idle timeout; MM106's static form runs only when it is set.",
  },
  maxEjectionPercent: {
    type: 'integer',
    field: 'maxEjectionPercent',
    rules: ['MM107'],
    default: 50,
    minimum: 1,
    maximum: 99,
    description: 'MM107 bounds outlierDetection.maxEjectionPercent to this value.',
  },
} as const satisfies Record<string, ParameterSpec>;

export type ParameterName = keyof typeof PARAMETERS;

export const PARAMETER_NAMES = Object.keys(PARAMETERS) as ParameterName[];
