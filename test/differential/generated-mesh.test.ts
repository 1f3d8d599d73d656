// A generated mesh of about 1k objects with known faults goes through meshmedic and Istio's generator.
import { describe, expect, it } from 'vitest';
import { generateMesh } from '../../bench/generate-mesh.js';
import { analyzeAndVerify, disagreements } from './oracle.js';

describe('a generated 1k-object mesh judged by Istio', () => {
  it('confirms every error finding, refutes none, and no fix breaks another call', async () => {
    const mesh = generateMesh({ size: 1000, seed: 7 });
    const report = await analyzeAndVerify(mesh.objects);
    expect(report.verdicts.length).toBeGreaterThan(5);
    expect(disagreements(report)).toEqual([]);
    const errors = report.verdicts.filter((v) => v.severity === 'error');
    expect(errors.filter((v) => v.verdict === 'refuted')).toEqual([]);
    expect(errors.some((v) => v.verdict === 'confirmed')).toBe(true);
  }, 600_000);
});
