import type { KubeObject, ObjectRef } from '../model/types.js';
import { ruleById } from '../rules/registry.js';
import { EVIDENCE_KIND } from './evidence-subjects.js';
import { APPROVE_ANNOTATION, remediationName, type FindingGroup } from './remediation.js';

/**
 * A MeshRemediation's spec is user input: anyone allowed to update MeshRemediations in a namespace can
 * edit it. What the operator acts on is therefore never read from it alone. A proposal's identity (rule
 * and target) is bound to its name, which meshmedic derives from them, and to its namespace, which is the
 * target's; its content is bound to the fingerprint of the fix meshmedic computes from the live objects.
 */

export interface TargetIdentity {
  apiVersion: string;
  kind: string;
  namespace: string;
  name: string;
  uid?: string;
}

export interface RemediationIdentity {
  rule: string;
  target: TargetIdentity;
}

interface RemediationSpecView {
  rule?: unknown;
  target?: { apiVersion?: unknown; kind?: unknown; namespace?: unknown; name?: unknown; uid?: unknown };
  approved?: unknown;
  approvedFingerprint?: unknown;
}

function specOf(mmr: KubeObject): RemediationSpecView {
  return mmr.spec ?? {};
}

/** The name meshmedic gives the remediation of (rule, target): what a proposal of that identity must be called. */
export function expectedRemediationName(rule: string, target: Pick<ObjectRef, 'kind' | 'name' | 'apiVersion'>): string {
  // Access-log subjects are named after their remediation (src/controller/evidence-subjects.ts).
  if (target.kind === EVIDENCE_KIND) return target.name;
  return remediationName(rule, { apiVersion: target.apiVersion, kind: target.kind, name: target.name });
}

export type IdentityVerdict =
  | { ok: true; identity: RemediationIdentity }
  | { ok: false; reason: 'IdentityMismatch' | 'TargetOutsideNamespace' | 'UnknownRule' | 'Malformed'; message: string };

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

/**
 * Whether a MeshRemediation names the rule and target its own name and namespace stand for. A proposal
 * retargeted by hand (another namespace, another object, another rule) fails here and is never acted on.
 */
export function checkIdentity(mmr: KubeObject): IdentityVerdict {
  const spec = specOf(mmr);
  const rule = str(spec.rule);
  const t = spec.target ?? {};
  const kind = str(t.kind);
  const name = str(t.name);
  const apiVersion = str(t.apiVersion);
  const namespace = str(t.namespace);
  if (!rule || !kind || !name || !apiVersion || !namespace) {
    return {
      ok: false,
      reason: 'Malformed',
      message: 'spec.rule and spec.target (apiVersion, kind, namespace, name) must all be set',
    };
  }
  if (!ruleById(rule))
    return { ok: false, reason: 'UnknownRule', message: `spec.rule ${rule} is not a meshmedic rule` };
  const own = mmr.metadata.namespace ?? '';
  if (namespace !== own) {
    return {
      ok: false,
      reason: 'TargetOutsideNamespace',
      message: `spec.target.namespace ${namespace} is not this proposal's namespace ${own}: a proposal only ever acts in its own namespace`,
    };
  }
  const expected = expectedRemediationName(rule, { apiVersion, kind, name });
  if (expected !== mmr.metadata.name) {
    return {
      ok: false,
      reason: 'IdentityMismatch',
      message: `spec.rule/spec.target (${rule} on ${kind}/${name}) are not what this proposal was created for (that proposal would be named ${expected}): edited by hand, never acted on`,
    };
  }
  const uid = str(t.uid);
  return { ok: true, identity: { rule, target: { apiVersion, kind, namespace, name, ...(uid ? { uid } : {}) } } };
}

/** The identity meshmedic gives the proposal of a finding group on a subject. */
export function identityOfGroup(group: FindingGroup, subject: KubeObject): RemediationIdentity {
  const uid = subject.metadata.uid;
  return {
    rule: group.rule,
    target: {
      apiVersion: subject.apiVersion,
      kind: subject.kind,
      namespace: subject.metadata.namespace ?? 'default',
      name: subject.metadata.name,
      ...(uid ? { uid } : {}),
    },
  };
}

export type Approval =
  | { kind: 'none' }
  /** `approve=true` / `approved: true`: no content named, so nothing is applied. */
  | { kind: 'unbound' }
  | { kind: 'fingerprint'; fingerprint: string };

/** What a user approved: `meshmedic.io/approve=<fingerprint>` or `spec.approvedFingerprint`. */
export function approvalOf(mmr: KubeObject): Approval {
  const ann = str(mmr.metadata.annotations?.[APPROVE_ANNOTATION]);
  const spec = specOf(mmr);
  const fp = str(spec.approvedFingerprint) ?? (ann && ann !== 'true' ? ann : undefined);
  if (fp) return { kind: 'fingerprint', fingerprint: fp.toLowerCase() };
  if (ann === 'true' || spec.approved === true) return { kind: 'unbound' };
  return { kind: 'none' };
}

/** Whether every write of a fix lands in one namespace: a proposal never writes outside its own. */
export function writesOnlyIn(group: Pick<FindingGroup, 'patches' | 'create'>, namespace: string): boolean {
  return (
    group.patches.every((p) => p.target.namespace === namespace) &&
    group.create.every((c) => c.metadata.namespace === namespace)
  );
}

/** The kubectl command that approves this content, pasteable as printed. */
export function approveCommand(namespace: string, name: string, fingerprint: string): string {
  return `kubectl -n ${namespace} annotate meshremediation ${name} ${APPROVE_ANNOTATION}=${fingerprint} --overwrite`;
}

/**
 * Who approved, as the API server recorded it: the field manager that last set the approval (the
 * annotation or spec.approvedFingerprint), with the time. managedFields name the client, not the user;
 * the audit log names the user.
 */
export function approverOf(mmr: KubeObject): string | undefined {
  const fields =
    (mmr.metadata as { managedFields?: { manager?: string; time?: string; fieldsV1?: unknown }[] }).managedFields ?? [];
  const touches = (f: unknown): boolean => {
    const m = f as
      { 'f:metadata'?: { 'f:annotations'?: Record<string, unknown> }; 'f:spec'?: Record<string, unknown> } | undefined;
    return Boolean(
      m?.['f:metadata']?.['f:annotations']?.[`f:${APPROVE_ANNOTATION}`] ||
      m?.['f:spec']?.['f:approvedFingerprint'] ||
      m?.['f:spec']?.['f:approved'],
    );
  };
  const hit = fields
    .filter((f) => f.manager !== 'meshmedic' && touches(f.fieldsV1))
    .sort((a, b) => (a.time ?? '').localeCompare(b.time ?? ''))
    .pop();
  return hit?.manager ? `${hit.manager}${hit.time ? ` at ${hit.time}` : ''}` : undefined;
}

const SERVER_MANAGED_METADATA = [
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'managedFields',
  'selfLink',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
];
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

/** An object as a reviewer reads it: without the fields the API server manages and without status. */
export function forReview(o: KubeObject): KubeObject {
  const metadata: Record<string, unknown> = { ...o.metadata };
  for (const k of SERVER_MANAGED_METADATA) delete metadata[k];
  const annotations = { ...(o.metadata.annotations ?? {}) };
  delete annotations[LAST_APPLIED];
  if (Object.keys(annotations).length > 0) metadata['annotations'] = annotations;
  else delete metadata['annotations'];
  const { status: _status, ...rest } = o;
  return { ...rest, metadata: metadata as unknown as KubeObject['metadata'] };
}
