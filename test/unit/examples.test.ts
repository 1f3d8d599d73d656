import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analysis/analyze.js';
import { loadMesh } from '../../src/analysis/load-mesh.js';
import { analyzeUnderPolicy, policySettings } from '../../src/analysis/policy-parameters.js';
import { RULES } from '../../src/rules/registry.js';
import { applyFixes } from '../../src/fix/apply-fixes.js';
import { MeshIndex } from '../../src/model/mesh-index.js';
import type { KubeObject } from '../../src/model/types.js';

const EXPECTED: Record<string, string[]> = {
  '000-gateway-external-sni': ['MM102'],
  '001-dr-overrides-mtls': ['MM101', 'MM107'],
  '002-external-passthrough-timeouts': ['MM104', 'MM105', 'MM106'],
  '003-tcp-serviceentry-catch-all': ['MM103'],
  '004-tls-alias-serviceentry-sidecar': ['MM103', 'MM108'],
  'clean-mesh': [],
};

async function analyzeDir(dir: string) {
  const mesh = await loadMesh([dir]);
  const { params } = policySettings(mesh.policy);
  return { mesh, params, result: analyze(mesh.index, { params }) };
}

function reanalyze(objects: KubeObject[], params: object) {
  const index = new MeshIndex(
    objects
      .filter((o) => o.kind !== 'MeshHealthPolicy')
      .map((object) => ({ object, source: { file: 'fixed', line: 0 } })),
  );
  return analyze(index, { params });
}

describe('bundled examples', () => {
  it("analyzed together (npm start), each example's policy stays in its namespaces", async () => {
    const mesh = await loadMesh(['examples']);
    expect(mesh.diagnostics).toEqual([]);
    const { findings } = analyzeUnderPolicy(mesh.index, mesh.policy, { rules: RULES });
    // Example 002's minRouteTimeout and keepAliveIdleTimeout. (Example 001's mesh config, auto mTLS off, is
    // mesh-wide by nature: analyzed as one mesh, the other examples' Services get its MM101 warnings.)
    expect(
      findings.filter((f) => (f.rule === 'MM105' || f.rule === 'MM106') && f.resource.namespace !== 'xyz'),
    ).toEqual([]);
    expect(findings.filter((f) => f.resource.namespace === 'bookinfo' && f.severity === 'error')).toEqual([]);
    expect(findings.some((f) => f.messageType === 'TimeoutBelowMinimum' && f.resource.namespace === 'xyz')).toBe(true);
  });

  it('covers every folder in examples/', () => {
    expect(readdirSync('examples').sort()).toEqual(Object.keys(EXPECTED).sort());
  });

  for (const [name, rules] of Object.entries(EXPECTED)) {
    it(`${name} yields ${rules.join(', ') || 'no findings'}, reads cleanly, and --fix converges in one pass`, async () => {
      const { mesh, params, result } = await analyzeDir(`examples/${name}`);
      expect(mesh.diagnostics).toEqual([]);
      expect([...new Set(result.findings.map((f) => f.rule))].sort()).toEqual(rules);

      const once = applyFixes(
        mesh.inputs.map((i) => i.object),
        result.findings,
      );
      expect(once.failures).toEqual([]);
      const onceObjects = [...once.objects, ...once.created];
      const after = reanalyze(onceObjects, params);
      expect(after.findings.filter((f) => f.severity === 'error')).toEqual([]);

      const twice = applyFixes(onceObjects, after.findings);
      expect([...twice.objects, ...twice.created]).toEqual(onceObjects);
    });
  }
});
