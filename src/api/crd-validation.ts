import type { Ajv, ErrorObject, ValidateFunction } from 'ajv';
import { newAjv } from '../model/ajv.js';
import { KUBERNETES_KEYWORDS, type OpenApiSchema } from './openapi.js';

/** One reason the API server refuses an object, worded as the API server words it (metav1.StatusCause). */
export interface SchemaCause {
  /** e.g. spec.rules[0].parameters.maxEjectionPercent */
  field: string;
  /** e.g. Invalid value: 100: spec.rules[0].parameters.maxEjectionPercent in body should be less than or equal to 99 */
  message: string;
}

// strict: a keyword ajv does not know is a mistake in src/api, except those Kubernetes adds (declared here).
// Formats (int64, date-time) are only on status fields, which meshmedic writes: not checked offline.
// Made on first use: a run without a policy never loads ajv.
let crdAjv: Ajv | undefined;
function ajv(): Ajv {
  if (!crdAjv) {
    crdAjv = newAjv({ strict: true, verbose: false, validateFormats: false });
    for (const keyword of KUBERNETES_KEYWORDS)
      crdAjv.addKeyword({ keyword, schemaType: ['string', 'array', 'boolean'] });
  }
  return crdAjv;
}

/** instancePath (/spec/rules/0/id) as the API server names fields (spec.rules[0].id). */
export function fieldPath(instancePath: string): string {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg), '');
}

/** A value as the API server prints it in "Invalid value: …" (Go's %#v of the decoded JSON: strings quoted, numbers bare). */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value);
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value;
}

function valueAt(root: unknown, instancePath: string): unknown {
  let v: unknown = root;
  for (const seg of instancePath.split('/').slice(1))
    v = (v as Record<string, unknown> | undefined)?.[seg.replace(/~1/g, '/').replace(/~0/g, '~')];
  return v;
}

/** One ajv error as the API server's cause; undefined for errors the API server would not report (e.g. the if/then glue). */
export function causeOf(e: ErrorObject, root: unknown): SchemaCause | undefined {
  const field = fieldPath(e.instancePath);
  const value = valueAt(root, e.instancePath);
  const p = e.params as Record<string, unknown>;
  switch (e.keyword) {
    case 'required': {
      const missing = String(p['missingProperty']);
      return { field: field ? `${field}.${missing}` : missing, message: 'Required value' };
    }
    case 'enum':
      return {
        field,
        message: `Unsupported value: ${shown(value)}: supported values: ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    case 'type':
      return {
        field,
        message: `Invalid value: "${jsonType(value)}": ${field} in body must be of type ${String(p['type'])}: "${jsonType(value)}"`,
      };
    case 'pattern':
      return {
        field,
        message: `Invalid value: ${shown(value)}: ${field} in body should match '${String(p['pattern'])}'`,
      };
    case 'maximum':
      return {
        field,
        message: `Invalid value: ${shown(value)}: ${field} in body should be less than or equal to ${String(p['limit'])}`,
      };
    case 'minimum':
      return {
        field,
        message: `Invalid value: ${shown(value)}: ${field} in body should be greater than or equal to ${String(p['limit'])}`,
      };
    case 'maxLength':
      return { field, message: `Too long: may not be more than ${String(p['limit'])} bytes` };
    case 'minLength':
      return {
        field,
        message: `Invalid value: ${shown(value)}: ${field} in body should be at least ${String(p['limit'])} chars long`,
      };
    default:
      return { field, message: `Invalid value: ${shown(value)}: ${e.message ?? e.keyword}` };
  }
}

/** Duplicate keys of x-kubernetes-list-type: map lists, as the API server reports them. */
function listMapDuplicates(schema: OpenApiSchema, value: unknown, path: string, out: SchemaCause[]): void {
  if (Array.isArray(value)) {
    const items = schema.items;
    const keys = schema['x-kubernetes-list-map-keys'];
    if (schema['x-kubernetes-list-type'] === 'map' && keys) {
      const seen = new Set<string>();
      value.forEach((item, i) => {
        const key = Object.fromEntries(
          keys
            .filter((k) => (item as Record<string, unknown>)?.[k] !== undefined)
            .map((k) => [k, (item as Record<string, unknown>)[k]]),
        );
        const text = JSON.stringify(key);
        if (seen.has(text)) out.push({ field: `${path}[${i}]`, message: `Duplicate value: ${text}` });
        seen.add(text);
      });
    }
    if (items) value.forEach((item, i) => listMapDuplicates(items, item, `${path}[${i}]`, out));
    return;
  }
  if (typeof value !== 'object' || value === null) return;
  const props = schema.properties;
  for (const [k, v] of Object.entries(value)) {
    const sub = props?.[k];
    if (sub) listMapDuplicates(sub, v, path ? `${path}.${k}` : k, out);
  }
}

/**
 * kube-openapi's stringValidator (validate/validator.go) stops at the first of maxLength, minLength and
 * pattern that fails; ajv reports each. Keep the one the API server reports.
 */
const STRING_CHECKS = ['maxLength', 'minLength', 'pattern'];

function asTheApiServerStops(errors: readonly ErrorObject[]): ErrorObject[] {
  const first = new Map<string, number>();
  for (const e of errors) {
    const rank = STRING_CHECKS.indexOf(e.keyword);
    if (rank >= 0) first.set(e.instancePath, Math.min(rank, first.get(e.instancePath) ?? rank));
  }
  return errors.filter((e) => {
    const rank = STRING_CHECKS.indexOf(e.keyword);
    return rank < 0 || first.get(e.instancePath) === rank;
  });
}

export interface CrdValidator {
  (object: unknown): SchemaCause[];
}

/** A validator for one CRD version's openAPIV3Schema: what the API server's schema validation refuses, in its words. */
export function crdValidator(schema: OpenApiSchema): CrdValidator {
  const validate: ValidateFunction = ajv().compile(schema);
  return (object) => {
    const causes: SchemaCause[] = [];
    if (!validate(object))
      for (const e of asTheApiServerStops(validate.errors ?? [])) {
        const c = causeOf(e, object);
        if (c && !causes.some((x) => x.field === c.field && x.message === c.message)) causes.push(c);
      }
    listMapDuplicates(schema, object, '', causes);
    return causes;
  };
}

/**
 * Fields the schema does not declare, as the API server names them (`spec.rules[0].parameters.x`): it
 * prunes them from what it stores, and refuses the object under strict field validation (kubectl
 * apply's default), "strict decoding error: unknown field "…"" (apiextensions-apiserver customresource_handler.go).
 * metadata is ObjectMeta's, not the schema's: not walked.
 */
export function unknownFields(schema: OpenApiSchema, value: unknown, path = ''): string[] {
  if (schema['x-kubernetes-preserve-unknown-fields']) return [];
  if (Array.isArray(value))
    return schema.items
      ? value.flatMap((v, i) => unknownFields(schema.items as OpenApiSchema, v, `${path}[${i}]`))
      : [];
  if (typeof value !== 'object' || value === null || schema.type !== 'object') return [];
  return Object.entries(value).flatMap(([k, v]) => {
    const child = path ? `${path}.${k}` : k;
    if (!path && k === 'metadata') return [];
    const sub = schema.properties?.[k] ?? schema.additionalProperties;
    return sub ? unknownFields(sub, v, child) : [child];
  });
}
