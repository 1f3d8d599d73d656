import { analyze, type AnalyzeOptions } from '../analysis/analyze.js';
import { decodeDocuments } from '../model/decode.js';
import { describeRef, objectKey, refKey } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { ObjectRef } from '../model/types.js';
import { withTemporarily } from './joint-fix.js';
import type { Mode } from './policies.js';
import type { FindingGroup } from './remediation.js';
import { writesOnlyIn } from './remediation-identity.js';

/**
 * Why a fix must not be applied without a person (Enforce proposes it instead), or undefined. Only local,
 * settled fixes are applied automatically: a fix that changes who can see a host (exportTo) can break a
 * consumer meshmedic does not see; a fix that creates an object does so because something is absent,
 * and absence is what a half-applied `kubectl apply` looks like.
 */
export function enforceRefusal(group: Pick<FindingGroup, 'rule' | 'patches' | 'create'>): string | undefined {
  const visibility = group.patches.some((p) =>
    p.patch.some((op) => op.op !== 'test' && /^\/spec\/exportTo(\/|$)/.test(op.path)),
  );
  if (visibility)
    return `the ${group.rule} fix changes exportTo (who can reach the host): proposed for review, never applied automatically`;
  if (group.create.length > 0)
    return `the ${group.rule} fix creates ${group.create.map((c) => `${c.kind}/${c.metadata.name}`).join(', ')} because something is absent: proposed for review, never applied automatically`;
  return undefined;
}

/**
 * Why a fix must not be applied at all, even approved, or undefined: it writes outside the proposal's
 * namespace, or an object it creates is itself flagged by a rule (a TCP ServiceEntry without addresses
 * is the catch-all meshmedic exists to prevent). `index` is the live view; it is not changed.
 */
export function unsafeFix(
  group: FindingGroup,
  namespace: string,
  index: MeshIndex,
  options: AnalyzeOptions,
): { trigger: 'writesOutsideNamespace' | 'unsafeFix'; message: string } | undefined {
  if (!writesOnlyIn(group, namespace))
    return { trigger: 'writesOutsideNamespace', message: `the fix writes outside namespace ${namespace}` };
  if (group.create.length === 0) return undefined;
  const decoded = decodeDocuments(group.create.map((c, i) => ({ value: c, file: 'fix', line: i })));
  if (decoded.objects.length < group.create.length)
    return { trigger: 'unsafeFix', message: 'an object the fix creates is not valid input' };
  const flagged = withTemporarily(index, decoded.objects, () => {
    const created = new Set(decoded.objects.map((o) => objectKey(o.object)));
    const subjects = decoded.objects.map((o) => o.object);
    return analyze(index, options, subjects).findings.filter(
      (f) => f.severity !== 'info' && created.has(refKey(f.resource)),
    );
  });
  const f = flagged[0];
  return f
    ? {
        trigger: 'unsafeFix',
        message: `${describeRef(f.resource)}, which the fix would create, is itself flagged: ${f.rule} (${f.symptom}); write it by hand with what it lacks`,
      }
    : undefined;
}

/**
 * Why Enforce must not apply a joint fix (src/controller/joint-fix.ts) without a person, or undefined: it
 * carries another rule's fix, and that rule is proposed only, or not in Enforce where it found something.
 * `modeOf` is the mode the policies give a rule on a resource (undefined: no policy covers it).
 */
export function jointRefusal(
  group: Pick<FindingGroup, 'rule' | 'joined'>,
  modeOf: (rule: string, resource: ObjectRef) => Mode | undefined,
): string | undefined {
  for (const j of group.joined ?? []) {
    const why = j.proposeOnly
      ? `${j.rule} fixes are proposed only`
      : modeOf(j.rule, j.resource) !== 'Enforce'
        ? `${j.rule} is not in Enforce there`
        : undefined;
    if (why)
      return `the ${group.rule} fix is computed jointly with the ${j.rule} fix of ${describeRef(j.resource)} (they write the same objects), and ${why}: proposed for review, never applied automatically`;
  }
  return undefined;
}
