import { describe, expect, it } from 'vitest';
import { effectiveFor, parsePolicy, type Policy } from '../../../src/controller/policies.js';
import type { KubeObject } from '../../../src/model/types.js';
import { RULES } from '../../../src/rules/registry.js';

let created = 0;
/** A MeshHealthPolicy as read from the cluster; later calls are younger. */
function policy(name: string, spec: Record<string, unknown>, createdAt?: string): Policy {
  created++;
  const obj: KubeObject = {
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshHealthPolicy',
    metadata: {
      name,
      generation: 1,
      creationTimestamp: createdAt ?? `2025-01-01T00:00:${String(created).padStart(2, '0')}Z`,
    },
    spec,
  };
  return parsePolicy(obj);
}

function modes(eff: ReturnType<typeof effectiveFor>): Record<string, string> {
  return Object.fromEntries((eff?.rules ?? []).map((r) => [r.id, r.mode]));
}

describe('effectiveFor: what applies when several policies cover a namespace', () => {
  it('the most cautious mode wins, per rule', () => {
    const enforce = policy('platform', { mode: 'Enforce' });
    const propose = policy('shop-team', {
      mode: 'Propose',
      namespaces: ['shop'],
      rules: [{ id: 'MM105', mode: 'Observe' }],
    });
    const eff = effectiveFor([enforce, propose], 'shop', {});
    expect(modes(eff)['MM101']).toBe('Propose');
    expect(modes(eff)['MM105']).toBe('Observe');
    expect(eff?.policies).toEqual(['platform', 'shop-team']);
    // Where only the Enforce policy applies, it enforces.
    expect(modes(effectiveFor([enforce, propose], 'payments', {}))['MM101']).toBe('Enforce');
  });

  it('a rule disabled by any covering policy does not run, even if another enforces it', () => {
    const enforce = policy('platform', { mode: 'Enforce', rules: [{ id: 'MM107', mode: 'Enforce' }] });
    const disable = policy('shop-team', { namespaces: ['shop'], rules: [{ id: 'MM107', enabled: false }] });
    const eff = effectiveFor([enforce, disable], 'shop', {});
    expect(modes(eff)['MM107']).toBeUndefined();
    expect(Object.keys(modes(eff))).toHaveLength(RULES.length - 1);
    expect(modes(effectiveFor([enforce, disable], 'other', {}))['MM107']).toBe('Enforce');
  });

  it('takes the smallest write rate, and each parameter from the oldest policy that sets it', () => {
    const older = policy(
      'older',
      { enforce: { maxWritesPerMinute: 60 }, rules: [{ id: 'MM105', parameters: { minRouteTimeout: '2s' } }] },
      '2024-01-01T00:00:00Z',
    );
    const newer = policy(
      'newer',
      {
        enforce: { maxWritesPerMinute: 5 },
        rules: [
          { id: 'MM105', parameters: { minRouteTimeout: '5s' } },
          { id: 'MM107', parameters: { maxEjectionPercent: 30 } },
        ],
      },
      '2025-06-01T00:00:00Z',
    );
    const eff = effectiveFor([newer, older], 'shop', {});
    expect(eff?.maxWritesPerMinute).toBe(5);
    expect(eff?.params).toEqual({ minRouteTimeoutMs: 2_000, maxEjectionPercent: 30 });
    expect(eff?.policies).toEqual(['older', 'newer']);
  });

  it('an exclusion leaves the object out of that policy only', () => {
    const strict = policy('strict', { mode: 'Enforce', exclusions: [{ kind: 'DestinationRule', name: 'legacy' }] });
    expect(effectiveFor([strict], 'shop', {}, { kind: 'DestinationRule', name: 'legacy' })).toBeUndefined();
    expect(modes(effectiveFor([strict], 'shop', {}, { kind: 'DestinationRule', name: 'reviews' }))['MM101']).toBe(
      'Enforce',
    );
    expect(modes(effectiveFor([strict], 'shop', {}, { kind: 'ServiceEntry', name: 'legacy' }))['MM103']).toBe(
      'Enforce',
    );
    // Another policy still covers the excluded object.
    const observe = policy('observe-all', { mode: 'Observe' });
    const eff = effectiveFor([strict, observe], 'shop', {}, { kind: 'DestinationRule', name: 'legacy' });
    expect([modes(eff)['MM101'], eff?.policies]).toEqual(['Observe', ['observe-all']]);
  });

  it('an exclusion with a namespace applies in that namespace only', () => {
    const p = policy('p', { mode: 'Propose', exclusions: [{ namespace: 'legacy-apps', name: 'reviews' }] });
    expect(effectiveFor([p], 'legacy-apps', {}, { kind: 'VirtualService', name: 'reviews' })).toBeUndefined();
    expect(effectiveFor([p], 'shop', {}, { kind: 'VirtualService', name: 'reviews' })).toBeDefined();
  });

  it('namespaceSelector matchLabels and matchExpressions (In, NotIn, Exists, DoesNotExist), combined with namespaces', () => {
    const sel = policy('selected', {
      namespaces: ['listed'],
      namespaceSelector: {
        matchLabels: { mesh: 'istio' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'staging'] },
          { key: 'tier', operator: 'NotIn', values: ['experimental'] },
          { key: 'team', operator: 'Exists' },
          { key: 'meshmedic.io/skip', operator: 'DoesNotExist' },
        ],
      },
    });
    const base = { mesh: 'istio', env: 'prod', team: 'shop' };
    expect(effectiveFor([sel], 'a', base)).toBeDefined();
    expect(effectiveFor([sel], 'a', { ...base, tier: 'backend' })).toBeDefined();
    expect(effectiveFor([sel], 'a', { ...base, mesh: 'linkerd' })).toBeUndefined();
    expect(effectiveFor([sel], 'a', { ...base, env: 'dev' })).toBeUndefined();
    expect(effectiveFor([sel], 'a', { mesh: 'istio', team: 'shop' })).toBeUndefined(); // In: key absent
    expect(effectiveFor([sel], 'a', { ...base, tier: 'experimental' })).toBeUndefined();
    expect(effectiveFor([sel], 'a', { mesh: 'istio', env: 'prod' })).toBeUndefined(); // Exists
    expect(effectiveFor([sel], 'a', { ...base, 'meshmedic.io/skip': '' })).toBeUndefined(); // DoesNotExist, even empty
    expect(effectiveFor([sel], 'listed', {})).toBeDefined(); // listed by name: no labels needed
  });

  it('a policy with neither namespaces nor selector covers every namespace; an invalid one covers none', () => {
    expect(effectiveFor([policy('all', {})], 'anything', {})).toBeDefined();
    expect(effectiveFor([policy('broken', { rules: [{ id: 'MM999' }] })], 'anything', {})).toBeUndefined();
    expect(effectiveFor([], 'anything', {})).toBeUndefined();
  });
});

describe('parsePolicy: problems name the field', () => {
  it("refuses what the CRD refuses, in the API server's words, and the operator fails closed where the policy applies", () => {
    const bad = policy('bad-bound', {
      mode: 'Enforce',
      namespaces: ['shop'],
      rules: [{ id: 'MM107', parameters: { maxEjectionPercent: 100 } }],
    });
    expect(bad.problems).toEqual([
      {
        field: 'spec.rules[0].parameters.maxEjectionPercent',
        message:
          'Invalid value: 100: spec.rules[0].parameters.maxEjectionPercent in body should be less than or equal to 99',
        schema: true,
      },
    ]);
    expect(bad.params).toEqual({});
    const platform = policy('platform', { mode: 'Enforce' });
    expect(modes(effectiveFor([platform, bad], 'shop', {}))['MM101']).toBe('Observe');
    expect(modes(effectiveFor([platform, bad], 'other', {}))['MM101']).toBe('Enforce');
  });

  it('a refused policy whose namespaces cannot be read fails closed everywhere', () => {
    const bad = policy('bad-namespaces', { namespaces: 'shop' });
    expect(bad.problems.map((p) => p.field)).toEqual(['spec.namespaces']);
    expect(effectiveFor([policy('platform', { mode: 'Enforce' }), bad], 'anything', {})?.failedClosedBy).toEqual([
      'bad-namespaces',
    ]);
  });

  it('names each invalid field with what was wrong', () => {
    const p = policy('bad', {
      istioVersion: 'latest',
      namespaceSelector: { matchExpressions: [{ key: 'env', operator: 'In' }] },
      rules: [
        { id: 'MM105', parameters: { minRouteTimeout: 'soon', defaultRouteTimeout: '0s' } },
        { id: 'MM999' },
        { id: 'MM107', parameters: { maxEjectionPercent: 100 } },
      ],
    });
    const byField = Object.fromEntries(p.problems.map((x) => [x.field, x.message]));
    expect(Object.keys(byField).sort()).toEqual([
      'spec.istioVersion',
      'spec.namespaceSelector.matchExpressions[0].values',
      'spec.rules[0].parameters.defaultRouteTimeout',
      'spec.rules[0].parameters.minRouteTimeout',
      'spec.rules[1].id',
      'spec.rules[2].parameters.maxEjectionPercent',
    ]);
    expect(byField['spec.rules[1].id']).toContain('unknown rule MM999');
    expect(byField['spec.rules[0].parameters.minRouteTimeout']).toContain('"soon"');
    expect(byField['spec.rules[2].parameters.maxEjectionPercent']).toContain('100');
    expect(byField['spec.istioVersion']).toContain('"latest"');
  });

  it('reads a valid policy without problems: durations, bounds, version, write rate', () => {
    const p = policy('good', {
      istioVersion: '1.22.3',
      enforce: { maxWritesPerMinute: 10 },
      rules: [
        { id: 'MM105', parameters: { minRouteTimeout: '1500ms', keepAliveIdleTimeout: '1m' } },
        { id: 'MM107', parameters: { maxEjectionPercent: 40 } },
      ],
    });
    expect(p.problems).toEqual([]);
    expect(p.params).toEqual({ minRouteTimeoutMs: 1_500, keepAliveIdleTimeoutMs: 60_000, maxEjectionPercent: 40 });
    expect(p.istioVersion).toEqual({ major: 1, minor: 22 });
    expect(p.maxWritesPerMinute).toBe(10);
    expect(policy('defaults', {}).maxWritesPerMinute).toBe(30);
  });
});
