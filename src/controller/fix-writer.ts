import fastJsonPatch from 'fast-json-patch';
import { escapePathComponent } from 'fast-json-patch';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import type { PatchOperation } from '../rules/types.js';
import type { KubeClient } from '../kube/kube-client.js';
import { writeGuard } from './guards.js';
import { MANAGED_BY, type FindingGroup } from './remediation.js';

const { applyPatch, deepClone, getValueByPointer } = fastJsonPatch;

/** What a fix changed on one object, enough to put it back. Stored in the annotation meshmedic.io/fixed-<rule>. */
export interface FixRecord {
  rule: string;
  time: string;
  remediation?: string;
  /** Who approved it (the field manager of the approval), or "meshmedic (Enforce)". */
  approvedBy?: string;
  changes: { path: string; existed: boolean; before?: unknown; after?: unknown }[];
  created: ObjectRef[];
}

export function fixAnnotation(rule: string): string {
  return `meshmedic.io/fixed-${rule.toLowerCase()}`;
}

export function rolledBackAnnotation(rule: string): string {
  return `meshmedic.io/rolled-back-${rule.toLowerCase()}`;
}

export class GuardError extends Error {}

/** The resourceVersion of each object (by describeRef) a fix was computed from. */
export type ResourceVersions = ReadonlyMap<string, string>;

/** A fix target changed between the computation of the fix (and its review) and the write. */
export class TargetChangedError extends Error {
  constructor(target: string, expected: string, actual: string | undefined) {
    super(
      `${target} changed since the fix was computed (resourceVersion ${expected}, now ${actual ?? 'gone'}): nothing written; the fix is computed again`,
    );
  }
}

function existingRecord(live: KubeObject, rule: string): FixRecord | undefined {
  const raw = live.metadata.annotations?.[fixAnnotation(rule)];
  if (!raw) return undefined;
  try {
    return JSON.parse(raw) as FixRecord;
  } catch {
    return undefined;
  }
}

/**
 * A second application of a rule's fix (after a revert by hand) keeps the first record's "before" for the
 * paths it already holds: the record always leads back to the state before meshmedic first wrote.
 */
function keepFirstBefore(previous: FixRecord | undefined, changes: FixRecord['changes']): FixRecord['changes'] {
  if (!previous) return changes;
  return changes.map((c) => {
    const first = previous.changes.find((p) => p.path === c.path);
    if (!first) return c;
    const { before: _b, existed: _e, ...rest } = c;
    return { ...rest, existed: first.existed, ...(first.existed ? { before: first.before } : {}) };
  });
}

/**
 * How a fix recorded on an object was undone since, or undefined when it holds: the record removed, or a
 * field no longer what the fix wrote. Read from the cache; writes nothing.
 */
export function fixUndone(live: KubeObject, rule: string, remediation: string): string | undefined {
  const record = existingRecord(live, rule);
  if (!record) return `${describeRef(refOf(live))} no longer carries the ${fixAnnotation(rule)} record`;
  if (record.remediation !== undefined && record.remediation !== remediation)
    return `${describeRef(refOf(live))} carries the record of ${record.remediation}, not of this proposal`;
  for (const c of record.changes) {
    const now = valueAt(live, c.path);
    if (JSON.stringify(now.value) !== JSON.stringify(c.after))
      return `${describeRef(refOf(live))} field ${c.path} is ${now.existed ? JSON.stringify(now.value) : 'unset'}, the fix wrote ${JSON.stringify(c.after)}`;
  }
  return undefined;
}

function valueAt(obj: unknown, path: string): { existed: boolean; value?: unknown } {
  try {
    const v = getValueByPointer(obj, path) as unknown;
    return v === undefined ? { existed: false } : { existed: true, value: deepClone(v) };
  } catch {
    return { existed: false };
  }
}

/** The paths an operation list touches, normalised so that "-" appends are recorded as their array. */
function touchedPaths(ops: PatchOperation[]): string[] {
  const out: string[] = [];
  for (const op of ops) {
    if (op.op === 'test') continue;
    for (const p of [op.path, ...('from' in op && op.op === 'move' ? [op.from] : [])]) {
      const norm = p.endsWith('/-') ? p.slice(0, -2) : p;
      if (!out.some((x) => norm === x || norm.startsWith(`${x}/`))) out.push(norm);
    }
  }
  return out;
}

function annotationOps(obj: KubeObject, entries: Record<string, string | null>): PatchOperation[] {
  const ops: PatchOperation[] = [];
  const current = obj.metadata.annotations;
  if (!current && Object.values(entries).some((v) => v !== null))
    ops.push({ op: 'add', path: '/metadata/annotations', value: {} });
  for (const [k, v] of Object.entries(entries)) {
    const path = `/metadata/annotations/${escapePathComponent(k)}`;
    if (v === null) {
      if (current?.[k] !== undefined) ops.push({ op: 'remove', path });
    } else ops.push({ op: 'add', path, value: v });
  }
  return ops;
}

export interface ApplyOutcome {
  patched: KubeObject[];
  created: KubeObject[];
}

/**
 * Applies a fix the way a careful person would: every target read fresh and checked against the write
 * guards; a server-side dry run of every write first (the real schemas and admission webhooks judge it);
 * then JSON patches with `test` guards, attributed to field manager meshmedic, with a record of the
 * previous values on the target; created objects are server-side applied.
 */
export async function applyFix(
  client: KubeClient,
  group: FindingGroup,
  remediation: string | undefined,
  computedFrom?: ResourceVersions,
  approvedBy?: string,
): Promise<ApplyOutcome> {
  const time = new Date().toISOString();
  const plan: { target: KubeObject; ops: PatchOperation[] }[] = [];
  for (const p of group.patches) {
    const live = await client.read(p.target);
    if (!live) throw new Error(`${describeRef(p.target)} no longer exists`);
    const guard = writeGuard(live);
    if (guard) throw new GuardError(`${describeRef(p.target)} is ${guard}`);
    const expected = computedFrom?.get(describeRef(p.target));
    if (expected !== undefined && live.metadata.resourceVersion !== expected)
      throw new TargetChangedError(describeRef(p.target), expected, live.metadata.resourceVersion);
    const after = deepClone(live) as KubeObject;
    applyPatch(after, p.patch, true, true);
    const record: FixRecord = {
      rule: group.rule,
      time,
      ...(remediation ? { remediation } : {}),
      ...(approvedBy ? { approvedBy } : {}),
      changes: keepFirstBefore(
        existingRecord(live, group.rule),
        touchedPaths(p.patch).map((path) => {
          const b = valueAt(live, path);
          const a = valueAt(after, path);
          return {
            path,
            existed: b.existed,
            ...(b.existed ? { before: b.value } : {}),
            ...(a.existed ? { after: a.value } : {}),
          };
        }),
      ),
      created: describeRef(p.target) === describeRef(group.resource) ? group.create.map(refOf) : [],
    };
    // The write is conditioned on the version the fix was computed from: a target changed since (after
    // the review) makes the API server answer 409 Conflict instead of taking unreviewed content.
    const precondition: PatchOperation[] =
      expected !== undefined ? [{ op: 'replace', path: '/metadata/resourceVersion', value: expected }] : [];
    const ops = [
      ...precondition,
      ...p.patch,
      ...annotationOps(live, {
        [fixAnnotation(group.rule)]: JSON.stringify(record),
        [rolledBackAnnotation(group.rule)]: null,
      }),
    ];
    plan.push({ target: live, ops });
  }
  const toCreate = group.create.map((c) => ({
    ...c,
    metadata: {
      ...c.metadata,
      labels: { ...c.metadata.labels, ...MANAGED_BY },
      annotations: {
        ...c.metadata.annotations,
        'meshmedic.io/created-for': `${group.rule}/${group.resource.kind}/${group.resource.namespace ?? ''}/${group.resource.name}`,
      },
    },
  }));
  for (const step of plan) await client.jsonPatch(refOf(step.target), step.ops, true);
  for (const c of toCreate) await client.apply(c, { dryRun: true });
  const result: ApplyOutcome = { patched: [], created: [] };
  for (const step of plan) result.patched.push(await client.jsonPatch(refOf(step.target), step.ops));
  for (const c of toCreate) result.created.push(await client.apply(c));
  return result;
}

/**
 * Puts back what a fix changed, if nothing else changed those fields since (otherwise it refuses, naming
 * the field), deletes the objects it created, and marks the target as rolled back for that rule.
 */
export async function rollbackFix(
  client: KubeClient,
  target: ObjectRef,
  rule: string,
  remediation: string,
): Promise<KubeObject> {
  const live = await client.read(target);
  if (!live) throw new Error(`${describeRef(target)} no longer exists`);
  const record = existingRecord(live, rule);
  if (!record) throw new Error(`${describeRef(target)} carries no ${fixAnnotation(rule)} record: nothing to roll back`);
  // Only the operator's own record of this very proposal is undone: never another proposal's fix.
  if (record.remediation !== remediation)
    throw new Error(
      `${describeRef(target)} carries the ${fixAnnotation(rule)} record of ${record.remediation ?? 'an unnamed fix'}, not of ${remediation}: not rolled back`,
    );
  const ops: PatchOperation[] = [];
  for (const c of record.changes) {
    const now = valueAt(live, c.path);
    if (JSON.stringify(now.value) !== JSON.stringify(c.after)) {
      throw new Error(
        `${describeRef(target)} field ${c.path} changed after the fix (now ${JSON.stringify(now.value)}): not rolled back`,
      );
    }
  }
  for (const c of [...record.changes].reverse()) {
    if (c.existed) ops.push({ op: 'add', path: c.path, value: c.before });
    else if (valueAt(live, c.path).existed) ops.push({ op: 'remove', path: c.path });
  }
  ops.push(
    ...annotationOps(live, { [fixAnnotation(rule)]: null, [rolledBackAnnotation(rule)]: new Date().toISOString() }),
  );
  await client.jsonPatch(target, ops, true);
  const restored = await client.jsonPatch(target, ops);
  for (const c of record.created) await client.delete(c);
  return restored;
}
