import fastJsonPatch from 'fast-json-patch';
import { objectKey, refKey } from '../model/kinds.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import type { Finding } from '../rules/types.js';

const { applyPatch, deepClone } = fastJsonPatch;

export interface FixResult {
  /** Every input object, with the fixes applied (same order as the input). */
  objects: KubeObject[];
  /** Objects the fixes create (deduplicated, none that already exists). */
  created: KubeObject[];
  /** Keys of the input objects that changed. */
  changed: Set<string>;
  /** A patch that could not be applied (e.g. its `test` failed): said, not hidden. */
  failures: { finding: Finding; target: ObjectRef; error: string }[];
}

/** Whether a fix would change anything: a patch with more than `test` operations, or an object to create. */
export function fixChangesSomething(f: Finding): boolean {
  return f.fix.patches.some((p) => p.patch.some((op) => op.op !== 'test')) || f.fix.create.length > 0;
}

/** Applies the findings' fixes to copies of the objects. Each patch is all-or-nothing. */
export function applyFixes(objects: KubeObject[], findings: Finding[]): FixResult {
  const copies = objects.map((o) => deepClone(o) as KubeObject);
  const byKey = new Map(copies.map((o) => [objectKey(o), o]));
  const result: FixResult = { objects: copies, created: [], changed: new Set(), failures: [] };
  for (const f of findings) {
    for (const p of f.fix.patches) {
      const key = refKey(p.target);
      const target = byKey.get(key);
      if (!target) {
        result.failures.push({ finding: f, target: p.target, error: 'target object is not in the input' });
        continue;
      }
      const trial = deepClone(target) as KubeObject;
      try {
        applyPatch(trial, p.patch, true, true);
        Object.assign(target, trial);
        for (const k of Object.keys(target)) if (!(k in trial)) delete target[k];
        result.changed.add(key);
      } catch (err) {
        result.failures.push({
          finding: f,
          target: p.target,
          error: (err as Error).message.split('\n')[0] ?? 'patch failed',
        });
      }
    }
    for (const c of f.fix.create) {
      const key = objectKey(c);
      if (byKey.has(key)) continue;
      const copy = deepClone(c) as KubeObject;
      byKey.set(key, copy);
      result.created.push(copy);
    }
  }
  return result;
}
