// The differential suite's access to the oracle and the shared verification of a mesh given as YAML.
import { dump } from 'js-yaml';
import { analyze, type AnalyzeOptions } from '../../src/analysis/analyze.js';
import { MeshIndex } from '../../src/model/mesh-index.js';
import type { KubeObject, MeshConfig } from '../../src/model/types.js';
import { DEFAULT_MESH_CONFIG } from '../../src/model/types.js';
import { ruleById } from '../../src/rules/registry.js';
import { DEFAULT_ISTIO_VERSION } from '../../src/analysis/analyze.js';
import { locateOracle, runOracle } from '../../src/verify/oracle-client.js';
import { verify, type VerifyReport } from '../../src/verify/verify.js';

let binary: Promise<string> | undefined;

/** The oracle binary; `npm test` builds it first (npm run testbed:build). */
export function oracleBinary(): Promise<string> {
  binary ??= locateOracle();
  return binary;
}

/** A MeshConfig (meshmedic's model of it) as the `mesh` YAML Istio reads. */
export function meshConfigYaml(mesh: Partial<MeshConfig> | undefined): string | undefined {
  if (!mesh) return undefined;
  const out: Record<string, unknown> = {};
  if (mesh.enableAutoMtls !== undefined) out['enableAutoMtls'] = mesh.enableAutoMtls;
  if (mesh.rootNamespace !== undefined) out['rootNamespace'] = mesh.rootNamespace;
  if (mesh.outboundTrafficPolicy !== undefined) out['outboundTrafficPolicy'] = { mode: mesh.outboundTrafficPolicy };
  if (mesh.proxyMetadata && Object.keys(mesh.proxyMetadata).length > 0)
    out['defaultConfig'] = { proxyMetadata: mesh.proxyMetadata };
  return dump(out);
}

/** meshmedic's findings on the objects (one rule, or all), then Istio's verdict on each. */
export async function analyzeAndVerify(
  objects: KubeObject[],
  opts: AnalyzeOptions & { mesh?: Partial<MeshConfig>; rule?: string; meshConfigText?: string } = {},
): Promise<VerifyReport> {
  const index = new MeshIndex(
    objects.map((object, i) => ({ object, source: { file: 'case.yaml', line: i + 1 } })),
    opts.mesh ? { meshConfig: { ...DEFAULT_MESH_CONFIG, ...opts.mesh } } : {},
  );
  const rule = opts.rule ? ruleById(opts.rule) : undefined;
  const istioVersion = opts.istioVersion ?? DEFAULT_ISTIO_VERSION;
  const { findings } = analyze(index, {
    ...(opts.params ? { params: opts.params } : {}),
    istioVersion,
    ...(opts.complete ? { complete: true } : {}),
    ...(rule ? { rules: [rule] } : {}),
  });
  const bin = await oracleBinary();
  const meshConfig = opts.meshConfigText ?? meshConfigYaml(opts.mesh);
  return verify({ index, objects, findings, istioVersion, ...(meshConfig ? { meshConfig } : {}) }, (request, flags) =>
    runOracle(bin, request, flags),
  );
}

/** The disagreements of a report, each with meshmedic's claim and Istio's evidence side by side. */
export function disagreements(report: VerifyReport): string[] {
  return report.verdicts
    .filter((v) => v.verdict === 'refuted' || v.fix === 'fix-breaks')
    .map(
      (v) =>
        `${v.rule} ${v.resource.kind} ${v.resource.namespace ?? ''}/${v.resource.name}: verdict ${v.verdict}, fix ${v.fix}\n  meshmedic: ${v.message}\n  Istio: ${v.evidence}${v.fixEvidence ? `\n  fix: ${v.fixEvidence}` : ''}`,
    );
}
