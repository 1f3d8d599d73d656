import fastJsonPatch from 'fast-json-patch';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../../src/analysis/analyze.js';
import { jointRefusal } from '../../../src/controller/enforce-safety.js';
import { jointFix, type JointFixContext } from '../../../src/controller/joint-fix.js';
import { fixFingerprint, groupFindings, type FindingGroup } from '../../../src/controller/remediation.js';
import { objectKey } from '../../../src/model/kinds.js';
import type { MeshIndex } from '../../../src/model/mesh-index.js';
import type { DestinationRule, KubeObject, ObjectRef } from '../../../src/model/types.js';
import { ruleById } from '../../../src/rules/registry.js';
import type { Finding, Rule } from '../../../src/rules/types.js';
import { indexFrom } from '../helpers.js';

const { applyPatch, deepClone } = fastJsonPatch;

const rules = (...ids: string[]): Rule[] => ids.map((id) => ruleById(id)).filter((r): r is Rule => r !== undefined);

/** The operator's view: the live index and what the given rules would fix there. */
function context(index: MeshIndex, ids: string[], params: Record<string, number> = {}): JointFixContext {
  return {
    index,
    findingsOf: (subjects) => analyze(index, { rules: rules(...ids), params, complete: true }, subjects).findings,
  };
}

function groupOf(
  index: MeshIndex,
  rule: string,
  subject: KubeObject,
  params: Record<string, number> = {},
): FindingGroup {
  const [g] = groupFindings(analyze(index, { rules: rules(rule), params, complete: true }, [subject]).findings);
  if (!g) throw new Error(`no ${rule} finding`);
  return g;
}

/** The live object as a proposal's patches leave it. */
function afterPatches(index: MeshIndex, g: FindingGroup, key: string): KubeObject {
  const copy = deepClone(index.get(key)?.object) as KubeObject;
  for (const p of g.patches.filter((x) => objectKey({ kind: x.target.kind, metadata: x.target }) === key))
    applyPatch(copy, p.patch, true, true);
  return copy;
}

const SEED_001_WITH_OUTLIER = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: shop}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000, targetPort: 80}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: shop}
spec:
  host: httpbin
  trafficPolicy:
    tls: {mode: DISABLE}
    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}
`;

const DR_KEY = 'DestinationRule/shop/httpbin';

describe('jointFix: the operator fixes as analyze --fix does', () => {
  it('two rules patching one DestinationRule: each proposal carries the one patch that fixes both', () => {
    const index = indexFrom(SEED_001_WITH_OUTLIER);
    const dr = index.get(DR_KEY)!.object;
    const ctx = context(index, ['MM101', 'MM107']);
    const mm101 = jointFix(groupOf(index, 'MM101', dr), dr, ctx);
    const mm107 = jointFix(groupOf(index, 'MM107', dr), dr, ctx);
    const after = afterPatches(index, mm101, DR_KEY) as DestinationRule;
    expect(after.spec?.trafficPolicy).toMatchObject({
      tls: { mode: 'ISTIO_MUTUAL' },
      outlierDetection: { maxEjectionPercent: 50 },
    });
    expect(mm101.joined).toEqual([expect.objectContaining({ rule: 'MM107', proposeOnly: false })]);
    // Approving either applies the same content: one write, and the other finding is gone with it.
    expect(fixFingerprint(mm107.patches, mm107.create)).toBe(fixFingerprint(mm101.patches, mm101.create));
    const fixed = indexFrom(SEED_001_WITH_OUTLIER);
    fixed.upsert({ object: after, source: { file: 'fixed', line: 0 } });
    expect(analyze(fixed, { rules: rules('MM101', 'MM107'), complete: true }).findings).toEqual([]);
  });

  it('a fix whose application makes another rule fire on the same object: the passes go on until nothing is left', () => {
    // With auto mTLS off, MM101 adds trafficPolicy {tls}; MM106 adds trafficPolicy {connectionPool}, which
    // replaces the first: a second pass puts the tls back. The proposal's patch gives the converged object.
    const yaml = SEED_001_WITH_OUTLIER.replace(/ {2}trafficPolicy:\n.*\n.*\n/, '');
    const index = indexFrom(yaml, { enableAutoMtls: false });
    const dr = index.get(DR_KEY)!.object;
    const params = { keepAliveIdleTimeoutMs: 60_000 };
    const own = groupOf(index, 'MM101', dr, params);
    const joint = jointFix(own, dr, context(index, ['MM101', 'MM106'], params));
    const after = afterPatches(index, joint, DR_KEY) as DestinationRule;
    expect(after.spec?.trafficPolicy).toEqual({
      tls: { mode: 'ISTIO_MUTUAL' },
      connectionPool: { http: { idleTimeout: '59s' } },
    });
    expect(joint.joined).toEqual([expect.objectContaining({ rule: 'MM106', proposeOnly: true })]);
    // MM106 fixes are proposed only: Enforce proposes the joint fix instead of applying it.
    expect(jointRefusal(joint, () => 'Enforce')).toContain('MM106 fixes are proposed only');
  });

  it('an object a fix creates is analyzed with the rest: the created object carries the fix another rule wants on it', () => {
    const index = indexFrom(SEED_001_WITH_OUTLIER);
    const subject = index.get(DR_KEY)!.object;
    const ref: ObjectRef = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      namespace: 'shop',
      name: 'made',
    };
    const made: KubeObject = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: 'made', namespace: 'shop' },
      spec: { hosts: ['made.example.com'] },
    };
    const finding = (rule: string, fix: Finding['fix']): Finding => ({
      rule,
      messageType: 'Test',
      severity: 'error',
      resource:
        rule === 'A' ? { apiVersion: subject.apiVersion, kind: subject.kind, namespace: 'shop', name: 'httpbin' } : ref,
      related: [],
      message: rule,
      symptom: '503',
      fix,
    });
    const findingsOf = (): Finding[] => {
      const live = index.get(objectKey(made))?.object;
      if (!live) return [finding('A', { patches: [], create: [made] })];
      return (live.spec as { resolution?: string }).resolution
        ? []
        : [
            finding('B', {
              patches: [{ target: ref, patch: [{ op: 'add', path: '/spec/resolution', value: 'DNS' }] }],
              create: [],
            }),
          ];
    };
    const [own] = groupFindings(findingsOf());
    const joint = jointFix(own!, subject, { index, findingsOf });
    expect(joint.create).toEqual([{ ...made, spec: { hosts: ['made.example.com'], resolution: 'DNS' } }]);
    expect(joint.joined).toEqual([expect.objectContaining({ rule: 'B' })]);
    expect(index.get(objectKey(made))).toBeUndefined(); // the live view is put back
  });

  it('two rules that want different values for one field: a conflict, the group keeps its own fix, nothing oscillates', () => {
    const index = indexFrom(SEED_001_WITH_OUTLIER);
    const dr = index.get(DR_KEY)!.object;
    const ref: ObjectRef = { apiVersion: dr.apiVersion, kind: dr.kind, namespace: 'shop', name: 'httpbin' };
    const wants = (rule: string, from: string, to: string): Finding => ({
      rule,
      messageType: 'Test',
      severity: 'error',
      resource: ref,
      related: [],
      message: rule,
      symptom: '503 UC',
      fix: {
        patches: [
          {
            target: ref,
            patch: [
              { op: 'test', path: '/spec/trafficPolicy/tls/mode', value: from },
              { op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: to },
            ],
          },
        ],
        create: [],
      },
    });
    const mode = (): string => (index.get(DR_KEY)!.object as DestinationRule).spec?.trafficPolicy?.tls?.mode ?? '';
    const findingsOf = (): Finding[] =>
      mode() === 'ISTIO_MUTUAL' ? [wants('MM102', 'ISTIO_MUTUAL', 'SIMPLE')] : [wants('MM101', mode(), 'ISTIO_MUTUAL')];
    const [own] = groupFindings(findingsOf());
    const joint = jointFix(own!, dr, { index, findingsOf });
    expect(joint.conflict).toEqual({
      reason: 'FixConflict',
      message: expect.stringContaining('MM101 and MM102 undo each other'),
    });
    expect(joint.patches).toEqual(own!.patches);
    expect(mode()).toBe('DISABLE');
  });

  it('never joins the fix of a rule a person declined on that object (rejected, rolled back, undone by hand)', () => {
    const index = indexFrom(SEED_001_WITH_OUTLIER);
    const dr = index.get(DR_KEY)!.object;
    const ctx = { ...context(index, ['MM101', 'MM107']), declined: (f: Finding) => f.rule === 'MM107' };
    const own = groupOf(index, 'MM101', dr);
    expect(jointFix(own, dr, ctx)).toBe(own);
    // The group's own rule is never declined by its own joint computation (an approval re-computes it).
    const mm107 = groupOf(index, 'MM107', dr);
    expect(jointFix(mm107, dr, ctx).joined).toEqual([expect.objectContaining({ rule: 'MM101' })]);
  });

  it("a fix nothing else touches is the rule's own, unchanged (its proposal keeps its fingerprint)", () => {
    const index = indexFrom(SEED_001_WITH_OUTLIER);
    const dr = index.get(DR_KEY)!.object;
    const own = groupOf(index, 'MM101', dr);
    expect(jointFix(own, dr, context(index, ['MM101']))).toBe(own);
  });
});

describe('jointRefusal', () => {
  const g = {
    rule: 'MM101',
    joined: [
      {
        rule: 'MM107',
        resource: { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'shop', name: 'httpbin' },
        proposeOnly: false,
      },
    ],
  };
  it('applies a joint fix automatically only when every rule in it is in Enforce there', () => {
    expect(jointRefusal(g, () => 'Enforce')).toBeUndefined();
    expect(jointRefusal(g, () => 'Propose')).toContain('MM107 is not in Enforce there');
    expect(jointRefusal(g, () => undefined)).toContain('MM107 is not in Enforce there');
    expect(jointRefusal({ rule: 'MM101' }, () => 'Propose')).toBeUndefined();
  });
});
