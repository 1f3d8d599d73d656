/**
 * MeshHealthPolicy (meshmedic.io/v1alpha1): its TypeScript types and its CRD's openAPIV3Schema, one
 * source for crds/meshmedic.io_meshhealthpolicies.yaml (scripts/gen-crds.ts), the offline validator
 * and the operator. spec.rules[].parameters comes from the rule parameter table (catalogue/parameters).
 */
import { PARAMETERS, type ParameterName, type ParameterSpec } from '../catalogue/parameters.js';
import { ACCESS_LOG_BOUNDS, ACCESS_LOG_DEFAULTS } from '../controller/access-log-settings.js';
import {
  CONDITIONS,
  OBJECT_META_FIELDS,
  OBSERVED_GENERATION,
  type CrdDefinition,
  type OpenApiSchema,
} from './openapi.js';

export const MODES = ['Observe', 'Propose', 'Enforce'] as const;
export type Mode = (typeof MODES)[number];

export const SELECTOR_OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: (typeof SELECTOR_OPERATORS)[number]; values?: string[] }[];
}

/** A parameter as written in a policy: a duration string ("30s") or an integer. */
export type RuleParameterValues = {
  [K in ParameterName]?: (typeof PARAMETERS)[K]['type'] extends 'duration' ? string : number;
};

export interface PolicyRule {
  id: string;
  enabled?: boolean;
  mode?: Mode;
  parameters?: RuleParameterValues;
}

export interface MeshHealthPolicySpec {
  mode?: Mode;
  namespaces?: string[];
  namespaceSelector?: LabelSelector;
  rules?: PolicyRule[];
  exclusions?: { namespace?: string; kind?: string; name?: string }[];
  enforce?: { maxWritesPerMinute?: number };
  istioVersion?: string;
  /** Checked in depth by controller/access-log-settings.ts. */
  evidence?: { accessLogs?: unknown };
}

/** Go durations with the units meshmedic's parameters take (the parser also requires them positive). */
export const PARAMETER_DURATION_PATTERN = '^([0-9]+(ms|s|m|h))+$';

function parameterSchema(p: ParameterSpec): OpenApiSchema {
  const description = p.default === undefined ? p.description : `${p.description} Default: ${String(p.default)}.`;
  if (p.type === 'duration') return { type: 'string', pattern: PARAMETER_DURATION_PATTERN, description };
  return { type: 'integer', minimum: p.minimum, maximum: p.maximum, description };
}

/** spec.rules[].parameters: one property per entry of PARAMETERS (no schema default: unset means the rule's default). */
export function parametersSchema(): OpenApiSchema {
  const properties = Object.fromEntries(Object.entries(PARAMETERS).map(([name, p]) => [name, parameterSchema(p)]));
  return { type: 'object', properties };
}

/** A metav1.LabelSelector; `bounds` adds the label key/value lengths the API server enforces on pod labels. */
function labelSelector(description: string, bounds?: { key: number; value: number }): OpenApiSchema {
  const value = (max: number): OpenApiSchema => (bounds ? { type: 'string', maxLength: max } : { type: 'string' });
  return {
    type: 'object',
    description,
    'x-kubernetes-map-type': 'atomic',
    properties: {
      matchLabels: { type: 'object', additionalProperties: value(bounds?.value ?? 0) },
      matchExpressions: {
        type: 'array',
        'x-kubernetes-list-type': 'atomic',
        items: {
          type: 'object',
          required: ['key', 'operator'],
          properties: {
            key: value(bounds?.key ?? 0),
            operator: { type: 'string', enum: SELECTOR_OPERATORS },
            values: { type: 'array', items: value(bounds?.value ?? 0), 'x-kubernetes-list-type': 'atomic' },
          },
        },
      },
    },
  };
}

const namespaceSelector = labelSelector('Label selector for namespaces to evaluate, combined with namespaces (union).');

const podSelector = labelSelector(
  'Label selector of the pods to read. Unset means every pod with a container named as in container.',
  { key: 317, value: 63 },
);

const bounded = (name: keyof typeof ACCESS_LOG_BOUNDS, description: string): OpenApiSchema => ({
  type: 'integer',
  description,
  minimum: ACCESS_LOG_BOUNDS[name][0],
  maximum: ACCESS_LOG_BOUNDS[name][1],
  default: ACCESS_LOG_DEFAULTS[name],
});

const accessLogs: OpenApiSchema = {
  type: 'object',
  description:
    'Reads the access logs of the istio-proxy containers of the pods in the namespaces this policy covers (pods list, pods/log get) ' +
    'and treats the 503/504s they show like findings of the configuration (access-log forms of MM104, MM105, MM106). Off unless enabled.',
  properties: {
    enabled: { type: 'boolean', default: false },
    sinceSeconds: bounded('sinceSeconds', 'Read the lines of the last sinceSeconds seconds.'),
    maxLinesPerPod: bounded('maxLinesPerPod', 'Read at most this many lines per pod (the newest; tailLines).'),
    podSelector,
    container: {
      type: 'string',
      description: 'The container whose log is read.',
      minLength: 1,
      maxLength: 63,
      pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
      default: ACCESS_LOG_DEFAULTS.container,
    },
    intervalSeconds: bounded('intervalSeconds', 'How often the logs are read again.'),
  },
};

function specSchema(): OpenApiSchema {
  return {
    type: 'object',
    properties: {
      mode: {
        type: 'string',
        description:
          'Observe reports findings only; Propose also creates MeshRemediations; Enforce applies approved or auto-approvable ones.',
        enum: MODES,
        default: 'Propose',
      },
      namespaces: {
        type: 'array',
        description: 'Namespaces to evaluate. Empty with no namespaceSelector means all namespaces.',
        items: { type: 'string', maxLength: 63 },
        'x-kubernetes-list-type': 'set',
      },
      namespaceSelector,
      rules: {
        type: 'array',
        description: 'Per-rule settings; rules not listed run with their defaults.',
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['id'],
        items: {
          type: 'object',
          required: ['id'],
          properties: {
            id: { type: 'string', pattern: '^MM[0-9]{3}$' },
            enabled: { type: 'boolean' },
            mode: { type: 'string', description: 'Overrides spec.mode for this rule.', enum: MODES },
            parameters: parametersSchema(),
          },
        },
      },
      exclusions: {
        type: 'array',
        description: 'Objects never reported or changed. An empty field matches anything.',
        items: {
          type: 'object',
          properties: { namespace: { type: 'string' }, kind: { type: 'string' }, name: { type: 'string' } },
        },
      },
      enforce: { type: 'object', properties: { maxWritesPerMinute: { type: 'integer', minimum: 1 } } },
      istioVersion: {
        type: 'string',
        description:
          'Istio version whose semantics the rules assume (for example 1.28); empty means the version istiod reports.',
        maxLength: 32,
      },
      evidence: {
        type: 'object',
        description: 'Runtime evidence meshmedic reads besides the configuration.',
        properties: { accessLogs },
      },
    },
  };
}

const statusSchema: OpenApiSchema = {
  type: 'object',
  properties: {
    observedGeneration: OBSERVED_GENERATION,
    lastEvaluationTime: { type: 'string', format: 'date-time' },
    modeInEffect: {
      type: 'string',
      description:
        'The mode meshmedic runs this policy in (Observe, Propose or Enforce), which can differ from spec.mode.',
    },
    findings: {
      type: 'object',
      properties: {
        total: { type: 'integer', description: 'The number of findings (the sum of byRule).', minimum: 0 },
        byRule: { type: 'object', additionalProperties: { type: 'integer' } },
        bySeverity: { type: 'object', additionalProperties: { type: 'integer' } },
      },
    },
    conditions: CONDITIONS,
  },
};

export const MESH_HEALTH_POLICY: CrdDefinition = {
  summary: 'MeshHealthPolicy: cluster-wide settings for what meshmedic checks and how far it may act.',
  group: 'meshmedic.io',
  kind: 'MeshHealthPolicy',
  plural: 'meshhealthpolicies',
  singular: 'meshhealthpolicy',
  shortNames: ['mhp'],
  namespaced: false,
  version: 'v1alpha1',
  printerColumns: [
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
    { name: 'Mode in effect', type: 'string', jsonPath: '.status.modeInEffect' },
    { name: 'Findings', type: 'integer', jsonPath: '.status.findings.total' },
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  schema: {
    type: 'object',
    description: 'Which namespaces and rules meshmedic evaluates, and whether it observes, proposes or enforces fixes.',
    properties: { ...OBJECT_META_FIELDS, spec: specSchema(), status: statusSchema },
  },
};
