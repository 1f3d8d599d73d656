import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { InputDiagnostic } from './diagnostics.js';
import { groupOf, isKnownKind, KNOWN_KINDS, type KnownKind } from './kinds.js';
import { objectSchema } from './schemas.js';
import type { KubeObject, SourceLocation } from './types.js';

export interface LoadedObject {
  object: KubeObject;
  source: SourceLocation;
}

export interface DecodeResult {
  objects: LoadedObject[];
  diagnostics: InputDiagnostic[];
  /** Objects of kinds meshmedic does not analyze (Deployments, Secrets, ...): kept for --fix output. */
  passthrough: LoadedObject[];
  /**
   * Every named object, including those meshmedic skipped (a field it reads has an unexpected type):
   * what a cluster would be given, so that Istio, not meshmedic's reader, judges them. The same objects
   * as `objects` where both hold one (only a defaulted namespace and dropped null maps differ from the input).
   */
  asWritten: KubeObject[];
}

const ajv = new Ajv({ allErrors: true, strict: false, verbose: true });
const validators = new Map<KnownKind, ValidateFunction>();

function validatorFor(kind: KnownKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    v = ajv.compile(objectSchema(kind));
    validators.set(kind, v);
  }
  return v;
}

const ISTIO_GROUPS = new Set(['networking.istio.io', 'security.istio.io', 'meshmedic.io']);

/**
 * Turns parsed documents into typed objects. A document that is not a Kubernetes object, an object of
 * a known kind whose fields have the wrong type, or one without a name is reported (file, line, object,
 * field) and skipped; the others go on.
 */
export function decodeDocuments(
  docs: { value: unknown; file: string; line: number }[],
  defaultNamespace = 'default',
): DecodeResult {
  const result: DecodeResult = { objects: [], diagnostics: [], passthrough: [], asWritten: [] };
  for (const doc of docs) decodeValue(doc.value, { file: doc.file, line: doc.line }, defaultNamespace, result);
  return result;
}

function decodeValue(value: unknown, source: SourceLocation, defaultNamespace: string, out: DecodeResult): void {
  if (Array.isArray(value)) {
    // a bare array of objects, read like a List
    for (const item of value) decodeValue(item, source, defaultNamespace, out);
    return;
  }
  if (!isRecord(value)) {
    out.diagnostics.push({ ...source, severity: 'error', message: 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)' });
    return;
  }
  const kind = value['kind'];
  const apiVersion = value['apiVersion'];
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    out.diagnostics.push({
      ...source,
      severity: 'error',
      field: typeof kind !== 'string' ? 'kind' : 'apiVersion',
      message: 'missing or not a string: every object needs apiVersion and kind',
    });
    return;
  }
  if (kind === 'List' || (kind.endsWith('List') && Array.isArray(value['items']))) {
    const items = value['items'];
    if (!Array.isArray(items)) {
      out.diagnostics.push({ ...source, severity: 'error', field: 'items', message: `${kind} without an items array` });
      return;
    }
    for (const item of items) decodeValue(item, source, defaultNamespace, out);
    return;
  }
  const meta = isRecord(value['metadata']) ? value['metadata'] : undefined;
  const name = meta?.['name'];
  if (typeof name === 'string' && name !== '') out.asWritten.push(value as KubeObject);
  const label = { kind, name: typeof name === 'string' && name !== '' ? name : '<unnamed>', ...(typeof meta?.['namespace'] === 'string' ? { namespace: meta['namespace'] } : {}) };
  // The Kubernetes Gateway API (Gateway, HTTPRoute, GRPCRoute, TCPRoute, TLSRoute, ReferenceGrant, ...):
  // valid input, read and carried through; Istio programs it, meshmedic does not judge it yet.
  if (GATEWAY_API_GROUPS.has(groupOf(apiVersion))) {
    if (typeof name === 'string') out.passthrough.push({ object: value as KubeObject, source });
    else out.diagnostics.push({ ...source, severity: 'error', object: label, field: 'metadata.name', message: 'missing: the object is not read' });
    return;
  }
  if (!isKnownKind(kind)) {
    if (ISTIO_GROUPS.has(groupOf(apiVersion))) {
      out.diagnostics.push({ ...source, severity: 'warning', object: label, field: 'kind', message: `unknown kind ${kind} in ${apiVersion}: not analyzed` });
    }
    if (typeof name === 'string') out.passthrough.push({ object: value as KubeObject, source });
    return;
  }
  const known = KNOWN_KINDS[kind];
  const group = groupOf(apiVersion);
  const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
  if (group !== known.group || !(known.versions as readonly string[]).includes(version)) {
    out.diagnostics.push({
      ...source,
      severity: 'error',
      object: label,
      field: 'apiVersion',
      message: `${kind} is not served as ${apiVersion}; expected ${known.versions.map((v) => (known.group ? `${known.group}/${v}` : v)).join(', ')}`,
    });
    return;
  }
  const validate = validatorFor(kind);
  if (!validate(value)) {
    for (const e of dedupeErrors(validate.errors ?? [])) {
      out.diagnostics.push({ ...source, severity: 'error', object: label, field: fieldPath(e), message: describeError(e) + '; object skipped' });
    }
    return;
  }
  const object = value as KubeObject;
  for (const k of ['labels', 'annotations'] as const) if (object.metadata[k] === null) delete object.metadata[k];
  if (known.namespaced && !object.metadata.namespace) object.metadata.namespace = defaultNamespace;
  out.objects.push({ object, source });
}

const GATEWAY_API_GROUPS = new Set(['gateway.networking.k8s.io', 'gateway.networking.x-k8s.io']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldPath(e: ErrorObject): string {
  const base = e.instancePath.split('/').slice(1).map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`)).join('').replace(/^\./, '');
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return base ? `${base}.${missing}` : missing;
  }
  return base || '(root)';
}

function describeError(e: ErrorObject): string {
  switch (e.keyword) {
    case 'enum':
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')} (got ${JSON.stringify(e.data)})`;
    case 'type':
      return `must be ${(e.params as { type: string | string[] }).type} (got ${JSON.stringify(e.data)})`;
    case 'required':
      return 'is required';
    case 'pattern':
      return `has an invalid format (got ${JSON.stringify(e.data)})`;
    default:
      return `${e.message ?? 'is invalid'} (got ${JSON.stringify(e.data)})`;
  }
}

/** ajv reports a type error on a union schema once per branch; keep one error per field. */
function dedupeErrors(errors: ErrorObject[]): ErrorObject[] {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const k = fieldPath(e);
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}
