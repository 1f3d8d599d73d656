import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/generate-mesh.js';
import { analyze } from '../../src/analysis/analyze.js';
import { decodeDocuments } from '../../src/model/decode.js';
import { MeshIndex } from '../../src/model/mesh-index.js';

describe('synthetic mesh generator (smoke run at small size)', () => {
  it('is deterministic and the rules find exactly the faults it injects, nothing else', () => {
    const a = generateMesh({ size: 1000, seed: 7 });
    const b = generateMesh({ size: 1000, seed: 7 });
    expect(JSON.stringify(a.objects)).toBe(JSON.stringify(b.objects));
    expect(a.objects.length).toBeGreaterThan(900);
    expect(a.objects.length).toBeLessThan(1100);

    const decoded = decodeDocuments(a.objects.map((value, i) => ({ value, file: 'generated', line: i + 1 })));
    expect(decoded.diagnostics).toEqual([]);
    // The generator injects 100 ms route timeouts; MM105's threshold form runs when a policy sets a minimum.
    const { findings } = analyze(new MeshIndex(decoded.objects), { params: { minRouteTimeoutMs: 1000 } });
    const byRule: Record<string, number> = {};
    for (const f of findings) byRule[f.rule] = (byRule[f.rule] ?? 0) + 1;
    const expected = Object.fromEntries(Object.entries(a.expected).filter(([, n]) => n > 0));
    expect(byRule).toEqual(expected);
    expect(Object.values(expected).reduce((s, n) => s + n, 0)).toBeGreaterThan(5);
  });
});
