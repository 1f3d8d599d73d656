import { describe, expect, it } from 'vitest';
import { withoutNoOpPatches } from '../../src/fix/no-op-patches.js';
import { refKey } from '../../src/model/kinds.js';
import type { KubeObject } from '../../src/model/types.js';
import type { Finding } from '../../src/rules/types.js';

const dr: KubeObject = {
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'reviews', namespace: 'shop' },
  spec: { host: 'reviews', trafficPolicy: { outlierDetection: { maxEjectionPercent: 100 } } },
};
const target = { apiVersion: dr.apiVersion, kind: dr.kind, namespace: 'shop', name: 'reviews' };
const path = '/spec/trafficPolicy/outlierDetection/maxEjectionPercent';
const finding = (value: number): Finding => ({
  rule: 'MM107',
  messageType: 'EjectsAllEndpoints',
  severity: 'error',
  resource: target,
  related: [],
  symptom: '503 UH',
  message: '503 UH: test',
  fix: {
    patches: [
      {
        target,
        patch: [
          { op: 'test', path, value: 100 },
          { op: 'replace', path, value },
        ],
      },
    ],
    create: [],
  },
});
const lookup = (key: string): KubeObject | undefined => (key === refKey(target) ? dr : undefined);

describe('a fix that changes nothing is never proposed', () => {
  it('drops a patch that would leave its target as it is, and says so in the notes', () => {
    const f = withoutNoOpPatches(finding(100), lookup);
    expect(f.fix.patches).toEqual([]);
    expect(f.fix.notes).toEqual(['no patch of DestinationRule shop/reviews: it would change nothing']);
  });

  it('keeps a patch that changes the target, and leaves the object untouched', () => {
    const f = withoutNoOpPatches(finding(50), lookup);
    expect(f.fix.patches).toHaveLength(1);
    expect(f.fix.notes).toBeUndefined();
    expect(
      (dr.spec as { trafficPolicy: { outlierDetection: { maxEjectionPercent: number } } }).trafficPolicy
        .outlierDetection.maxEjectionPercent,
    ).toBe(100);
  });
});
