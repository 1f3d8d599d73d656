import { createHash } from 'node:crypto';
import fastJsonPatch from 'fast-json-patch';
import { describeRef } from '../model/kinds.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import type { Finding, ResourcePatch, Severity } from '../rules/types.js';
import type { RepositoryEdit } from './repository-edit.js';

const { applyPatch, deepClone } = fastJsonPatch;

export const REMEDIATION_API_VERSION = 'meshmedic.io/v1alpha1';
export const APPROVE_ANNOTATION = 'meshmedic.io/approve';
export const REJECT_ANNOTATION = 'meshmedic.io/reject';
export const ROLLBACK_ANNOTATION = 'meshmedic.io/rollback';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'meshmedic' };

/** The synthetic kind of access-log subjects (src/controller/evidence-subjects.ts), which no API server holds. */
const EVIDENCE_TARGET_KIND = 'AccessLogEvidence';

export type Phase =
  'Proposed' | 'Approved' | 'Applied' | 'Rejected' | 'Superseded' | 'Failed' | 'RolledBack' | 'Reverted' | 'Ignored';

/** All findings of one rule on one resource, merged: that is one remediation. */
export interface FindingGroup {
  rule: string;
  resource: ObjectRef;
  severity: Severity;
  message: string;
  findings: Finding[];
  patches: ResourcePatch[];
  create: KubeObject[];
  proposeOnly: boolean;
  /** The remediation's name when it is not remediationName(rule, resource) (access-log evidence). */
  name?: string;
  /** Where the findings come from when not from the configuration: `access-logs` (src/controller/evidence-subjects.ts). */
  source?: 'access-logs';
  /** Other rules' findings whose fixes write the same objects: `patches` and `create` are their joint fix (src/controller/joint-fix.ts). */
  joined?: JoinedFix[];
  /** Why the fix is never applied, approved or not: the rules' fixes undo each other, or did not settle. */
  conflict?: FixConflict;
}

/** Another rule's finding whose fix went into a group's joint fix. */
export interface JoinedFix {
  rule: string;
  resource: ObjectRef;
  proposeOnly: boolean;
}

export interface FixConflict {
  /** FixConflict: two rules want different values for one field. FixNotConverged: the fixes kept changing within the bound. */
  reason: 'FixConflict' | 'FixNotConverged';
  message: string;
}

const SEVERITY_RANK: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export function groupFindings(findings: Finding[]): FindingGroup[] {
  const groups = new Map<string, FindingGroup>();
  for (const f of findings) {
    const key = `${f.rule}|${f.resource.kind}|${f.resource.namespace ?? ''}|${f.resource.name}`;
    const g = groups.get(key);
    if (!g) {
      groups.set(key, {
        rule: f.rule,
        resource: f.resource,
        severity: f.severity,
        message: f.message,
        findings: [f],
        patches: f.fix.patches.map((p) => ({ target: p.target, patch: [...p.patch] })),
        create: [...f.fix.create],
        proposeOnly: f.fix.proposeOnly ?? false,
      });
      continue;
    }
    g.findings.push(f);
    if (SEVERITY_RANK[f.severity] < SEVERITY_RANK[g.severity]) g.severity = f.severity;
    g.message = `${g.message}\n${f.message}`;
    for (const p of f.fix.patches) {
      const same = g.patches.find((x) => describeRef(x.target) === describeRef(p.target));
      if (same) same.patch.push(...p.patch);
      else g.patches.push({ target: p.target, patch: [...p.patch] });
    }
    g.create.push(...f.fix.create);
    g.proposeOnly ||= f.fix.proposeOnly ?? false;
  }
  return [...groups.values()];
}

/** The stable name of the one remediation for (rule, resource). */
export function remediationName(rule: string, resource: ObjectRef): string {
  const raw = `${rule}-${resource.kind}-${resource.name}`.toLowerCase();
  const base = raw.replace(/[^a-z0-9-]+/g, '-');
  // A name that had to be changed (reviews.v1 -> reviews-v1) or cut gets a hash of the original, so two
  // targets never share one remediation.
  if (base === raw && base.length <= 63) return base;
  const hash = createHash('sha256').update(raw).digest('hex').slice(0, 8);
  return `${base.slice(0, 54).replace(/-+$/, '')}-${hash}`;
}

/** The name of the remediation of a finding group. */
export function groupRemediationName(group: FindingGroup): string {
  return group.name ?? remediationName(group.rule, group.resource);
}

/** A canonical fingerprint of what a fix does: equal fingerprints, equal changes. */
export function fixFingerprint(patches: ResourcePatch[], create: KubeObject[]): string {
  return createHash('sha256').update(canonical({ patches, create })).digest('hex').slice(0, 16);
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v);
}

export function sameContent(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}

/** The objects as they would be after the fix, for review (`kubectl get mmr -o yaml`). */
export function objectsAfter(group: FindingGroup, live: (ref: ObjectRef) => KubeObject | undefined): KubeObject[] {
  const out: KubeObject[] = [];
  for (const p of group.patches) {
    const obj = live(p.target);
    if (!obj) continue;
    const copy = deepClone(obj) as KubeObject;
    try {
      applyPatch(copy, p.patch, true, true);
    } catch {
      continue;
    }
    delete (copy.metadata as { managedFields?: unknown }).managedFields;
    out.push(copy);
  }
  return [...out, ...group.create];
}

/** What a reviewer must know about a fix computed with other rules' fixes, or refused because they disagree. */
function jointEvidence(group: FindingGroup): string[] {
  const joined = (group.joined ?? []).map(
    (j) =>
      `note: computed and applied jointly with the ${j.rule} fix of ${describeRef(j.resource)} (they write the same objects): applying this proposal applies both`,
  );
  return [...joined, ...(group.conflict ? [`conflict: ${group.conflict.message}`] : [])];
}

/** The desired MeshRemediation spec for a finding group (the controller compares before writing). */
export function remediationObject(
  group: FindingGroup,
  subject: KubeObject,
  after: KubeObject[],
  repositoryEdits: readonly RepositoryEdit[] = [],
): KubeObject {
  return {
    apiVersion: REMEDIATION_API_VERSION,
    kind: 'MeshRemediation',
    metadata: {
      name: groupRemediationName(group),
      namespace: group.resource.namespace ?? 'default',
      labels: {
        ...MANAGED_BY,
        'meshmedic.io/rule': group.rule,
        'meshmedic.io/target-kind': group.resource.kind,
        ...(group.source ? { 'meshmedic.io/source': group.source } : {}),
      },
      annotations: { 'meshmedic.io/fingerprint': fixFingerprint(group.patches, group.create) },
      // Owned by its target (same namespace): Kubernetes' garbage collector deletes it with the target.
      ...(subject.metadata.uid &&
      subject.kind !== EVIDENCE_TARGET_KIND &&
      subject.metadata.namespace === (group.resource.namespace ?? 'default')
        ? {
            ownerReferences: [
              {
                apiVersion: subject.apiVersion,
                kind: subject.kind,
                name: subject.metadata.name,
                uid: subject.metadata.uid,
              },
            ],
          }
        : {}),
    },
    spec: {
      rule: group.rule,
      severity: group.severity,
      targetRef: `${group.resource.kind}/${group.resource.name}`,
      target: {
        apiVersion: subject.apiVersion,
        kind: subject.kind,
        namespace: subject.metadata.namespace,
        name: subject.metadata.name,
        uid: subject.metadata.uid,
        resourceVersion: subject.metadata.resourceVersion,
      },
      message: group.message.slice(0, 4000),
      evidence: group.findings
        .flatMap((f) => [
          `symptom: ${f.symptom}`,
          ...f.related.map((r) => `involves ${describeRef(r)}`),
          ...(f.versionNote ? [`version: ${f.versionNote}`] : []),
          ...(f.fix.notes ?? []).map((n) => `note: ${n}`),
        ])
        .concat(jointEvidence(group)),
      patches: group.patches,
      create: group.create,
      after,
      ...(repositoryEdits.length > 0 ? { repositoryEdits } : {}),
      proposeOnly: group.proposeOnly,
    },
  };
}
