import { withDataPlane } from './data-plane-verdict.js';
import { withoutNoOpPatches } from '../fix/no-op-patches.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import { kindKey, objectKey } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject } from '../model/types.js';
import { RULES } from '../rules/registry.js';
import {
  DEFAULT_PARAMETERS,
  SEVERITY_ORDER,
  type Finding,
  type IstioVersion,
  type Rule,
  type RuleContext,
  type RuleParameters,
} from '../rules/types.js';

export const DEFAULT_ISTIO_VERSION: IstioVersion = { major: 1, minor: 28 };

export interface AnalyzeOptions {
  rules?: readonly Rule[];
  params?: Partial<RuleParameters>;
  istioVersion?: IstioVersion;
  /** The snapshot is all the mesh has (the operator's cache, `analyze --complete`): absence is certain. */
  complete?: boolean;
}

export interface AnalyzeResult {
  findings: Finding[];
  /** A rule that threw on an object: reported, the analysis goes on. */
  diagnostics: InputDiagnostic[];
}

export function ruleContext(index: MeshIndex, options: AnalyzeOptions): RuleContext {
  return {
    index,
    params: { ...DEFAULT_PARAMETERS, ...options.params },
    istioVersion: options.istioVersion ?? DEFAULT_ISTIO_VERSION,
    complete: options.complete ?? false,
  };
}

/** Runs the rules on the given subjects (all objects when omitted). Pure: no I/O. */
export function analyze(
  index: MeshIndex,
  options: AnalyzeOptions = {},
  subjects?: Iterable<KubeObject>,
): AnalyzeResult {
  const ctx = ruleContext(index, options);
  const rules = options.rules ?? RULES;
  const result: AnalyzeResult = { findings: [], diagnostics: [] };
  const byKind = new Map<string, Rule[]>();
  for (const r of rules) for (const k of r.subjects) byKind.set(k, [...(byKind.get(k) ?? []), r]);
  const objects = subjects ? [...subjects] : [...byKind.keys()].flatMap((k) => index.ofKind(k));
  for (const o of objects) {
    for (const rule of byKind.get(kindKey(o)) ?? []) {
      try {
        for (const found of rule.check(o, ctx)) {
          const f = withDataPlane(
            withoutNoOpPatches(found, (key) => index.get(key)?.object),
            o,
            rule,
            index,
          );
          if (!f) continue;
          const source = index.sourceOf(o);
          result.findings.push(source ? { ...f, source } : f);
        }
      } catch (err) {
        const src = index.sourceOf(o);
        result.diagnostics.push({
          severity: 'error',
          file: src?.file ?? '<cluster>',
          ...(src ? { line: src.line } : {}),
          object: {
            kind: o.kind,
            name: o.metadata.name,
            ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
          },
          message: `rule ${rule.id} failed on this object (${(err as Error).message}); other rules and objects were still analyzed`,
        });
      }
    }
  }
  result.findings.sort(compareFindings);
  return result;
}

export function compareFindings(a: Finding, b: Finding): number {
  return (
    SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
    a.rule.localeCompare(b.rule) ||
    objectKey({ apiVersion: a.resource.apiVersion, kind: a.resource.kind, metadata: a.resource }).localeCompare(
      objectKey({ apiVersion: b.resource.apiVersion, kind: b.resource.kind, metadata: b.resource }),
    ) ||
    a.message.localeCompare(b.message)
  );
}
