import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { write } from './input-helpers.js';
import { cli } from './run-cli-in-process.js';

const dr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: foo}
spec:
  host: httpbin
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}
`;
const policy = (parameters: string): string => `apiVersion: meshmedic.io/v1alpha1
kind: MeshHealthPolicy
metadata: {name: mesh}
spec:
  rules:
  - id: MM107
    parameters: ${parameters}
`;

interface Out {
  findings: { rule: string; messageType: string; fix: { patches: { patch: { op: string; value?: unknown }[] }[] } }[];
  diagnostics: {
    severity: string;
    file: string;
    line?: number;
    field?: string;
    message: string;
    object?: { kind: string; name: string };
  }[];
}

describe('analyze --policy reads a MeshHealthPolicy as the cluster does', () => {
  it("refuses what the CRD refuses, in the API server's words, and applies none of its parameters", async () => {
    const dir = await write({ 'dr.yaml': dr, 'policy.yaml': policy('{maxEjectionPercent: 100}') });
    const r = await cli(['analyze', '-o', 'json', '--policy', join(dir, 'policy.yaml'), join(dir, 'dr.yaml')]);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.out) as Out;
    const cause = out.diagnostics.find((d) => d.field === 'spec.rules[0].parameters.maxEjectionPercent');
    expect(cause).toMatchObject({
      severity: 'error',
      file: join(dir, 'policy.yaml'),
      line: 1,
      object: { kind: 'MeshHealthPolicy', name: 'mesh' },
      message:
        'Invalid value: 100: spec.rules[0].parameters.maxEjectionPercent in body should be less than or equal to 99',
    });
    // The refused bound is not used: the fix bounds to the default, never the no-op "maxEjectionPercent 100".
    const values = out.findings
      .filter((f) => f.rule === 'MM107')
      .flatMap((f) => f.fix.patches.flatMap((p) => p.patch.filter((o) => o.op === 'replace').map((o) => o.value)));
    expect(values).toEqual([50]);
  });

  it("applies a valid policy's parameters", async () => {
    const dir = await write({ 'dr.yaml': dr, 'policy.yaml': policy('{maxEjectionPercent: 30}') });
    const r = await cli(['analyze', '-o', 'json', '--policy', join(dir, 'policy.yaml'), join(dir, 'dr.yaml')]);
    const out = JSON.parse(r.out) as Out;
    expect(out.diagnostics).toEqual([]);
    const values = out.findings
      .filter((f) => f.rule === 'MM107')
      .flatMap((f) => f.fix.patches.flatMap((p) => p.patch.filter((o) => o.op === 'replace').map((o) => o.value)));
    expect(values).toEqual([30]);
  });

  it('reports what the operator would fail closed on (an unknown rule id) the same way', async () => {
    const dir = await write({ 'dr.yaml': dr, 'policy.yaml': policy('{}').replace('MM107', 'MM999') });
    const r = await cli(['analyze', '-o', 'json', join(dir, 'policy.yaml'), join(dir, 'dr.yaml')]);
    const out = JSON.parse(r.out) as Out;
    expect(out.diagnostics.find((d) => d.field === 'spec.rules[0].id')?.message).toContain('unknown rule MM999');
    expect(r.code).toBe(1);
  });

  it('warns of a field the CRD does not declare (kubectl apply refuses it) and still applies the rest', async () => {
    const dir = await write({
      'dr.yaml': dr,
      'policy.yaml': policy('{maxEjectionPercent: 30, externalServiceDefaults: {resolution: DNS}}'),
    });
    const r = await cli(['analyze', '-o', 'json', '--policy', join(dir, 'policy.yaml'), join(dir, 'dr.yaml')]);
    const out = JSON.parse(r.out) as Out;
    expect(out.diagnostics).toEqual([
      expect.objectContaining({
        severity: 'warning',
        field: 'spec.rules[0].parameters.externalServiceDefaults',
        message: expect.stringContaining('unknown field'),
      }),
    ]);
    const values = out.findings
      .filter((f) => f.rule === 'MM107')
      .flatMap((f) => f.fix.patches.flatMap((p) => p.patch.filter((o) => o.op === 'replace').map((o) => o.value)));
    expect(values).toEqual([30]);
  });
});
