import type { ErrorObject, ValidateFunction } from 'ajv';
import type { InputDiagnostic } from './diagnostics.js';
import { groupOf, isKind, isKnownKind, kindKey, kindName, KINDS, type KindInfo, type KnownKind } from './kinds.js';
import { secretShell, secretView, withoutSecretValues } from './secrets.js';
import { compileKind, exportNameOf, kindSchema, schemaHash } from './validator-source.js';
import * as precompiled from './validators.generated.js';
import type { KubeObject, SourceLocation } from './types.js';

/**
 * How `--fix` may write back the document an object came from, when serializing its value would not give
 * back what was read: `verbatim`, its original text (YAML aliases: never written expanded); `refused`, not
 * at all (invalid UTF-8: never written back altered). One WriteBack is shared by a document's objects.
 */
export type WriteBack = { kind: 'verbatim'; text: string; reason: string } | { kind: 'refused'; reason: string };

export interface LoadedObject {
  object: KubeObject;
  source: SourceLocation;
  writeBack?: WriteBack;
}

/** A parsed document (see input/parse-documents). */
export interface DecodeInput {
  value: unknown;
  file: string;
  /** 1-based line of the document's first line. */
  line: number;
  /** How `--fix` may write this document back; absent: its value is serialized. */
  writeBack?: WriteBack;
  /** Check every number of its objects (the text may hold .inf, .nan, 1e400 or integers beyond 2^53). */
  checkNumbers?: boolean;
}

/** The deepest nesting of collections read (YAML's parser limit, also applied to JSON and to YAML aliases). */
export const MAX_DEPTH = 100;

/** The longest value a diagnostic shows; longer ones are cut (their field is named). */
export const PREVIEW_CHARS = 80;

export interface DecodeResult {
  objects: LoadedObject[];
  diagnostics: InputDiagnostic[];
  /** Objects of kinds meshmedic does not analyze (Deployments, Secrets, ...): kept for --fix output. */
  passthrough: LoadedObject[];
  /** `objects` and `passthrough` together, in input order (for --fix output). */
  inOrder: LoadedObject[];
  /**
   * Every named object, including those meshmedic skipped (a field it reads has an unexpected type):
   * what a cluster would be given, so that Istio, not meshmedic's reader, judges them. The same objects
   * as `objects` where both hold one (only a defaulted namespace and dropped null maps differ from the input).
   */
  asWritten: KubeObject[];
}

const validators = new Map<KnownKind, ValidateFunction>();

function validatorFor(kind: KnownKind): ValidateFunction {
  let v = validators.get(kind);
  if (!v) {
    v = precompiledValidator(kind) ?? compileKind(kind);
    validators.set(kind, v);
  }
  return v;
}

/** The validator `npm run validators` precompiled for this kind, if it was made from the kind's schema as it is now. */
export function precompiledValidator(kind: KnownKind): ValidateFunction | undefined {
  const made = precompiled as unknown as Record<string, ValidateFunction | undefined> & {
    SCHEMA_HASHES: Readonly<Record<string, string>>;
  };
  return made.SCHEMA_HASHES[kind] === schemaHash(kindSchema(kind)) ? made[exportNameOf(kind)] : undefined;
}

/** Kustomization and Component files (kustomize.config.k8s.io) sit beside manifests but are never applied. */
const KUSTOMIZE_GROUP = 'kustomize.config.k8s.io';

const ISTIO_GROUPS = new Set(['networking.istio.io', 'security.istio.io', 'meshmedic.io']);

/**
 * Turns parsed documents into typed objects. A document that is not a Kubernetes object, an object of
 * a known kind whose fields have the wrong type, or one without a name is reported (file, line, object,
 * field) and skipped; the others go on. Nothing is dropped without a diagnostic.
 */
export function decodeDocuments(docs: DecodeInput[], defaultNamespace = 'default'): DecodeResult {
  const result: DecodeResult = { objects: [], diagnostics: [], passthrough: [], inOrder: [], asWritten: [] };
  const ctx: DecodeContext = {
    source: { file: '', line: 0 },
    defaultNamespace,
    out: result,
    checkNumbers: false,
    writeBack: undefined,
  };
  for (const doc of docs) {
    ctx.source = { file: doc.file, line: doc.line };
    ctx.checkNumbers = doc.checkNumbers === true;
    ctx.writeBack = doc.writeBack;
    try {
      decodeDocument(doc.value, ctx);
    } catch (err) {
      // whatever goes wrong stays with this document
      result.diagnostics.push({
        ...ctx.source,
        severity: 'error',
        message: `cannot read this document: ${err instanceof Error ? err.message : String(err)}`,
      });
    }
  }
  return result;
}

interface DecodeContext {
  source: SourceLocation;
  defaultNamespace: string;
  out: DecodeResult;
  checkNumbers: boolean;
  writeBack: WriteBack | undefined;
}

/** A document: an object, a List of objects, or a bare list of objects (not a list of lists). */
function decodeDocument(value: unknown, ctx: DecodeContext): void {
  if (!Array.isArray(value)) {
    decodeValue(value, ctx, 0);
    return;
  }
  for (const item of value) {
    if (Array.isArray(item))
      ctx.out.diagnostics.push({
        ...ctx.source,
        severity: 'error',
        message: 'a list inside a list is not a Kubernetes object (expected a mapping with apiVersion and kind)',
      });
    else decodeValue(item, ctx, 0);
  }
}

function decodeValue(value: unknown, ctx: DecodeContext, listDepth: number): void {
  const { source, out } = ctx;
  if (!isRecord(value)) {
    out.diagnostics.push({
      ...source,
      severity: 'error',
      message: 'document is not a Kubernetes object (expected a mapping with apiVersion and kind)',
    });
    return;
  }
  const kind = value['kind'];
  const apiVersion = value['apiVersion'];
  if (typeof kind !== 'string' || typeof apiVersion !== 'string') {
    out.diagnostics.push({
      ...source,
      severity: 'error',
      ...(typeof kind === 'string' ? { object: labelFor(value, kind) } : {}),
      field: typeof kind !== 'string' ? 'kind' : 'apiVersion',
      message: 'missing or not a string: every object needs apiVersion and kind',
    });
    return;
  }
  if (isList(kind, value)) {
    decodeList(value, kind, ctx, listDepth);
    return;
  }
  decodeObject(value, kind, apiVersion, ctx);
}

/** `kind: List`, or a `*List` (ServiceList, ...) with `items`: a list of objects. */
function isList(kind: string, value: Record<string, unknown>): boolean {
  return kind === 'List' || (kind.endsWith('List') && Object.hasOwn(value, 'items'));
}

function decodeList(value: Record<string, unknown>, kind: string, ctx: DecodeContext, listDepth: number): void {
  const items = value['items'];
  if (!Array.isArray(items)) {
    const got = items === undefined ? 'missing' : `got ${preview(items)}`;
    ctx.out.diagnostics.push({
      ...ctx.source,
      severity: 'error',
      object: labelFor(value, kind),
      field: 'items',
      message: `must be a list of objects (${got}); ${kind} not read`,
    });
    return;
  }
  if (listDepth >= MAX_DEPTH) {
    ctx.out.diagnostics.push({
      ...ctx.source,
      severity: 'error',
      object: labelFor(value, kind),
      field: 'items',
      message: `Lists nested deeper than ${MAX_DEPTH} levels; not read`,
    });
    return;
  }
  for (const item of items) decodeValue(item, ctx, listDepth + 1);
}

function decodeObject(value: Record<string, unknown>, kind: string, apiVersion: string, ctx: DecodeContext): void {
  const { source, out } = ctx;
  const meta = isRecord(value['metadata']) ? value['metadata'] : undefined;
  const name = meta?.['name'];
  const named = typeof name === 'string' && name !== '';
  const label = labelFor(value, kind);
  // A Secret's values are never checked, kept or shown: only its name, type and key names are read.
  const secret = kind === 'Secret';
  if (ctx.checkNumbers && !numbersFit(secret ? withoutSecretValues(value) : value, label, ctx)) return;
  if (named) out.asWritten.push(secret ? secretShell(value) : (value as KubeObject));
  const group = groupOf(apiVersion);
  if (group === KUSTOMIZE_GROUP) {
    out.diagnostics.push({
      ...source,
      severity: 'warning',
      object: label,
      message: `a kustomize ${kind} is build input, not an object the cluster receives: not analyzed and left out of --fix output; to analyze what it builds, run kustomize build DIR | meshmedic analyze -`,
    });
    return;
  }
  // The Kubernetes Gateway API kinds Istio programs (GatewayClass, Gateway, HTTPRoute, GRPCRoute, TCPRoute,
  // TLSRoute, ReferenceGrant) are read; its other kinds (BackendTLSPolicy, x-k8s.io ListenerSets, ...) are
  // valid input carried through unjudged. So are the kinds meshmedic does not analyze (Deployments, ...),
  // once they have a name. The registry key tells the Gateway API's Gateway from Istio's (kindKey).
  const key = kindKey({ apiVersion, kind });
  const gatewayApi = GATEWAY_API_GROUPS.has(group);
  if ((gatewayApi && (!isKind(key) || KINDS[key].group !== group)) || !isKnownKind(key)) {
    if (!gatewayApi && ISTIO_GROUPS.has(group) && !isKind(kind)) {
      out.diagnostics.push({
        ...source,
        severity: 'warning',
        object: label,
        field: 'kind',
        message: `unknown kind ${kind} in ${apiVersion}: not analyzed`,
      });
    }
    if (named) keep(out.passthrough, value as KubeObject, ctx);
    else
      out.diagnostics.push({
        ...source,
        severity: 'error',
        object: label,
        field: 'metadata.name',
        message: `${nameProblem(meta, name)}: the object is not read`,
      });
    return;
  }
  if (secret) {
    decodeSecret(value, apiVersion, label, ctx);
    return;
  }
  decodeKnown(value, key, apiVersion, label, ctx);
}

/**
 * A Secret is analyzed as its view (model/secrets.ts: metadata, type, key names), and written back by
 * --fix as it was read (the original goes to `inOrder` only): no value enters the index or a diagnostic.
 */
function decodeSecret(
  value: Record<string, unknown>,
  apiVersion: string,
  label: ObjectLabel,
  ctx: DecodeContext,
): void {
  const { view, malformed } = secretView(value);
  for (const field of malformed) {
    ctx.out.diagnostics.push({
      ...ctx.source,
      severity: 'error',
      object: label,
      field,
      message: 'must be a mapping of key names to string values (the values are not shown); object skipped',
    });
  }
  if (malformed.length > 0) return;
  decodeKnown(view, 'Secret', apiVersion, label, ctx, value as KubeObject);
}

function decodeKnown(
  value: Record<string, unknown>,
  kind: KnownKind,
  apiVersion: string,
  label: ObjectLabel,
  ctx: DecodeContext,
  original?: KubeObject,
): void {
  const { source, out } = ctx;
  const known: KindInfo = KINDS[kind];
  const group = groupOf(apiVersion);
  const version = apiVersion.slice(apiVersion.indexOf('/') + 1);
  if (group !== known.group || !known.versions.includes(version)) {
    out.diagnostics.push({
      ...source,
      severity: 'error',
      object: label,
      field: 'apiVersion',
      message: `${kindName(kind)} is not served as ${apiVersion}; expected ${known.versions.map((v) => (known.group ? `${known.group}/${v}` : v)).join(', ')}`,
    });
    return;
  }
  const validate = validatorFor(kind);
  if (!validate(value)) {
    for (const e of dedupeErrors(validate.errors ?? [])) {
      out.diagnostics.push({
        ...source,
        severity: 'error',
        object: label,
        field: fieldPath(e),
        message: describeError(e) + '; object skipped',
      });
    }
    return;
  }
  const object = value as KubeObject;
  for (const k of ['labels', 'annotations'] as const) if (object.metadata[k] === null) delete object.metadata[k];
  if (known.namespaced && !object.metadata.namespace) object.metadata.namespace = ctx.defaultNamespace;
  if (!original) {
    keep(out.objects, object, ctx);
    return;
  }
  if (isRecord(original.metadata) && !original.metadata.namespace && object.metadata.namespace)
    original.metadata.namespace = object.metadata.namespace;
  const analyzed: LoadedObject = { object, source: ctx.source };
  const written: LoadedObject = { object: original, source: ctx.source };
  if (ctx.writeBack) analyzed.writeBack = written.writeBack = ctx.writeBack;
  out.objects.push(analyzed);
  out.inOrder.push(written);
}

function keep(list: LoadedObject[], object: KubeObject, ctx: DecodeContext): void {
  const loaded: LoadedObject = { object, source: ctx.source };
  if (ctx.writeBack) loaded.writeBack = ctx.writeBack;
  list.push(loaded);
  ctx.out.inOrder.push(loaded);
}

function nameProblem(meta: Record<string, unknown> | undefined, name: unknown): string {
  if (name !== undefined && name !== null && name !== '') return `must be a non-empty string (got ${preview(name)})`;
  if (typeof meta?.['generateName'] === 'string')
    return 'missing (generateName is for kubectl create; kubectl apply needs a name)';
  return 'missing';
}

// ---- numbers -------------------------------------------------------------------------------------------

const MAX_NUMBER_PROBLEMS = 5;

/**
 * Numbers JSON cannot carry as read: NaN and ±Infinity (`.nan`, `.inf`, `1e400`), and integers beyond
 * ±2^53, which were rounded on reading. Each is an error naming its field and the object is skipped: it
 * would be judged, and written back by --fix, with another value than the one in the file.
 */
function numbersFit(value: Record<string, unknown>, label: ObjectLabel, ctx: DecodeContext): boolean {
  const problems = numberProblems(value);
  for (const p of problems.slice(0, MAX_NUMBER_PROBLEMS)) {
    ctx.out.diagnostics.push({
      ...ctx.source,
      severity: 'error',
      object: label,
      field: formatPath(p.path),
      message: `${p.message}; object skipped`,
    });
  }
  if (problems.length > MAX_NUMBER_PROBLEMS) {
    ctx.out.diagnostics.push({
      ...ctx.source,
      severity: 'error',
      object: label,
      message: `${problems.length - MAX_NUMBER_PROBLEMS} more numbers JSON cannot carry as read`,
    });
  }
  return problems.length === 0;
}

function numberProblems(root: unknown): { path: PathSegment[]; message: string }[] {
  const found: { path: PathSegment[]; message: string }[] = [];
  const stack: { value: unknown; path: PathSegment[] }[] = [{ value: root, path: [] }];
  while (stack.length > 0 && found.length <= MAX_NUMBER_PROBLEMS) {
    const { value, path } = stack.pop() as { value: unknown; path: PathSegment[] };
    if (typeof value === 'number') {
      const message = numberProblem(value);
      if (message) found.push({ path, message });
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    } else if (isRecord(value)) {
      const keys = Object.keys(value);
      for (let i = keys.length - 1; i >= 0; i--)
        stack.push({ value: value[keys[i] as string], path: [...path, keys[i] as string] });
    }
  }
  return found;
}

function numberProblem(n: number): string | undefined {
  if (Number.isNaN(n)) return 'not a number (got NaN, .nan): JSON cannot carry it';
  if (!Number.isFinite(n))
    return `not a finite number (got ${n > 0 ? '' : '-'}Infinity: .inf or a number too large, such as 1e400): JSON cannot carry it`;
  if (Number.isInteger(n) && !Number.isSafeInteger(n))
    return `an integer beyond ±2^53 cannot be read exactly (read as ${n})`;
  return undefined;
}

// ---- shown in diagnostics ------------------------------------------------------------------------------

export type PathSegment = string | number;
type ObjectLabel = NonNullable<InputDiagnostic['object']>;

const PATH_HEAD = 8;
const PATH_TAIL = 4;

/** `spec.http[0].route` from path segments; a very deep path shows its first and last levels, long keys are cut. */
export function formatPath(path: readonly PathSegment[]): string {
  const segment = (p: PathSegment): string =>
    typeof p === 'number' ? `[${p}]` : `.${p.length > PREVIEW_CHARS ? p.slice(0, PREVIEW_CHARS) + '…' : p}`;
  const shown =
    path.length <= PATH_HEAD + PATH_TAIL + 1
      ? path.map(segment).join('')
      : `${path.slice(0, PATH_HEAD).map(segment).join('')}…(${path.length - PATH_HEAD - PATH_TAIL} levels)…${path.slice(-PATH_TAIL).map(segment).join('')}`;
  return shown.replace(/^\./, '');
}

function labelFor(value: Record<string, unknown>, kind: string): ObjectLabel {
  const meta = isRecord(value['metadata']) ? value['metadata'] : undefined;
  const name = meta?.['name'];
  const namespace = meta?.['namespace'];
  return {
    kind,
    name: typeof name === 'string' && name !== '' ? name : '<unnamed>',
    ...(typeof namespace === 'string' ? { namespace } : {}),
  };
}

/** The object a parsed value names (kind, namespace, name), if it names a kind. */
export function labelOf(value: unknown): ObjectLabel | undefined {
  if (!isRecord(value) || typeof value['kind'] !== 'string') return undefined;
  return labelFor(value, value['kind']);
}

/**
 * A value as a diagnostic shows it: JSON-like, at most `max` characters (then `…`), whatever its size
 * (an expanded YAML alias bomb is never rendered in full). Non-finite numbers are spelled out.
 */
export function preview(value: unknown, max = PREVIEW_CHARS): string {
  const out: string[] = [];
  const budget = { left: max + 1 };
  render(value, out, budget);
  const text = out.join('');
  return text.length > max ? text.slice(0, max) + '…' : text;
}

/** Renders into `out` until the budget is spent: recursion is as deep as the budget is long, at most. */
function render(value: unknown, out: string[], budget: { left: number }): void {
  if (budget.left <= 0) return;
  const emit = (s: string): void => {
    out.push(s);
    budget.left -= s.length;
  };
  if (typeof value === 'string') emit(JSON.stringify(value.length > budget.left ? value.slice(0, budget.left) : value));
  else if (typeof value === 'number')
    emit(Number.isFinite(value) ? String(value) : Number.isNaN(value) ? 'NaN' : value > 0 ? 'Infinity' : '-Infinity');
  else if (value === null || typeof value !== 'object') emit(String(value));
  else if (Array.isArray(value)) renderEntries(value.entries(), false, out, budget, emit);
  else renderEntries(Object.entries(value), true, out, budget, emit);
}

function renderEntries(
  entries: Iterable<[PathSegment, unknown]>,
  keyed: boolean,
  out: string[],
  budget: { left: number },
  emit: (s: string) => void,
): void {
  emit(keyed ? '{' : '[');
  let first = true;
  for (const [k, v] of entries) {
    if (budget.left <= 0) return;
    if (!first) emit(',');
    first = false;
    if (keyed) emit(`${JSON.stringify(String(k).slice(0, Math.max(budget.left, 0)))}:`);
    render(v, out, budget);
  }
  emit(keyed ? '}' : ']');
}

const GATEWAY_API_GROUPS = new Set(['gateway.networking.k8s.io', 'gateway.networking.x-k8s.io']);

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fieldPath(e: ErrorObject): string {
  const base = e.instancePath
    .split('/')
    .slice(1)
    .map((p) => (/^\d+$/.test(p) ? `[${p}]` : `.${p}`))
    .join('')
    .replace(/^\./, '');
  if (e.keyword === 'required') {
    const missing = (e.params as { missingProperty: string }).missingProperty;
    return base ? `${base}.${missing}` : missing;
  }
  return base || '(root)';
}

function describeError(e: ErrorObject): string {
  switch (e.keyword) {
    case 'enum':
      return `must be one of ${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')} (got ${preview(e.data)})`;
    case 'type':
      return `must be ${[(e.params as { type: string | string[] }).type].flat().join(' or ')} (got ${preview(e.data)})`;
    case 'required':
      return 'is required';
    case 'pattern':
      return `has an invalid format (got ${preview(e.data)})`;
    default:
      return `${e.message ?? 'is invalid'} (got ${preview(e.data)})`;
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
