import { describe, expect, it } from 'vitest';
import { check, fixAndRecheck } from '../helpers.js';

const pod = (name: string, labels: string, ns = 'shop') => `
---
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: ${ns}, labels: ${labels}}
spec: {containers: [{name: app}]}
`;
const sidecar = (name: string, selector?: string, ns = 'shop', created?: string) => `
---
apiVersion: networking.istio.io/v1
kind: Sidecar
metadata: {name: ${name}, namespace: ${ns}${created ? `, creationTimestamp: "${created}"` : ''}}
spec:
${selector ? `  workloadSelector: {labels: ${selector}}\n` : ''}  egress: [{hosts: ["./*"]}]
`;
const summary = (fs: ReturnType<typeof check>) =>
  fs.map((f) => [f.messageType, f.severity, `${f.resource.namespace}/${f.resource.name}`]);

describe('MM218 conflicting-sidecars', () => {
  it('two Sidecars selecting one pod (same or overlapping selectors): both flagged, the oldest named as the one used', () => {
    const yaml =
      pod('ratings-1', '{app: ratings, tier: back}') +
      sidecar('by-app', '{app: ratings}', 'shop', '2026-01-02T00:00:00Z') +
      sidecar('by-tier', '{tier: back}', 'shop', '2026-01-01T00:00:00Z');
    const f = check('MM218', yaml);
    expect(summary(f)).toEqual([
      ['SameWorkload', 'warning', 'shop/by-app'],
      ['SameWorkload', 'warning', 'shop/by-tier'],
    ]);
    expect(f[0]?.message).toContain('Istio uses only Sidecar shop/by-tier');
    expect(f[0]?.message).toContain('pod ratings-1');
    expect(fixAndRecheck('MM218', yaml).after).toHaveLength(2); // no automatic fix
  });

  it('no finding: selectors that match different pods, no pod at all, a pod in another namespace, an ambient pod', () => {
    expect(
      check(
        'MM218',
        pod('a', '{app: a}') + pod('b', '{app: b}') + sidecar('sa', '{app: a}') + sidecar('sb', '{app: b}'),
      ),
    ).toEqual([]);
    expect(check('MM218', sidecar('s1', '{app: a}') + sidecar('s2', '{app: a}'))).toEqual([]);
    expect(
      check('MM218', pod('a', '{app: a}', 'other') + sidecar('s1', '{app: a}') + sidecar('s2', '{app: a}')),
    ).toEqual([]);
    expect(
      check(
        'MM218',
        pod('a', '{app: a, istio.io/dataplane-mode: ambient}') + sidecar('s1', '{app: a}') + sidecar('s2', '{app: a}'),
      ),
    ).toEqual([]);
  });

  it('several Sidecars without workloadSelector in one namespace: each flagged; one namespace-wide plus a selecting one is fine', () => {
    const f = check('MM218', sidecar('b-wide') + sidecar('a-wide') + sidecar('wide', undefined, 'other'));
    expect(summary(f)).toEqual([
      ['SeveralNamespaceWide', 'warning', 'shop/a-wide'],
      ['SeveralNamespaceWide', 'warning', 'shop/b-wide'],
    ]);
    expect(f[0]?.message).toContain('Istio uses only Sidecar shop/a-wide');
    expect(check('MM218', pod('a', '{app: a}') + sidecar('wide') + sidecar('sa', '{app: a}'))).toEqual([]);
  });
});
