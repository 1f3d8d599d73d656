import type { KubeObject, ObjectMeta } from './types.js';

/** The fields of a Secret that hold values: never kept, never shown. */
export const SECRET_VALUE_FIELDS = ['data', 'stringData'] as const;

export interface SecretView {
  /** What meshmedic keeps of the Secret: apiVersion, kind, name, namespace, labels, type and the key names. */
  view: KubeObject;
  /** Value fields that are not a mapping of key names to strings (their content is never shown). */
  malformed: string[];
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * A Secret reduced to what rules may read: metadata (without annotations, which can carry
 * kubectl's last-applied-configuration with the data), `type`, and the sorted names of the keys of
 * data and stringData. No value is copied. Applied to a view, it gives the same view.
 */
export function secretView(value: Record<string, unknown>): SecretView {
  const keys = new Set<string>();
  const malformed: string[] = [];
  const prior = value['keys'];
  if (Array.isArray(prior) && !SECRET_VALUE_FIELDS.some((f) => f in value))
    for (const k of prior) if (typeof k === 'string') keys.add(k);
  for (const field of SECRET_VALUE_FIELDS) {
    const d = value[field];
    if (d === undefined || d === null) continue;
    if (!isRecord(d) || Object.values(d).some((v) => typeof v !== 'string' && v !== null)) {
      malformed.push(field);
      continue;
    }
    for (const k of Object.keys(d)) keys.add(k);
  }
  const view: KubeObject = {
    apiVersion: value['apiVersion'] as string,
    kind: value['kind'] as string,
    metadata: metadataOf(value['metadata']),
  };
  if (value['type'] !== undefined) view['type'] = value['type'];
  view['keys'] = [...keys].sort();
  return { view, malformed };
}

function metadataOf(m: unknown): ObjectMeta {
  const meta = isRecord(m) ? m : {};
  const out: ObjectMeta = { name: meta['name'] as string };
  if (meta['namespace'] !== undefined) out.namespace = meta['namespace'] as string;
  if (meta['labels'] !== undefined) out.labels = meta['labels'] as Record<string, string>;
  for (const k of ['uid', 'resourceVersion'] as const) if (typeof meta[k] === 'string') out[k] = meta[k];
  return out;
}

/** What a cluster would be given of a Secret, for the oracle: name, namespace and type, no data. */
export function secretShell(value: Record<string, unknown>): KubeObject {
  const { view } = secretView(value);
  const shell: KubeObject = {
    apiVersion: view.apiVersion,
    kind: view.kind,
    metadata: {
      name: view.metadata.name,
      ...(view.metadata.namespace !== undefined ? { namespace: view.metadata.namespace } : {}),
    },
  };
  if (typeof view['type'] === 'string') shell['type'] = view['type'];
  return shell;
}

/** A Secret's value without its value fields (for checks that could show a value). */
export function withoutSecretValues(value: Record<string, unknown>): Record<string, unknown> {
  const out = { ...value };
  for (const f of SECRET_VALUE_FIELDS) delete out[f];
  return out;
}
