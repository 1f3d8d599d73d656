import { parsePolicy } from '../controller/policies.js';
import type { KubeObject } from '../model/types.js';
import type { RuleParameters } from '../rules/types.js';

export interface PolicySettings {
  params: Partial<RuleParameters>;
  disabledRules: string[];
}

/**
 * Rule parameters and disabled rules of a MeshHealthPolicy, read by the operator's parser (parsePolicy):
 * offline and in-cluster read a policy alike. A policy with problems sets nothing (load-mesh reports why).
 */
export function policySettings(policy: KubeObject | undefined): PolicySettings {
  if (!policy) return { params: {}, disabledRules: [] };
  const parsed = parsePolicy(policy);
  if (parsed.problems.length > 0) return { params: {}, disabledRules: [] };
  return { params: parsed.params, disabledRules: (parsed.spec.rules ?? []).filter((r) => r.enabled === false).map((r) => r.id) };
}
