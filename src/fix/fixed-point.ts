import { objectKey } from '../model/kinds.js';
import type { KubeObject } from '../model/types.js';
import type { Finding } from '../rules/types.js';
import { applyFixes, fixChangesSomething, type FixResult } from './apply-fixes.js';

export const MAX_FIX_PASSES = 5;

export interface FixedPointResult extends FixResult {
  /** Passes that changed something (1 when the first fixes leave nothing to fix). */
  passes: number;
  /** False when fixes kept changing the input after MAX_FIX_PASSES, or undid each other. */
  converged: boolean;
  /** Rules whose fixes undo each other's (a field two rules want with different values): said, never looped. */
  conflicts: string[];
}

/**
 * Applies the findings' fixes, re-analyzes the result (generated objects included) and repeats until
 * nothing is left to fix, so that one `--fix` reaches the fixed point a second one would. Fixes that
 * bring back an earlier state (two rules disagreeing on one field) stop the loop and are reported.
 */
export function fixToFixedPoint(objects: KubeObject[], analyzeObjects: (objects: KubeObject[]) => Finding[], maxPasses = MAX_FIX_PASSES): FixedPointResult {
  const original = new Set(objects.map(objectKey));
  let state = objects;
  const seen = new Map<string, number>([[JSON.stringify(state), 0]]);
  const failures: FixResult['failures'] = [];
  const changed = new Set<string>();
  const conflicts: string[] = [];
  let passes = 0;
  let converged = false;
  const rulesByPass: string[][] = [];
  while (passes < maxPasses) {
    const fixable = analyzeObjects(state).filter(fixChangesSomething);
    if (fixable.length === 0) {
      converged = true;
      break;
    }
    const r = applyFixes(state, fixable);
    failures.push(...r.failures);
    const next = [...r.objects, ...r.created];
    const key = JSON.stringify(next);
    if (r.changed.size === 0 && r.created.length === 0) {
      converged = true; // what is left cannot be applied (its failures are reported)
      break;
    }
    rulesByPass.push([...new Set(fixable.map((f) => f.rule))]);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      const involved = [...new Set(rulesByPass.slice(earlier).flat())].sort();
      conflicts.push(`the fixes of ${involved.join(' and ')} undo each other: the input came back to its state after pass ${earlier}; stopped there`);
      break;
    }
    for (const k of r.changed) changed.add(k);
    state = next;
    passes++;
    seen.set(key, passes);
  }
  return {
    objects: state.filter((o) => original.has(objectKey(o))),
    created: state.filter((o) => !original.has(objectKey(o))),
    changed: new Set([...changed].filter((k) => original.has(k))),
    failures,
    passes,
    converged: converged && conflicts.length === 0,
    conflicts,
  };
}
