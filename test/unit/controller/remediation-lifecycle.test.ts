import { describe, expect, it } from 'vitest';
import { fixFingerprint, type FindingGroup } from '../../../src/controller/remediation.js';
import { approvalOf, checkIdentity, forReview } from '../../../src/controller/remediation-identity.js';
import {
  conflictMessage,
  decideRemediation,
  transition,
  TRANSITIONS,
  type RemediationView,
} from '../../../src/controller/remediation-lifecycle.js';
import type { KubeObject } from '../../../src/model/types.js';

const DR = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'shop', name: 'httpbin' };

function group(value = 'ISTIO_MUTUAL', target = DR): FindingGroup {
  return {
    rule: 'MM101',
    resource: target,
    severity: 'error',
    message: 'plaintext to STRICT',
    findings: [],
    patches: [{ target, patch: [{ op: 'replace', path: '/spec/trafficPolicy/tls/mode', value }] }],
    create: [],
    proposeOnly: false,
  };
}

const FP = fixFingerprint(group().patches, []);

/** A proposal as meshmedic writes it, then edited by `edit`. */
function proposal(
  edit: (o: {
    metadata: KubeObject['metadata'];
    spec: Record<string, unknown>;
    status: Record<string, unknown>;
  }) => void = () => undefined,
): KubeObject {
  const o = {
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshRemediation',
    metadata: { name: 'mm101-destinationrule-httpbin', namespace: 'shop', annotations: {} as Record<string, string> },
    spec: { rule: 'MM101', target: { ...DR, uid: 'u1', resourceVersion: '7' }, patches: group().patches, create: [] },
    status: {
      phase: 'Proposed',
      fingerprint: FP,
      identity: { rule: 'MM101', target: { ...DR, uid: 'u1' }, fingerprint: FP },
    } as Record<string, unknown>,
  };
  edit(o);
  return o;
}

function view(mmr: KubeObject, extra: Partial<RemediationView> = {}): RemediationView {
  return { mmr, targetUid: 'u1', covered: true, current: group(), ...extra };
}

const approve =
  (fp = FP) =>
  (o: { metadata: KubeObject['metadata'] }) => {
    o.metadata.annotations = { ...o.metadata.annotations, 'meshmedic.io/approve': fp };
  };

describe('decideRemediation: a tenant cannot steer the write path', () => {
  it('applies an approval that names the fingerprint of the fix computed from the live objects', () => {
    const d = decideRemediation(view(proposal(approve())));
    expect(d).toMatchObject({
      action: 'apply',
      fingerprint: FP,
      identity: { rule: 'MM101', target: { namespace: 'shop', name: 'httpbin' } },
    });
  });

  it('never acts on a proposal retargeted to another namespace, object or rule', () => {
    const retargets: ((o: { spec: Record<string, unknown> }) => void)[] = [
      (o) => (o.spec['target'] = { ...DR, namespace: 'payments', uid: 'u1' }),
      (o) => (o.spec['target'] = { ...DR, name: 'orders', uid: 'u1' }),
      (o) => (o.spec['rule'] = 'MM107'),
    ];
    const reasons = retargets.map((edit) => {
      const d = decideRemediation(view(proposal((o) => (edit(o), approve()(o)))));
      expect(d.action).toBe('status');
      return d.action === 'status' ? [d.phase, d.reason] : [];
    });
    expect(reasons).toEqual([
      ['Failed', 'TargetOutsideNamespace'],
      ['Failed', 'IdentityMismatch'],
      ['Failed', 'IdentityMismatch'],
    ]);
  });

  it('ignores a MeshRemediation meshmedic did not create, and says so', () => {
    const handMade = proposal((o) => {
      o.metadata.name = 'please-apply-this';
      o.status = {};
      approve()(o);
    });
    expect(decideRemediation(view(handMade))).toMatchObject({
      action: 'status',
      phase: 'Ignored',
      reason: 'NotCreatedByMeshmedic',
    });
  });

  it('applies nothing when no live policy covers the target (never a default policy)', () => {
    expect(decideRemediation(view(proposal(approve()), { covered: false }))).toMatchObject({
      action: 'status',
      phase: 'Proposed',
      reason: 'NotCovered',
    });
  });

  it('does not apply changed content under an approval given to other content', () => {
    const d = decideRemediation(view(proposal(approve()), { current: group('SIMPLE') }));
    expect(d).toMatchObject({ action: 'status', phase: 'Proposed', reason: 'ApprovalForOtherContent' });
    expect(d.action === 'status' && d.message).toContain(
      `meshmedic.io/approve=${fixFingerprint(group('SIMPLE').patches, [])}`,
    );
  });

  it('asks for the fingerprint when approved with "true", with a command that works as pasted (-n)', () => {
    const d = decideRemediation(view(proposal((o) => (o.metadata.annotations = { 'meshmedic.io/approve': 'true' }))));
    expect(d).toMatchObject({ action: 'status', reason: 'ApprovalNeedsFingerprint' });
    expect(d.action === 'status' && d.message).toContain(
      `kubectl -n shop annotate meshremediation mm101-destinationrule-httpbin meshmedic.io/approve=${FP} --overwrite`,
    );
  });

  it('refuses a proposal whose shown patch was edited, even approved with the right fingerprint', () => {
    const edited = proposal((o) => {
      o.spec['patches'] = [{ target: DR, patch: [{ op: 'replace', path: '/spec/host', value: 'evil.example.com' }] }];
      approve()(o);
    });
    expect(decideRemediation(view(edited))).toMatchObject({
      action: 'status',
      phase: 'Failed',
      reason: 'ProposalMismatch',
    });
  });

  it('refuses a fix that is unsafe, even approved', () => {
    const d = decideRemediation(
      view(proposal(approve()), { unsafe: { trigger: 'unsafeFix', message: 'ServiceEntry/x is flagged by MM103' } }),
    );
    expect(d).toMatchObject({ action: 'status', phase: 'Failed', reason: 'UnsafeFix' });
  });

  it('never applies a fix whose rules disagree, approved or not; it says so in the words the subject plan uses (FixConflict, not the 409 Conflict)', () => {
    const conflict = { reason: 'FixConflict' as const, message: 'the fixes of MM101 and MM102 undo each other' };
    const d = decideRemediation(view(proposal(approve()), { current: { ...group(), conflict } }));
    expect(d).toEqual({
      action: 'status',
      phase: 'Proposed',
      reason: 'FixConflict',
      message: conflictMessage(conflict),
    });
    const said = proposal(
      (o) => (approve()(o), Object.assign(o.status, { reason: 'FixConflict', message: conflictMessage(conflict) })),
    );
    expect(decideRemediation(view(said, { current: { ...group(), conflict } }))).toEqual({ action: 'none' });
    const unsettled = { reason: 'FixNotConverged' as const, message: 'not settled after 5 passes' };
    expect(
      decideRemediation(view(proposal(approve()), { current: { ...group(), conflict: unsettled } })),
    ).toMatchObject({ action: 'status', phase: 'Proposed', reason: 'FixNotConverged' });
  });

  it('deletes the proposal of a deleted or re-created target (garbage collection)', () => {
    expect(decideRemediation(view(proposal(), { targetUid: undefined })).action).toBe('delete');
    expect(decideRemediation(view(proposal(), { targetUid: 'u2' })).action).toBe('delete');
    // Access-log subjects have no uid and are never collected: their findings resolve instead.
    expect(decideRemediation(view(proposal(), { targetUid: '' })).action).toBe('none');
  });

  it('rolls back only an Applied proposal, and reports a fix undone by hand', () => {
    const applied = (extra: (o: { metadata: KubeObject['metadata']; status: Record<string, unknown> }) => void) =>
      proposal((o) => {
        o.status['phase'] = 'Applied';
        extra(o);
      });
    expect(
      decideRemediation(view(applied((o) => (o.metadata.annotations = { 'meshmedic.io/rollback': 'true' })))),
    ).toMatchObject({ action: 'rollback' });
    expect(
      decideRemediation(view(proposal((o) => (o.metadata.annotations = { 'meshmedic.io/rollback': 'true' })))),
    ).toEqual({ action: 'none' });
    expect(
      decideRemediation(
        view(
          applied(() => undefined),
          { reverted: 'field /spec/trafficPolicy/tls/mode is "DISABLE"' },
        ),
      ),
    ).toMatchObject({ action: 'status', phase: 'Reverted', reason: 'FixReverted' });
  });

  it('writes nothing when the status already says it', () => {
    const d = decideRemediation(view(proposal(approve()), { covered: false }));
    if (d.action !== 'status') throw new Error('expected a status');
    const again = proposal((o) => {
      approve()(o);
      Object.assign(o.status, { phase: d.phase, reason: d.reason, message: d.message });
    });
    expect(decideRemediation(view(again, { covered: false }))).toEqual({ action: 'none' });
  });
});

describe('the transition table', () => {
  it('has no way out of Applied but rollback and revert, and none out of Rejected', () => {
    expect(Object.keys(TRANSITIONS.Applied ?? {}).sort()).toEqual(['fixReverted', 'rollbackRequested']);
    expect(TRANSITIONS.Rejected).toBeUndefined();
    expect(transition('Superseded', 'approved')).toBeUndefined();
    expect(transition('Reverted', 'approved')).toEqual({ phase: 'Approved', reason: 'Approved' });
  });
});

describe('identity and approvals', () => {
  it('reads approvals from the annotation or spec.approvedFingerprint, bare "true" as unbound', () => {
    expect(approvalOf(proposal(approve('ABCDEF0123456789')))).toEqual({
      kind: 'fingerprint',
      fingerprint: 'abcdef0123456789',
    });
    expect(approvalOf(proposal((o) => (o.spec['approvedFingerprint'] = FP)))).toEqual({
      kind: 'fingerprint',
      fingerprint: FP,
    });
    expect(approvalOf(proposal((o) => (o.spec['approved'] = true)))).toEqual({ kind: 'unbound' });
    expect(approvalOf(proposal())).toEqual({ kind: 'none' });
  });

  it('binds identity to name and namespace', () => {
    expect(checkIdentity(proposal()).ok).toBe(true);
    expect(checkIdentity(proposal((o) => (o.metadata.namespace = 'other')))).toMatchObject({
      ok: false,
      reason: 'TargetOutsideNamespace',
    });
    expect(
      checkIdentity(proposal((o) => delete (o.spec['target'] as Record<string, unknown>)['namespace'])),
    ).toMatchObject({ ok: false, reason: 'Malformed' });
  });

  it('shows objects for review without server-managed fields', () => {
    const live = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: {
        name: 'a',
        namespace: 'b',
        uid: 'u',
        resourceVersion: '9',
        generation: 2,
        creationTimestamp: 't',
        managedFields: [],
        annotations: { 'kubectl.kubernetes.io/last-applied-configuration': '{}', keep: 'me' },
      },
      spec: {},
      status: {},
    } as unknown as KubeObject;
    expect(forReview(live)).toEqual({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'a', namespace: 'b', annotations: { keep: 'me' } },
      spec: {},
    });
  });
});
