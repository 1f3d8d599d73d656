import { appendFileSync } from 'node:fs';
import { expect } from 'vitest';
import { analyze, type AnalyzeOptions } from '../../src/analysis/analyze.js';
import { applyFixes } from '../../src/fix/apply-fixes.js';
import { parseDocuments } from '../../src/input/parse-documents.js';
import { decodeDocuments } from '../../src/model/decode.js';
import { MeshIndex } from '../../src/model/mesh-index.js';
import type { KubeObject, MeshConfig } from '../../src/model/types.js';
import { DEFAULT_MESH_CONFIG } from '../../src/model/types.js';
import { ruleById } from '../../src/rules/registry.js';
import type { Finding } from '../../src/rules/types.js';

export function objectsFrom(yaml: string): KubeObject[] {
  const { documents, diagnostics } = parseDocuments(yaml, 'test.yaml');
  const decoded = decodeDocuments(documents);
  const problems = [...diagnostics, ...decoded.diagnostics];
  if (problems.length > 0) throw new Error(`test input invalid: ${JSON.stringify(problems)}`);
  return decoded.objects.map((o) => o.object);
}

export function indexFrom(yaml: string, meshConfig?: Partial<MeshConfig>): MeshIndex {
  const objects = objectsFrom(yaml).map((object, i) => ({ object, source: { file: 'test.yaml', line: i + 1 } }));
  return new MeshIndex(objects, meshConfig ? { meshConfig: { ...DEFAULT_MESH_CONFIG, ...meshConfig } } : {});
}

/** One rule case as the differential suite replays it through Istio's own generator (test/differential). */
export interface RecordedCase {
  test: string;
  rule: string;
  yaml: string;
  opts: AnalyzeOptions & { mesh?: Partial<MeshConfig> };
  findings: number;
}

/** With MESHMEDIC_RECORD_CASES=FILE, every rule case the unit tests run is appended to FILE (JSON lines). */
function record(rule: string, yaml: string, opts: RecordedCase['opts'], findings: Finding[]): void {
  const file = process.env['MESHMEDIC_RECORD_CASES'];
  if (!file) return;
  const kept: RecordedCase['opts'] = {
    ...(opts.mesh ? { mesh: opts.mesh } : {}),
    ...(opts.params ? { params: opts.params } : {}),
    ...(opts.istioVersion ? { istioVersion: opts.istioVersion } : {}),
    ...(opts.complete ? { complete: true } : {}),
  };
  const c: RecordedCase = {
    test: expect.getState().currentTestName ?? '',
    rule,
    yaml,
    opts: kept,
    findings: findings.length,
  };
  appendFileSync(file, JSON.stringify(c) + '\n');
}

/** Runs one rule on a mesh given as YAML. */
export function check(
  ruleId: string,
  yaml: string,
  opts: AnalyzeOptions & { mesh?: Partial<MeshConfig> } = {},
): Finding[] {
  const rule = ruleById(ruleId);
  if (!rule) throw new Error(`no rule ${ruleId}`);
  const findings = analyze(indexFrom(yaml, opts.mesh), { ...opts, rules: [rule] }).findings;
  record(ruleId, yaml, opts, findings);
  return findings;
}

/** The objects after applying the findings' fixes, and what the rule says about them then. */
export function fixAndRecheck(
  ruleId: string,
  yaml: string,
  opts: AnalyzeOptions & { mesh?: Partial<MeshConfig> } = {},
): { objects: KubeObject[]; after: Finding[]; failures: number } {
  const rule = ruleById(ruleId);
  if (!rule) throw new Error(`no rule ${ruleId}`);
  const objects = objectsFrom(yaml);
  const findings = check(ruleId, yaml, opts);
  const fixed = applyFixes(objects, findings);
  const all = [...fixed.objects, ...fixed.created];
  const index = new MeshIndex(
    all.map((object) => ({ object, source: { file: 'fixed', line: 0 } })),
    opts.mesh ? { meshConfig: { ...DEFAULT_MESH_CONFIG, ...opts.mesh } } : {},
  );
  return { objects: all, after: analyze(index, { ...opts, rules: [rule] }).findings, failures: fixed.failures.length };
}

export function find(objects: KubeObject[], kind: string, name: string): KubeObject {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind} ${name} not found`);
  return o;
}

export const strictMeshWide = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: STRICT}}
`;

export const httpbinService = `
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: foo}
spec:
  clusterIP: 10.0.0.10
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 80}, {name: grpc, port: 9000}]
`;
