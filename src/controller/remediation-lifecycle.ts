import type { KubeObject } from '../model/types.js';
import {
  approvalOf,
  approveCommand,
  checkIdentity,
  type IdentityVerdict,
  type RemediationIdentity,
} from './remediation-identity.js';
import {
  fixFingerprint,
  REJECT_ANNOTATION,
  ROLLBACK_ANNOTATION,
  type FindingGroup,
  type FixConflict,
  type Phase,
} from './remediation.js';

/**
 * The MeshRemediation lifecycle as data: what moves a proposal from one phase to another, and with which
 * reason. decideRemediation() reads a proposal and the operator's view of the cluster and returns what
 * to do; it writes nothing (the operator carries the decision out).
 */

export type Trigger =
  | 'approved'
  | 'approvalUnbound'
  | 'approvalForOtherContent'
  | 'proposalEdited'
  | 'notCovered'
  | 'rejected'
  | 'rollbackRequested'
  | 'identityMismatch'
  | 'notCreatedByMeshmedic'
  | 'findingResolved'
  | 'writesOutsideNamespace'
  | 'unsafeFix'
  | 'fixConflict'
  | 'fixNotConverged'
  | 'fixReverted';

export interface Transition {
  phase: Phase;
  reason: string;
}

const STAY_PROPOSED = (reason: string): Transition => ({ phase: 'Proposed', reason });

/** phase × trigger → phase and reason. A pair not in the table is not a transition: nothing happens. */
export const TRANSITIONS: Readonly<Partial<Record<Phase, Partial<Record<Trigger, Transition>>>>> = {
  Proposed: {
    approved: { phase: 'Approved', reason: 'Approved' },
    approvalUnbound: STAY_PROPOSED('ApprovalNeedsFingerprint'),
    approvalForOtherContent: STAY_PROPOSED('ApprovalForOtherContent'),
    notCovered: STAY_PROPOSED('NotCovered'),
    proposalEdited: { phase: 'Failed', reason: 'ProposalMismatch' },
    rejected: { phase: 'Rejected', reason: 'Rejected' },
    findingResolved: { phase: 'Superseded', reason: 'FindingResolved' },
    writesOutsideNamespace: { phase: 'Failed', reason: 'WritesOutsideNamespace' },
    unsafeFix: { phase: 'Failed', reason: 'UnsafeFix' },
    // Rules that disagree: the proposal stays open (either rule's finding may go, or a person fixes it by hand).
    fixConflict: STAY_PROPOSED('FixConflict'),
    fixNotConverged: STAY_PROPOSED('FixNotConverged'),
  },
  // A proposal caught between approval and application (the operator stopped): carried on as approved.
  Approved: {
    approved: { phase: 'Approved', reason: 'Approved' },
    findingResolved: { phase: 'Superseded', reason: 'FindingResolved' },
    approvalForOtherContent: STAY_PROPOSED('ApprovalForOtherContent'),
    notCovered: STAY_PROPOSED('NotCovered'),
    fixConflict: STAY_PROPOSED('FixConflict'),
    fixNotConverged: STAY_PROPOSED('FixNotConverged'),
  },
  Failed: { rejected: { phase: 'Rejected', reason: 'Rejected' } },
  Applied: {
    rollbackRequested: { phase: 'RolledBack', reason: 'RolledBack' },
    fixReverted: { phase: 'Reverted', reason: 'FixReverted' },
  },
  Reverted: {
    approved: { phase: 'Approved', reason: 'Approved' },
    rollbackRequested: { phase: 'RolledBack', reason: 'RolledBack' },
    rejected: { phase: 'Rejected', reason: 'Rejected' },
    findingResolved: { phase: 'Superseded', reason: 'FindingResolved' },
    fixConflict: STAY_PROPOSED('FixConflict'),
    fixNotConverged: STAY_PROPOSED('FixNotConverged'),
  },
};

export function transition(phase: Phase, trigger: Trigger): Transition | undefined {
  return TRANSITIONS[phase]?.[trigger];
}

/**
 * What the operator knows about a proposal's target and fix, from its informer cache. The fix fields
 * (current, computedFrom, unsafe, reverted) may be getters that compute on first read: most decisions
 * (no approval pending) never read them. decideRemediation is synchronous, so whatever it reads comes
 * from one view of the cache.
 */
export interface RemediationView {
  mmr: KubeObject;
  /**
   * The target's uid in the cache ('' for a target without one, such as access-log evidence, which is
   * never garbage-collected: its findings resolve instead); undefined when the target does not exist.
   */
  targetUid: string | undefined;
  /** True when a live policy covers the target with the rule in Propose or Enforce. */
  covered: boolean;
  /** The fix meshmedic computes now from the cache; undefined when the finding is gone. */
  current: FindingGroup | undefined;
  /** The resourceVersions of the objects `current` was computed from, read at the same moment. */
  computedFrom?: ReadonlyMap<string, string>;
  /** Why the current fix must not be applied (it writes outside the namespace, it creates a flagged object). */
  unsafe?: { trigger: 'writesOutsideNamespace' | 'unsafeFix'; message: string };
  /** For an Applied proposal: how the fix was undone on its target, when it was. */
  reverted?: string;
}

export type RemediationDecision =
  | { action: 'none' }
  | { action: 'status'; phase: Phase; reason: string; message: string }
  | {
      action: 'apply';
      identity: RemediationIdentity;
      group: FindingGroup;
      fingerprint: string;
      computedFrom: ReadonlyMap<string, string>;
    }
  | { action: 'rollback'; identity: RemediationIdentity }
  | { action: 'delete'; why: string };

/**
 * The one message of a proposal no policy judges any more. The subject's plan and the proposal's decision
 * both come to it: with two wordings they would rewrite each other's status forever.
 */
export function notCoveredMessage(rule: string): string {
  return `no MeshHealthPolicy in Propose or Enforce covers this target for ${rule} now: the finding is not evaluated and nothing is applied, approved or not`;
}

/**
 * The one message of a proposal whose rules' fixes disagree (or do not settle). The subject's plan and the
 * proposal's decision both write it: with two wordings they would rewrite each other's status forever.
 */
export function conflictMessage(conflict: FixConflict): string {
  return `not applied, approved or not: ${conflict.message}. Decide by hand which value the object keeps, or turn one of the rules off for it in the MeshHealthPolicy`;
}

const CONFLICT_TRIGGER: Record<FixConflict['reason'], Trigger> = {
  FixConflict: 'fixConflict',
  FixNotConverged: 'fixNotConverged',
};

export function phaseOf(mmr: KubeObject | undefined): Phase | undefined {
  return (mmr?.status as { phase?: Phase } | undefined)?.phase;
}

function statusOf(mmr: KubeObject): { reason?: string; message?: string; identity?: unknown } {
  return mmr.status ?? {};
}

function moveTo(mmr: KubeObject, trigger: Trigger, message: string): RemediationDecision {
  const t = transition(phaseOf(mmr) ?? 'Proposed', trigger);
  if (!t) return { action: 'none' };
  const s = statusOf(mmr);
  if (phaseOf(mmr) === t.phase && s.reason === t.reason && s.message === message) return { action: 'none' };
  return { action: 'status', phase: t.phase, reason: t.reason, message };
}

/** The fingerprint of what the proposal's spec shows (a reviewer approves what they read). */
function shownFingerprint(mmr: KubeObject): string {
  const spec = (mmr.spec ?? {}) as { patches?: FindingGroup['patches']; create?: KubeObject[] };
  return fixFingerprint(spec.patches ?? [], spec.create ?? []);
}

/** Mark a proposal meshmedic did not write as Ignored (once). */
function ignore(phase: Phase, message: string): RemediationDecision {
  if (phase === 'Ignored') return { action: 'none' };
  return { action: 'status', phase: 'Ignored', reason: 'NotCreatedByMeshmedic', message };
}

/** A proposal whose identity does not hold: never acted on; Failed when ours, Ignored when not. */
function brokenIdentity(
  mmr: KubeObject,
  phase: Phase,
  ours: boolean,
  verdict: Extract<IdentityVerdict, { ok: false }>,
): RemediationDecision {
  if (!ours) return ignore(phase, `ignored: ${verdict.message}; meshmedic only acts on the proposals it creates`);
  if (phase === 'Failed' && statusOf(mmr).reason === verdict.reason) return { action: 'none' };
  return {
    action: 'status',
    phase: 'Failed',
    reason: verdict.reason,
    message: `${verdict.message}; delete it, meshmedic proposes again`,
  };
}

/**
 * Named as meshmedic would name it but not (yet) written by meshmedic: its next evaluation of the
 * target takes it over; with no finding to propose, it is someone else's object and stays untouched.
 */
function notWrittenByUs(view: RemediationView, phase: Phase, identity: RemediationIdentity): RemediationDecision {
  if (view.current && view.targetUid !== undefined) return { action: 'none' };
  return ignore(
    phase,
    `ignored: meshmedic has no ${identity.rule} finding on ${identity.target.kind}/${identity.target.name} and only acts on the proposals it creates`,
  );
}

/** Delete a proposal whose target no longer exists (or is another object under the same name). */
function targetGone(view: RemediationView, identity: RemediationIdentity): RemediationDecision | undefined {
  if (view.targetUid === undefined)
    return { action: 'delete', why: `${identity.target.kind}/${identity.target.name} no longer exists` };
  if (identity.target.uid !== undefined && view.targetUid !== '' && identity.target.uid !== view.targetUid)
    return {
      action: 'delete',
      why: `${identity.target.kind}/${identity.target.name} was deleted and created again (another uid)`,
    };
  return undefined;
}

/** The user's rollback or rejection, and an Applied proposal's revert; undefined when none applies. */
function userOrRevert(
  view: RemediationView,
  phase: Phase,
  identity: RemediationIdentity,
): RemediationDecision | undefined {
  const { mmr } = view;
  const ann = mmr.metadata.annotations ?? {};
  if (ann[ROLLBACK_ANNOTATION] === 'true' && (phase === 'Applied' || phase === 'Reverted'))
    return { action: 'rollback', identity };
  if (ann[REJECT_ANNOTATION] === 'true' && transition(phase, 'rejected'))
    return moveTo(mmr, 'rejected', 'rejected by a user; not proposed again until the target changes');
  if (phase !== 'Applied') return undefined;
  return view.reverted
    ? moveTo(
        mmr,
        'fixReverted',
        `the fix was undone on the target: ${view.reverted}; not applied again automatically; approve it again to re-apply`,
      )
    : { action: 'none' };
}

/**
 * An approval counts only for the content it names, only while a live policy covers the target, and only
 * when the fix computed now from the live objects is that content.
 */
function decideApproval(view: RemediationView, phase: Phase, identity: RemediationIdentity): RemediationDecision {
  const { mmr } = view;
  const approval = approvalOf(mmr);
  if (approval.kind === 'none' || !transition(phase, 'approved')) return { action: 'none' };
  const name = mmr.metadata.name;
  const ns = mmr.metadata.namespace ?? '';
  if (!view.covered) return moveTo(mmr, 'notCovered', notCoveredMessage(identity.rule));
  if (!view.current)
    return moveTo(mmr, 'findingResolved', 'approved, but the finding is no longer present: nothing to apply');
  if (view.current.conflict)
    return moveTo(mmr, CONFLICT_TRIGGER[view.current.conflict.reason], conflictMessage(view.current.conflict));
  const fingerprint = fixFingerprint(view.current.patches, view.current.create);
  if (approval.kind === 'unbound')
    return moveTo(
      mmr,
      'approvalUnbound',
      `an approval must name the content reviewed: ${approveCommand(ns, name, fingerprint)}`,
    );
  if (approval.fingerprint !== fingerprint) {
    return moveTo(
      mmr,
      'approvalForOtherContent',
      `approved content ${approval.fingerprint}, but the fix computed from the live objects is now ${fingerprint} (the target changed after review): nothing is applied; review spec and approve again: ${approveCommand(ns, name, fingerprint)}`,
    );
  }
  if (shownFingerprint(mmr) !== fingerprint) {
    return moveTo(
      mmr,
      'proposalEdited',
      'not applied: the patch in this proposal differs from the fix meshmedic computes from the live objects (edited by hand, or the target changed); meshmedic never applies a patch it did not compute',
    );
  }
  if (view.unsafe) return moveTo(mmr, view.unsafe.trigger, `not applied: ${view.unsafe.message}`);
  return { action: 'apply', identity, group: view.current, fingerprint, computedFrom: view.computedFrom ?? new Map() };
}

/**
 * The one decision for a proposal, in order: a proposal whose identity does not hold is never acted on;
 * one whose target is gone is deleted; then the user's rollback, rejection or approval. An approval
 * counts only for the content it names, only while a live policy covers the target, and only when the
 * fix computed now from the live objects is that content.
 */
export function decideRemediation(view: RemediationView): RemediationDecision {
  const { mmr } = view;
  const phase = phaseOf(mmr) ?? 'Proposed';
  const verdict = checkIdentity(mmr);
  const ours = statusOf(mmr).identity !== undefined;
  if (!verdict.ok) return brokenIdentity(mmr, phase, ours, verdict);
  const { identity } = verdict;
  if (!ours) return notWrittenByUs(view, phase, identity);
  return targetGone(view, identity) ?? userOrRevert(view, phase, identity) ?? decideApproval(view, phase, identity);
}
