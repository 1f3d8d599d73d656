import { objectKey, refKey } from '../model/kinds.js';
import type { KubeObject } from '../model/types.js';
import type { Finding, ResourcePatch } from '../rules/types.js';
import { applyFixes, fixChangesSomething, type FixResult } from './apply-fixes.js';

export const MAX_FIX_PASSES = 5;

export interface FixedPointResult extends FixResult {
  /** Passes that changed something (1 when the first fixes leave nothing to fix). */
  passes: number;
  /** False when fixes kept changing the input after MAX_FIX_PASSES, or undid each other. */
  converged: boolean;
  /** Rules whose fixes undo each other's (a field two rules want with different values): said, never looped. */
  conflicts: string[];
  /** Every patch the passes kept, in the order applied (replayed on the inputs, they give `objects`): for --write. */
  applied?: AppliedPatch[];
  /** The finding whose fix created each object of `created`, by objectKey. */
  createdBy?: Map<string, Finding>;
}

/** One patch a pass applied, in the order applied: replayed in order on the object as it was, they give the fixed point. */
export interface AppliedPatch {
  pass: number;
  finding: Finding;
  patch: ResourcePatch;
}

export interface OverlayFixedPoint {
  /** The objects the fixes changed or created, by objectKey, as they left them (in the order first touched). */
  overlay: Map<string, KubeObject>;
  /** Keys of the existing objects the fixes patched. */
  changed: Set<string>;
  /** Every patch of the passes kept, in order. */
  applied: AppliedPatch[];
  /** The finding whose fix created each object of the overlay that did not exist. */
  createdBy: Map<string, Finding>;
  failures: FixResult['failures'];
  passes: number;
  converged: boolean;
  conflicts: string[];
}

/** The objects a pass's fixes touch (their patch targets and the objects they would create), as the fixes left them so far. */
function touchedBy(
  findings: Finding[],
  overlay: ReadonlyMap<string, KubeObject>,
  base: (key: string) => KubeObject | undefined,
): KubeObject[] {
  const keys = new Set(
    findings.flatMap((f) => [...f.fix.patches.map((p) => refKey(p.target)), ...f.fix.create.map(objectKey)]),
  );
  return [...keys].flatMap((k) => overlay.get(k) ?? base(k) ?? []);
}

/** The state a pass leaves, as text: equal text, equal objects (entries that came back to what they were drop out). */
function stateKey(overlay: ReadonlyMap<string, KubeObject>, base: (key: string) => KubeObject | undefined): string {
  const differing = [...overlay]
    .map(([k, o]) => [k, JSON.stringify(o)] as const)
    .filter(([k, text]) => {
      const b = base(k);
      return b === undefined || JSON.stringify(b) !== text;
    })
    .sort(([a], [b]) => a.localeCompare(b));
  return JSON.stringify(differing);
}

function appliedIn(pass: number, findings: Finding[], failures: FixResult['failures']): AppliedPatch[] {
  return findings.flatMap((finding) =>
    finding.fix.patches
      .filter((patch) => !failures.some((x) => x.finding === finding && x.target === patch.target))
      .map((patch) => ({ pass, finding, patch })),
  );
}

/**
 * The fixed point over objects looked up in `base` (which is never changed): apply the fixes `analyze` finds
 * on the objects as the fixes left them so far (`overlay`), re-analyze, repeat until nothing is left to fix.
 * Fixes that bring back an earlier state (two rules disagreeing on one field) stop the loop and are reported.
 */
export function fixOverlayToFixedPoint(
  base: (key: string) => KubeObject | undefined,
  analyze: (overlay: ReadonlyMap<string, KubeObject>) => Finding[],
  maxPasses = MAX_FIX_PASSES,
): OverlayFixedPoint {
  let overlay = new Map<string, KubeObject>();
  const seen = new Map<string, number>([[stateKey(overlay, base), 0]]);
  const result: OverlayFixedPoint = {
    overlay,
    changed: new Set(),
    applied: [],
    createdBy: new Map(),
    failures: [],
    passes: 0,
    converged: false,
    conflicts: [],
  };
  const rulesByPass: string[][] = [];
  while (result.passes < maxPasses) {
    const fixable = analyze(overlay).filter(fixChangesSomething);
    if (fixable.length === 0) {
      result.converged = true;
      break;
    }
    const r = applyFixes(touchedBy(fixable, overlay, base), fixable);
    result.failures.push(...r.failures);
    if (r.changed.size === 0 && r.created.length === 0) {
      result.converged = true; // what is left cannot be applied (its failures are reported)
      break;
    }
    const next = new Map(overlay);
    for (const o of r.objects) if (r.changed.has(objectKey(o))) next.set(objectKey(o), o);
    for (const c of r.created) next.set(objectKey(c), c);
    rulesByPass.push([...new Set(fixable.map((f) => f.rule))]);
    const key = stateKey(next, base);
    const earlier = seen.get(key);
    if (earlier !== undefined) {
      const involved = [...new Set(rulesByPass.slice(earlier).flat())].sort();
      result.conflicts.push(
        `the fixes of ${involved.join(' and ')} undo each other: the input came back to its state after pass ${earlier}; stopped there`,
      );
      break;
    }
    for (const k of r.changed) result.changed.add(k);
    result.applied.push(...appliedIn(result.passes + 1, fixable, r.failures));
    for (const c of r.created) {
      const by = fixable.find((f) => f.fix.create.some((x) => objectKey(x) === objectKey(c)));
      if (by) result.createdBy.set(objectKey(c), by);
    }
    overlay = next;
    result.passes++;
    seen.set(key, result.passes);
  }
  result.overlay = overlay;
  result.converged &&= result.conflicts.length === 0;
  return result;
}

/**
 * Applies the findings' fixes, re-analyzes the result (generated objects included) and repeats until
 * nothing is left to fix, so that one `--fix` reaches the fixed point a second one would. Fixes that
 * bring back an earlier state (two rules disagreeing on one field) stop the loop and are reported.
 */
export function fixToFixedPoint(
  objects: KubeObject[],
  analyzeObjects: (objects: KubeObject[]) => Finding[],
  maxPasses = MAX_FIX_PASSES,
): FixedPointResult {
  // A key given twice is the later object (as in the index, and as kubectl apply would).
  const last = new Map(objects.map((o, i) => [objectKey(o), i]));
  const original = (key: string): KubeObject | undefined => {
    const i = last.get(key);
    return i === undefined ? undefined : objects[i];
  };
  const inputsWith = (overlay: ReadonlyMap<string, KubeObject>): KubeObject[] =>
    objects.map((o, i) => (last.get(objectKey(o)) === i ? (overlay.get(objectKey(o)) ?? o) : o));
  const createdIn = (overlay: ReadonlyMap<string, KubeObject>): KubeObject[] =>
    [...overlay].filter(([k]) => !last.has(k)).map(([, o]) => o);
  const r = fixOverlayToFixedPoint(
    original,
    (overlay) => analyzeObjects([...inputsWith(overlay), ...createdIn(overlay)]),
    maxPasses,
  );
  return {
    objects: inputsWith(r.overlay),
    created: createdIn(r.overlay),
    changed: new Set([...r.changed].filter((k) => last.has(k))),
    failures: r.failures,
    passes: r.passes,
    converged: r.converged,
    conflicts: r.conflicts,
    applied: r.applied,
    createdBy: r.createdBy,
  };
}
