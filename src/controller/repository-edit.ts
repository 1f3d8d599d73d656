import { createTwoFilesPatch } from 'diff';
import { dump } from 'js-yaml';
import { applyOpsToDocumentText, YamlEditError } from '../fix/yaml-edit.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import type { ResourcePatch } from '../rules/types.js';
import { gitOpsOwner, LIVE_ONLY_ANNOTATIONS, LIVE_ONLY_LABELS, type GitOpsOwner } from './gitops.js';

/** The edit to commit for one GitOps-managed target of a fix: who applies it, and the change as a diff. */
export interface RepositoryEdit {
  target: ObjectRef;
  managedBy: Omit<GitOpsOwner, 'marker'>;
  /** A unified diff of the object's manifest (as the repository would hold it), or why there is none. */
  diff?: string;
  note?: string;
}

const SERVER_FIELDS = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
] as const;

/** The live object as a repository holds it: no status, no server-set metadata, no GitOps or kubectl markers. */
export function manifestOf(live: KubeObject): KubeObject {
  const { status: _status, ...rest } = structuredClone(live);
  const metadata = rest.metadata as unknown as Record<string, unknown>;
  for (const f of SERVER_FIELDS) delete metadata[f];
  for (const [field, drop] of [
    ['annotations', LIVE_ONLY_ANNOTATIONS],
    ['labels', LIVE_ONLY_LABELS],
  ] as const) {
    const map = metadata[field] as Record<string, string> | undefined;
    if (!map) continue;
    for (const k of drop) delete map[k];
    if (Object.keys(map).length === 0) delete metadata[field];
  }
  return rest;
}

/**
 * For each target of a fix that a GitOps controller manages, the same minimal edit as a diff against its
 * manifest: the operator does not write those (the controller would revert it), a team commits this. The
 * diff is made on the manifest as YAML, the patch applied in place (yaml-edit.ts), so it shows only the
 * lines the fix changes; find the file that defines the object in the owner's source and apply the same change.
 */
export function repositoryEdits(
  patches: readonly ResourcePatch[],
  live: (ref: ObjectRef) => KubeObject | undefined,
): RepositoryEdit[] {
  const edits: RepositoryEdit[] = [];
  for (const p of patches) {
    const obj = live(p.target);
    const owner = obj ? gitOpsOwner(obj) : undefined;
    if (!obj || !owner) continue;
    const { marker: _marker, ...managedBy } = owner;
    const before = dump(manifestOf(obj), { noRefs: true, lineWidth: -1 });
    const path = `${obj.metadata.namespace ?? '_cluster'}/${obj.kind.toLowerCase()}-${obj.metadata.name}.yaml`;
    try {
      const after = applyOpsToDocumentText(before, [], p.patch);
      edits.push({
        target: refOf(obj),
        managedBy,
        diff: createTwoFilesPatch(`a/${path}`, `b/${path}`, before, after, undefined, undefined, { context: 3 }),
      });
    } catch (err) {
      if (!(err instanceof YamlEditError)) throw err;
      edits.push({
        target: refOf(obj),
        managedBy,
        note: `no diff for ${describeRef(p.target)}: ${err.message}; spec.patches holds the change`,
      });
    }
  }
  return edits;
}
