import type { KubeObject } from '../model/types.js';
import type { Effective } from './policies.js';
import { checkIdentity } from './remediation-identity.js';
import { conflictMessage, notCoveredMessage, phaseOf } from './remediation-lifecycle.js';
import type { FindingGroup, Phase } from './remediation.js';

/**
 * What to do about one subject (a mesh object, or access-log evidence) after its rules ran: a plan of
 * steps the operator carries out in order. planSubject() reads the cache and decides; it writes nothing.
 */

export type SubjectStep =
  /** Observe: a FindingDetected Event (once per finding). */
  | { step: 'event'; group: FindingGroup }
  /** Judge this subject again later (changes still arriving, write budget spent). */
  | { step: 'requeue'; afterMs: number; why: string }
  /**
   * Create or update the proposal of a group; `why` says why it is proposed rather than applied. With a
   * `reason`, the proposal's status then says that reason and `why` (a fix that is never applied).
   */
  | { step: 'propose'; group: FindingGroup; why?: string; reason?: string }
  /** Apply the group's fix now (Enforce), then record it. */
  | { step: 'enforce'; group: FindingGroup }
  /** Move an open proposal whose finding is no longer judged or present. */
  | { step: 'status'; mmr: KubeObject; phase: Phase; reason: string; message: string };

export interface SubjectView {
  /** Undefined when the subject is gone. */
  subject: KubeObject | undefined;
  eff: Effective | undefined;
  groups: FindingGroup[];
  /** The proposal of a group, by its namespace/name key. */
  remediation: (key: string) => KubeObject | undefined;
  /** The proposals that name this subject as their target. */
  remediationsOfSubject: KubeObject[];
  /** Whether a FindingDetected Event for the rule was already sent in this term. */
  observed: (rule: string) => boolean;
  /** The target resourceVersion at which a user deleted the group's proposal (dismissed until it changes). */
  dismissedAt: (key: string) => string | undefined;
  /** Why the operator must not write the group's targets (GitOps, opt-out), if so. */
  guard: (group: FindingGroup) => string | undefined;
  /** Why Enforce must not apply the group's fix without a person, if so. */
  enforceRefusal: (group: FindingGroup) => string | undefined;
  /** Milliseconds until the changes around a group's fix have settled (0 for fixes not judged on absence). */
  unsettledMs: (group: FindingGroup) => number;
  remediationKey: (group: FindingGroup) => string;
}

function modeOf(eff: Effective | undefined, rule: string): 'Observe' | 'Propose' | 'Enforce' {
  return eff?.rules.find((r) => r.id === rule)?.mode ?? 'Observe';
}

/**
 * Rejected, rolled back and refused proposals stay until the target changes; applied ones are not re-applied
 * (neither on their own nor inside another rule's joint fix: src/controller/joint-fix.ts).
 */
export function leftAlone(existing: KubeObject | undefined, rv: string | undefined): boolean {
  const phase = phaseOf(existing);
  if (phase === 'Applied' || phase === 'Reverted' || phase === 'Approved') return true;
  const at = (existing?.status as { targetResourceVersion?: string } | undefined)?.targetResourceVersion;
  return (phase === 'Rejected' || phase === 'RolledBack' || phase === 'Failed') && at !== undefined && at === rv;
}

/** A group with nothing to write (the rule has no safe fix): a person acts on the finding, not on a proposal. */
function fixless(g: FindingGroup): boolean {
  return g.patches.length === 0 && g.create.length === 0;
}

function planGroup(view: SubjectView, g: FindingGroup, subject: KubeObject): SubjectStep[] {
  // Without a fix there is nothing to review or apply: an approvable proposal would apply nothing. In every
  // mode such a finding is reported as Observe reports it (an Event, and the policy's status).
  const mode = fixless(g) ? 'Observe' : modeOf(view.eff, g.rule);
  if (mode === 'Observe') return view.observed(g.rule) ? [] : [{ step: 'event', group: g }];
  // A fix that creates objects is judged on absence: it waits until a burst of changes (one
  // `kubectl apply` of a VirtualService and its ServiceEntry) has settled.
  const wait = g.create.length > 0 ? view.unsettledMs(g) : 0;
  if (wait > 0) return [{ step: 'requeue', afterMs: wait, why: 'changes still arriving: judging absence later' }];
  const key = view.remediationKey(g);
  const rv = subject.metadata.resourceVersion;
  if (view.dismissedAt(key) !== undefined && view.dismissedAt(key) === rv) return [];
  if (leftAlone(view.remediation(key), rv)) return [];
  // Rules whose fixes undo each other are said, in any mode, and never applied: no write loop to break.
  if (g.conflict) return [{ step: 'propose', group: g, why: conflictMessage(g.conflict), reason: g.conflict.reason }];
  if (mode === 'Propose') return [{ step: 'propose', group: g }];
  const guard = view.guard(g);
  const why = g.proposeOnly
    ? `${g.rule} fixes are proposed only, never applied automatically`
    : guard
      ? `not applied automatically: target is ${guard}`
      : view.enforceRefusal(g);
  return why ? [{ step: 'propose', group: g, why }] : [{ step: 'enforce', group: g }];
}

/** Open proposals of this subject whose rule found nothing this time. */
function planVanished(view: SubjectView): SubjectStep[] {
  const current = new Set(view.groups.map((g) => g.rule));
  const steps: SubjectStep[] = [];
  for (const mmr of view.remediationsOfSubject) {
    const rule = (mmr.spec as { rule?: string } | undefined)?.rule ?? '';
    if (
      current.has(rule) ||
      !checkIdentity(mmr).ok ||
      (mmr.status as { identity?: unknown } | undefined)?.identity === undefined
    )
      continue;
    const phase = phaseOf(mmr);
    if (phase !== 'Proposed' && phase !== 'Failed' && phase !== 'Approved') continue;
    // With no policy judging the rule there any more, the finding was not evaluated at all: say so. (A
    // subject that is gone is access-log evidence whose logs aged out: the others' proposals are deleted.)
    if (view.subject && modeOf(view.eff, rule) === 'Observe') {
      const message = notCoveredMessage(rule);
      const s = (mmr.status ?? {}) as { reason?: string; message?: string };
      if (phase !== 'Proposed' || s.reason !== 'NotCovered' || s.message !== message)
        steps.push({ step: 'status', mmr, phase: 'Proposed', reason: 'NotCovered', message });
    } else {
      steps.push({
        step: 'status',
        mmr,
        phase: 'Superseded',
        reason: 'FindingResolved',
        message: 'the finding is no longer present',
      });
    }
  }
  return steps;
}

export function planSubject(view: SubjectView): SubjectStep[] {
  const { subject } = view;
  const steps = subject && view.eff ? view.groups.flatMap((g) => planGroup(view, g, subject)) : [];
  return [...steps, ...planVanished(view)];
}
