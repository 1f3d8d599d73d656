import { parsePolicy } from '../controller/policies.js';
import type { KubeObject } from '../model/types.js';
import type { RuleParameters } from '../rules/types.js';

export interface PolicySettings {
  params: Partial<RuleParameters>;
  disabledRules: string[];
}

/**
 * Rule parameters and disabled rules of a MeshHealthPolicy already judged acceptable (load-mesh's
 * judgePolicy): the operator's parser, so offline and in-cluster read a policy alike.
 */
export function policySettings(policy: KubeObject | undefined): PolicySettings {
  if (!policy) return { params: {}, disabledRules: [] };
  const parsed = parsePolicy(policy);
  return { params: parsed.params, disabledRules: (parsed.spec.rules ?? []).filter((r) => r.enabled === false).map((r) => r.id) };
}
