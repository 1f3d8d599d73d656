import { effectiveFor, parsePolicy } from '../controller/policies.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject } from '../model/types.js';
import type { Rule, RuleParameters } from '../rules/types.js';
import { analyze, compareFindings, type AnalyzeOptions, type AnalyzeResult } from './analyze.js';

export interface PolicySettings {
  params: Partial<RuleParameters>;
  disabledRules: string[];
}

/**
 * Rule parameters and disabled rules of a MeshHealthPolicy, read by the operator's parser (parsePolicy):
 * offline and in-cluster read a policy alike. A policy with problems sets nothing (load-mesh reports why).
 * Not scoped: where the policy applies, see analyzeUnderPolicy.
 */
export function policySettings(policy: KubeObject | undefined): PolicySettings {
  if (!policy) return { params: {}, disabledRules: [] };
  const parsed = parsePolicy(policy);
  if (parsed.problems.length > 0) return { params: {}, disabledRules: [] };
  return {
    params: parsed.params,
    disabledRules: (parsed.spec.rules ?? []).filter((r) => r.enabled === false).map((r) => r.id),
  };
}

/**
 * The analysis offline as the operator scopes a policy (effectiveFor): its parameters and disabled rules
 * apply to the subjects in the namespaces it covers (spec.namespaces, spec.namespaceSelector against the
 * input's Namespace labels) and not excluded; every other subject is judged with the rules' defaults.
 * A policy with problems applies nothing (load-mesh reports why).
 */
export function analyzeUnderPolicy(
  index: MeshIndex,
  policy: KubeObject | undefined,
  options: AnalyzeOptions & { rules: readonly Rule[] },
): AnalyzeResult {
  const parsed = policy ? parsePolicy(policy) : undefined;
  if (!parsed || parsed.problems.length > 0) return analyze(index, { ...options, params: {} });
  const labels = new Map(index.ofKind('Namespace').map((n) => [n.metadata.name, n.metadata.labels ?? {}]));
  const covered: KubeObject[] = [];
  const others: KubeObject[] = [];
  for (const kind of new Set(options.rules.flatMap((r) => r.subjects))) {
    for (const o of index.ofKind(kind)) {
      const ns = o.metadata.namespace ?? '';
      (effectiveFor([parsed], ns, labels.get(ns) ?? {}, { kind: o.kind, name: o.metadata.name })
        ? covered
        : others
      ).push(o);
    }
  }
  const disabled = new Set((parsed.spec.rules ?? []).filter((r) => r.enabled === false).map((r) => r.id));
  const inScope = analyze(
    index,
    { ...options, rules: options.rules.filter((r) => !disabled.has(r.id)), params: parsed.params },
    covered,
  );
  const outOfScope = analyze(index, { ...options, params: {} }, others);
  return {
    findings: [...inScope.findings, ...outOfScope.findings].sort(compareFindings),
    diagnostics: [...inScope.diagnostics, ...outOfScope.diagnostics],
  };
}
