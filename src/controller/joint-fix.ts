import { compareFindings } from '../analysis/analyze.js';
import { fixChangesSomething } from '../fix/apply-fixes.js';
import { fixOverlayToFixedPoint, type OverlayFixedPoint } from '../fix/fixed-point.js';
import { patchChangesNothing } from '../fix/no-op-patches.js';
import type { LoadedObject } from '../model/decode.js';
import { objectKey, refKey } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject } from '../model/types.js';
import type { Finding, Fix, ResourcePatch } from '../rules/types.js';
import { affectedSubjects } from './affected.js';
import type { FindingGroup, JoinedFix } from './remediation.js';

/**
 * The operator's fix of a finding group, computed as `analyze --fix` computes fixes (src/fix/fixed-point.ts):
 * every fix that writes one of the group's objects is applied with the group's, the result (created objects
 * included) is re-analyzed with its neighbourhood in the live view, and that repeats to a fixed point within
 * a bound. The group then carries, for each object, the one patch that takes it from live to converged.
 */

export interface JointFixContext {
  /** The live view. Overlaid with the objects as the fixes leave them while those are analyzed, then put back (synchronously). */
  index: MeshIndex;
  /** The findings meshmedic would fix on these subjects, judged on `index` as it is at the call (each subject's rules not in Observe). */
  findingsOf: (subjects: KubeObject[]) => Finding[];
  /** Another rule's finding whose fix a person declined there (rejected, rolled back, undone by hand): never joined. */
  declined?: (f: Finding) => boolean;
  maxPasses?: number;
}

/** Runs fn with objects put into the index, then puts the index back as it was (synchronously: no other work sees it). */
export function withTemporarily<T>(index: MeshIndex, objects: LoadedObject[], fn: () => T): T {
  const previous = objects.map((o) => index.get(objectKey(o.object)));
  for (const o of objects) index.upsert(o);
  try {
    return fn();
  } finally {
    objects.forEach((o, i) => {
      const before = previous[i];
      if (before) index.upsert(before);
      else index.remove(objectKey(o.object));
    });
  }
}

/** Whether a group's fix would change anything (as fixChangesSomething says of a finding's). */
function changesSomething(group: Pick<FindingGroup, 'patches' | 'create'>): boolean {
  return group.patches.some((p) => p.patch.some((op) => op.op !== 'test')) || group.create.length > 0;
}

/** The objects (by objectKey) a fix writes: the targets of its patches and the objects it creates. */
function writes(fix: Pick<Fix, 'patches' | 'create'>): string[] {
  return [...fix.patches.map((p) => refKey(p.target)), ...fix.create.map(objectKey)];
}

/** The subjects whose findings can write these objects: the objects themselves and what affected.ts traces from them. */
function subjectsAround(keys: Iterable<string>, index: MeshIndex): Set<string> {
  const out = new Set<string>();
  for (const k of keys) {
    const o = index.get(k)?.object;
    if (o) for (const s of affectedSubjects(o, index)) out.add(s);
  }
  return out;
}

/**
 * The findings of one pass that belong to the joint fix: those whose fix writes one of `objects`, which
 * grows with what they write too (and with the subjects around it), so fixes that share an object are one.
 */
function jointFindings(ctx: JointFixContext, objects: Set<string>, seeds: Set<string>): Finding[] {
  const analyzed = new Set<string>();
  const found: Finding[] = [];
  const kept = new Set<Finding>();
  let pending = new Set([...seeds, ...subjectsAround(objects, ctx.index)]);
  while (pending.size > 0) {
    const subjects = [...pending].flatMap((k) => ctx.index.get(k)?.object ?? []);
    for (const k of pending) analyzed.add(k);
    found.push(...ctx.findingsOf(subjects).filter(fixChangesSomething));
    const added: string[] = [];
    for (let grew = true; grew;) {
      grew = false;
      for (const f of found) {
        if (kept.has(f) || !writes(f.fix).some((k) => objects.has(k))) continue;
        kept.add(f);
        grew = true;
        for (const k of writes(f.fix).filter((x) => !objects.has(x))) {
          added.push(k);
          objects.add(k);
        }
      }
    }
    pending = new Set([...subjectsAround(added, ctx.index)].filter((k) => !analyzed.has(k)));
  }
  return [...kept].sort(compareFindings);
}

function overlaid(index: MeshIndex, overlay: ReadonlyMap<string, KubeObject>): LoadedObject[] {
  return [...overlay].map(([k, object]) => ({ object, source: index.get(k)?.source ?? { file: 'fix', line: 0 } }));
}

const sameFinding = (f: Finding, g: FindingGroup): boolean =>
  f.rule === g.rule && refKey(f.resource) === refKey(g.resource);

/** The other rules' findings whose fixes went into the joint fix. */
function joinedOf(r: OverlayFixedPoint, group: FindingGroup): JoinedFix[] {
  const out = new Map<string, JoinedFix>();
  for (const f of [...r.applied.map((a) => a.finding), ...r.createdBy.values()]) {
    if (sameFinding(f, group)) continue;
    const k = `${f.rule}|${refKey(f.resource)}`;
    const j = out.get(k);
    out.set(k, {
      rule: f.rule,
      resource: f.resource,
      proposeOnly: (j?.proposeOnly ?? false) || (f.fix.proposeOnly ?? false),
    });
  }
  return [...out.values()];
}

/** For each existing object, the patches applied to it, in order, as one patch (the group's objects first). */
function jointPatches(
  r: OverlayFixedPoint,
  group: FindingGroup,
  live: (key: string) => KubeObject | undefined,
): ResourcePatch[] {
  const byKey = new Map<string, ResourcePatch>();
  for (const p of group.patches) byKey.set(refKey(p.target), { target: p.target, patch: [] });
  for (const { patch } of r.applied) {
    const k = refKey(patch.target);
    const joint = byKey.get(k) ?? { target: patch.target, patch: [] };
    joint.patch.push(...patch.patch);
    byKey.set(k, joint);
  }
  return [...byKey]
    .filter(([k, p]) => {
      const target = live(k);
      return p.patch.length > 0 && target !== undefined && !patchChangesNothing(target, p);
    })
    .map(([, p]) => p);
}

function rulesOf(findings: Iterable<{ rule: string }>): string {
  return [...new Set([...findings].map((f) => f.rule))].sort().join(', ');
}

/**
 * The group's fix computed jointly with every other fix that writes its objects, to a fixed point. A
 * group that nothing else touches and that needs one pass is returned as it is. When the fixes undo each
 * other, or do not settle within the bound, the group keeps its own fix and says why in `conflict`: it is
 * proposed, never applied.
 */
export function jointFix(group: FindingGroup, subject: KubeObject, ctx: JointFixContext): FindingGroup {
  if (!changesSomething(group)) return group;
  const { index } = ctx;
  const objects = new Set(writes(group));
  const seeds = new Set([objectKey(subject), ...subjectsAround(objects, index)]);
  const found: Finding[] = [];
  const declined = ctx.declined ?? (() => false);
  const own: JointFixContext = {
    ...ctx,
    findingsOf: (subjects) => ctx.findingsOf(subjects).filter((f) => sameFinding(f, group) || !declined(f)),
  };
  const analyze = (overlay: ReadonlyMap<string, KubeObject>): Finding[] => {
    const pass = withTemporarily(index, overlaid(index, overlay), () => jointFindings(own, objects, seeds));
    found.push(...pass);
    return pass;
  };
  const live = (key: string): KubeObject | undefined => index.get(key)?.object;
  const r = fixOverlayToFixedPoint(live, analyze, ctx.maxPasses);
  if (r.conflicts.length > 0) return { ...group, conflict: { reason: 'FixConflict', message: r.conflicts.join('; ') } };
  if (!r.converged) {
    return {
      ...group,
      conflict: {
        reason: 'FixNotConverged',
        message: `the fixes of ${rulesOf(found)} that write these objects had not settled after ${r.passes} passes`,
      },
    };
  }
  const joined = joinedOf(r, group);
  if (joined.length === 0 && r.passes <= 1) return group;
  const create = [...r.overlay].filter(([k]) => live(k) === undefined).map(([, o]) => o);
  return { ...group, patches: jointPatches(r, group, live), create, joined };
}
