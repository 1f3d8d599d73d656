import { DEFAULT_ISTIO_VERSION } from '../analysis/analyze.js';
import type { LogGroup } from '../evidence/aggregate.js';
import { explainGroups } from '../evidence/diagnose.js';
import { describeRef } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import { RULES } from '../rules/registry.js';
import { DEFAULT_PARAMETERS, type Finding } from '../rules/types.js';
import type { Effective } from './policies.js';
import { fixFingerprint, groupFindings, remediationName, type FindingGroup } from './remediation.js';

/**
 * The access-log evidence of one namespace as operator subjects. The operator evaluates rules per subject
 * (one group per rule per subject); log evidence has no Kubernetes object of its own, so each finding group
 * the evidence forms build (MM104/MM105/MM106/MM210, src/evidence) gets a synthetic subject:
 *
 *   kind AccessLogEvidence, apiVersion meshmedic.io/v1alpha1, namespace = the namespace whose pods logged it,
 *   name = the remediation's name `<rule>-logs-<kind>-<name>` of the object the fix creates or patches
 *   (e.g. mm104-logs-serviceentry-external-service-com), resourceVersion = the fix's fingerprint.
 *
 * The name depends only on (rule, fixed object), never on counts or times, so re-reading the logs finds the
 * same subject and, with an unchanged fix, writes nothing; it never collides with the remediation of a static
 * finding (no `-logs-`). The resourceVersion makes "rejected / deleted: not proposed again until the target
 * changes" mean "until the fix changes". Pure: no I/O.
 */
export const EVIDENCE_KIND = 'AccessLogEvidence';
export const EVIDENCE_API_VERSION = 'meshmedic.io/v1alpha1';

export interface EvidenceSubject {
  subject: KubeObject;
  group: FindingGroup;
}

export interface EvidenceInput {
  /** The namespace whose pods' logs were read. */
  namespace: string;
  groups: readonly LogGroup[];
  index: MeshIndex;
  /** What the policies say for the namespace (rules, modes, parameters, accessLogs). */
  effective: Effective | undefined;
  /** The operator's current static findings: a symptom they explain gets no evidence finding of the same rule. */
  staticFindings: readonly Finding[];
  /** Objects the policies exclude: no evidence fix touches them. */
  excluded?: (ref: ObjectRef) => boolean;
}

export interface EvidenceResult {
  /** By subject name. */
  subjects: Map<string, EvidenceSubject>;
  /** Findings whose fix would write outside the namespace: not proposed (reported in the operator's log). */
  elsewhere: Finding[];
  /** Findings whose fix touches an excluded object. */
  excluded: Finding[];
}

export function isEvidenceKey(subjectKey: string): boolean {
  return subjectKey.startsWith(`${EVIDENCE_KIND}/`);
}

export function evidenceKey(namespace: string, name: string): string {
  return `${EVIDENCE_KIND}/${namespace}/${name}`;
}

/** `<rule>-logs-<kind>-<name>`, at most 63 characters (hashed like remediationName). */
export function evidenceRemediationName(rule: string, resource: ObjectRef): string {
  return remediationName(rule, { ...resource, kind: `logs-${resource.kind}` });
}

function writesOnlyIn(f: Finding, namespace: string): boolean {
  return (
    f.resource.namespace === namespace &&
    f.fix.patches.every((p) => p.target.namespace === namespace) &&
    f.fix.create.every((c) => c.metadata.namespace === namespace)
  );
}

function writesNothing(f: Finding): boolean {
  return f.fix.patches.length === 0 && f.fix.create.length === 0;
}

function touched(f: Finding): ObjectRef[] {
  return [
    f.resource,
    ...f.fix.patches.map((p) => p.target),
    ...f.fix.create.map((c) => ({
      apiVersion: c.apiVersion,
      kind: c.kind,
      name: c.metadata.name,
      ...(c.metadata.namespace ? { namespace: c.metadata.namespace } : {}),
    })),
  ];
}

function findingKey(rule: string, resource: { kind: string; namespace?: string; name: string }): string {
  return `${rule}|${describeRef(resource)}`;
}

/**
 * The evidence findings of a namespace, one synthetic subject per (rule, fixed object). Only the access-log
 * forms count (the findings explainGroups builds from the log, ruleBasis `logs`), for rules the policies
 * enable, with fixes that stay in the namespace.
 */
export function evidenceSubjects(input: EvidenceInput): EvidenceResult {
  const out: EvidenceResult = { subjects: new Map(), elsewhere: [], excluded: [] };
  const eff = input.effective;
  if (!eff?.accessLogs || input.groups.length === 0) return out;
  const enabled = new Set(eff.rules.map((r) => r.id));
  const result = explainGroups(input.groups, {
    index: input.index,
    staticFindings: input.staticFindings,
    params: { ...DEFAULT_PARAMETERS, ...eff.params },
    istioVersion: eff.istioVersion ?? DEFAULT_ISTIO_VERSION,
    namespace: input.namespace,
    disabledRules: RULES.filter((r) => !enabled.has(r.id)).map((r) => r.id),
  });
  const fromLogs = new Set<string>();
  for (const d of result.diagnoses)
    if (d.ruleBasis === 'logs' && d.finding) fromLogs.add(findingKey(d.finding.rule, d.finding.resource));
  const onStatic = new Set(input.staticFindings.map((f) => findingKey(f.rule, f.resource)));
  const kept: Finding[] = [];
  for (const f of result.findings) {
    if (!fromLogs.has(findingKey(f.rule, f.resource)) || !enabled.has(f.rule)) continue;
    // A finding without a fix (MM210's) that a static finding already reports on the same object belongs to
    // that object's subject: a synthetic subject would propose the same nothing twice.
    if (writesNothing(f) && onStatic.has(findingKey(f.rule, f.resource))) continue;
    if (!writesOnlyIn(f, input.namespace)) out.elsewhere.push(f);
    else if (input.excluded && touched(f).some(input.excluded)) out.excluded.push(f);
    else kept.push(f);
  }
  for (const g of groupFindings(kept)) {
    const name = evidenceRemediationName(g.rule, g.resource);
    const group: FindingGroup = { ...g, name, source: 'access-logs' };
    const subject: KubeObject = {
      apiVersion: EVIDENCE_API_VERSION,
      kind: EVIDENCE_KIND,
      metadata: { name, namespace: input.namespace, resourceVersion: fixFingerprint(g.patches, g.create) },
    };
    out.subjects.set(name, { subject, group });
  }
  return out;
}
