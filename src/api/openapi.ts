/**
 * The OpenAPI v3 subset a CRD's structural schema uses, as data: what crds/*.yaml holds, what the
 * offline validator (crd-validation.ts) checks. `x-kubernetes-validations` (CEL) are data too.
 */
export interface CelRule {
  rule: string;
  message: string;
  fieldPath?: string;
}

export interface OpenApiSchema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  format?: string;
  enum?: readonly (string | number)[];
  default?: unknown;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  required?: readonly string[];
  properties?: Record<string, OpenApiSchema>;
  additionalProperties?: OpenApiSchema;
  items?: OpenApiSchema;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: readonly string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
  'x-kubernetes-preserve-unknown-fields'?: true;
  'x-kubernetes-validations'?: readonly CelRule[];
}

/** The keywords above that JSON Schema does not know: declared to ajv, checked by crd-validation.ts or only by the API server. */
export const KUBERNETES_KEYWORDS = [
  'x-kubernetes-list-type',
  'x-kubernetes-list-map-keys',
  'x-kubernetes-map-type',
  'x-kubernetes-preserve-unknown-fields',
  'x-kubernetes-validations',
] as const;

/** metav1.Condition, as controller-gen writes it (the bounds and patterns of k8s.io/apimachinery's validation). */
export const CONDITIONS: OpenApiSchema = {
  type: 'array',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  items: {
    type: 'object',
    required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
    properties: {
      type: {
        type: 'string',
        maxLength: 316,
        pattern:
          '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$',
      },
      status: { type: 'string', enum: ['True', 'False', 'Unknown'] },
      observedGeneration: { type: 'integer', format: 'int64', minimum: 0 },
      lastTransitionTime: { type: 'string', format: 'date-time' },
      reason: { type: 'string', minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' },
      message: { type: 'string', maxLength: 32768 },
    },
  },
};

export const OBSERVED_GENERATION: OpenApiSchema = { type: 'integer', format: 'int64', minimum: 0 };

/** apiVersion, kind and metadata, as every CRD's root schema declares them. */
export const OBJECT_META_FIELDS: Record<string, OpenApiSchema> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object' },
};

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'date';
  jsonPath: string;
  priority?: number;
}

/** One apiextensions.k8s.io/v1 CustomResourceDefinition, the parts meshmedic's CRDs use. */
export interface CrdDefinition {
  /** The comment at the top of the generated file. */
  summary: string;
  group: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  namespaced: boolean;
  version: string;
  printerColumns: readonly PrinterColumn[];
  schema: OpenApiSchema;
}
