import { describe, expect, it } from 'vitest';
import type { Effective } from '../../../src/controller/policies.js';
import type { FindingGroup } from '../../../src/controller/remediation.js';
import { conflictMessage, notCoveredMessage } from '../../../src/controller/remediation-lifecycle.js';
import { planSubject, type SubjectView } from '../../../src/controller/subject-plan.js';
import type { KubeObject } from '../../../src/model/types.js';

const DR = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'shop', name: 'httpbin' };
const subject: KubeObject = {
  apiVersion: DR.apiVersion,
  kind: DR.kind,
  metadata: { name: 'httpbin', namespace: 'shop', uid: 'u1', resourceVersion: '5' },
  spec: {},
};

function group(rule = 'MM101', extra: Partial<FindingGroup> = {}): FindingGroup {
  return {
    rule,
    resource: DR,
    severity: 'error',
    message: `${rule} finding`,
    findings: [],
    patches: [{ target: DR, patch: [{ op: 'add', path: '/spec/x', value: 1 }] }],
    create: [],
    proposeOnly: false,
    ...extra,
  };
}

function eff(mode: 'Observe' | 'Propose' | 'Enforce', rules = ['MM101', 'MM104', 'MM106', 'MM107']): Effective {
  return {
    rules: rules.map((id) => ({ id, mode })),
    params: {},
    istioVersion: undefined,
    maxWritesPerMinute: 30,
    policies: ['p'],
  };
}

function mmr(phase: string, extra: Record<string, unknown> = {}, rule = 'MM101'): KubeObject {
  return {
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshRemediation',
    metadata: { name: `${rule.toLowerCase()}-destinationrule-httpbin`, namespace: 'shop' },
    spec: { rule, target: { ...DR, uid: 'u1' } },
    status: { phase, identity: { rule }, ...extra },
  };
}

function view(extra: Partial<SubjectView>): SubjectView {
  return {
    subject,
    eff: eff('Propose'),
    groups: [group()],
    remediation: () => undefined,
    remediationsOfSubject: [],
    observed: () => false,
    dismissedAt: () => undefined,
    guard: () => undefined,
    enforceRefusal: () => undefined,
    unsettledMs: () => 0,
    remediationKey: (g) => `shop/${g.rule.toLowerCase()}-destinationrule-httpbin`,
    ...extra,
  };
}

const steps = (v: SubjectView): string[] =>
  planSubject(v).map((s) =>
    s.step === 'status'
      ? `status:${s.phase}/${s.reason}`
      : s.step === 'propose'
        ? `propose${s.why ? `(${s.why})` : ''}`
        : s.step,
  );

describe('planSubject', () => {
  it('by mode: Observe sends one Event, Propose proposes, Enforce applies', () => {
    expect(steps(view({ eff: eff('Observe') }))).toEqual(['event']);
    expect(steps(view({ eff: eff('Observe'), observed: () => true }))).toEqual([]);
    expect(steps(view({ eff: eff('Propose') }))).toEqual(['propose']);
    expect(steps(view({ eff: eff('Enforce') }))).toEqual(['enforce']);
  });

  it('a finding without a fix is reported, never proposed or applied: there is nothing to approve', () => {
    const noFix = group('MM101', { patches: [], create: [] });
    for (const mode of ['Observe', 'Propose', 'Enforce'] as const)
      expect(steps(view({ eff: eff(mode), groups: [noFix] })), mode).toEqual(['event']);
  });

  it('in Enforce, proposes instead when the rule, the target or the fix says so, with the reason', () => {
    expect(steps(view({ eff: eff('Enforce'), groups: [group('MM106', { proposeOnly: true })] }))).toEqual([
      'propose(MM106 fixes are proposed only, never applied automatically)',
    ]);
    expect(steps(view({ eff: eff('Enforce'), guard: () => 'managed by Argo CD' }))).toEqual([
      'propose(not applied automatically: target is managed by Argo CD)',
    ]);
    expect(steps(view({ eff: eff('Enforce'), enforceRefusal: () => 'it changes exportTo' }))).toEqual([
      'propose(it changes exportTo)',
    ]);
  });

  it('proposes a fix whose rules disagree in every mode, with the reason FixConflict, and never applies it', () => {
    const conflict = { reason: 'FixConflict' as const, message: 'the fixes of MM101 and MM102 undo each other' };
    for (const mode of ['Propose', 'Enforce'] as const) {
      expect(planSubject(view({ eff: eff(mode), groups: [group('MM101', { conflict })] }))).toEqual([
        { step: 'propose', group: group('MM101', { conflict }), why: conflictMessage(conflict), reason: 'FixConflict' },
      ]);
    }
    expect(steps(view({ eff: eff('Observe'), groups: [group('MM101', { conflict })] }))).toEqual(['event']);
  });

  it('waits for changes to settle before judging a fix that creates objects, not one that patches', () => {
    const creates = group('MM104', { patches: [], create: [subject] });
    expect(steps(view({ groups: [creates], unsettledMs: () => 1200 }))).toEqual(['requeue']);
    expect(steps(view({ groups: [group()], unsettledMs: () => 1200 }))).toEqual(['propose']);
  });

  it('leaves applied, reverted and (until the target changes) rejected or dismissed proposals alone', () => {
    for (const phase of ['Applied', 'Reverted', 'Approved'])
      expect(steps(view({ eff: eff('Enforce'), remediation: () => mmr(phase) }))).toEqual([]);
    expect(steps(view({ remediation: () => mmr('Rejected', { targetResourceVersion: '5' }) }))).toEqual([]);
    expect(steps(view({ remediation: () => mmr('Rejected', { targetResourceVersion: '4' }) }))).toEqual(['propose']);
    expect(steps(view({ dismissedAt: () => '5' }))).toEqual([]);
    expect(steps(view({ dismissedAt: () => '4' }))).toEqual(['propose']);
  });

  it('supersedes open proposals whose finding is gone, and says NotCovered when no policy judges the rule any more', () => {
    const open = [mmr('Proposed', {}, 'MM107')];
    expect(steps(view({ groups: [], remediationsOfSubject: open }))).toEqual(['status:Superseded/FindingResolved']);
    expect(steps(view({ groups: [], eff: undefined, remediationsOfSubject: open }))).toEqual([
      'status:Proposed/NotCovered',
    ]);
    expect(steps(view({ groups: [], remediationsOfSubject: [mmr('Applied', {}, 'MM107')] }))).toEqual([]);
    // Not meshmedic's (no status identity): never touched.
    expect(
      steps(
        view({
          groups: [],
          remediationsOfSubject: [{ ...mmr('Proposed', {}, 'MM107'), status: { phase: 'Proposed' } }],
        }),
      ),
    ).toEqual([]);
  });

  it('writes a NotCovered status once: the plan and the proposal decision say it in the same words (no write loop)', () => {
    const said = mmr('Proposed', { reason: 'NotCovered', message: notCoveredMessage('MM107') }, 'MM107');
    expect(steps(view({ groups: [], eff: undefined, remediationsOfSubject: [said] }))).toEqual([]);
  });
});
