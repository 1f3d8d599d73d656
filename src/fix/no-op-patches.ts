import fastJsonPatch from 'fast-json-patch';
import { describeRef, refKey } from '../model/kinds.js';
import type { KubeObject } from '../model/types.js';
import type { Finding, ResourcePatch } from '../rules/types.js';

const { applyPatch, compare, deepClone } = fastJsonPatch;

/** Whether applying the patch to `target` would leave it as it is (a patch that cannot apply is not a no-op: it is reported when applied). */
export function patchChangesNothing(target: KubeObject, p: ResourcePatch): boolean {
  const trial = deepClone(target) as KubeObject;
  try {
    applyPatch(trial, p.patch, true, true);
  } catch {
    return false;
  }
  return compare(target, trial).length === 0;
}

/**
 * The finding without the patches that would change nothing (a fix that changes nothing is never
 * proposed); the fix's notes say what was dropped. `lookup` finds a patch's target by refKey.
 */
export function withoutNoOpPatches(f: Finding, lookup: (key: string) => KubeObject | undefined): Finding {
  const noOps = f.fix.patches.filter((p) => {
    const target = lookup(refKey(p.target));
    return target !== undefined && patchChangesNothing(target, p);
  });
  if (noOps.length === 0) return f;
  const notes = [
    ...(f.fix.notes ?? []),
    ...noOps.map((p) => `no patch of ${describeRef(p.target)}: it would change nothing`),
  ];
  return { ...f, fix: { ...f.fix, patches: f.fix.patches.filter((p) => !noOps.includes(p)), notes } };
}
