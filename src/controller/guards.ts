import type { KubeObject, ObjectRef } from '../model/types.js';
import { describeOwner, gitOpsOwner } from './gitops.js';

export const IGNORE_ANNOTATION = 'meshmedic.io/ignore';

/**
 * Why the operator must not write this object itself (it proposes instead), or undefined: the opt-out
 * annotation, or a GitOps controller that would revert the write (gitops.ts; its repository is where the
 * fix belongs, see repository-edit.ts).
 */
export function writeGuard(o: KubeObject): string | undefined {
  if (o.metadata.annotations?.[IGNORE_ANNOTATION] === 'true') return `annotated ${IGNORE_ANNOTATION}=true`;
  const owner = gitOpsOwner(o);
  return owner ? `managed by ${owner.tool} (${owner.marker})` : undefined;
}

/**
 * Why the operator must not write a fix's targets, for the first target that says so; a GitOps-managed one
 * says where the edit goes instead (the proposal's spec.repositoryEdits holds it as a diff).
 */
export function fixGuard(
  targets: readonly ObjectRef[],
  live: (ref: ObjectRef) => KubeObject | undefined,
): string | undefined {
  for (const t of targets) {
    const o = live(t);
    const why = o ? writeGuard(o) : undefined;
    if (!why || !o) continue;
    const owner = gitOpsOwner(o);
    return owner ? `${why}; commit the edit in spec.repositoryEdits to the source of ${describeOwner(owner)}` : why;
  }
  return undefined;
}
