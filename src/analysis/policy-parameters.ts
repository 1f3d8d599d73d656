import { parseDurationMs } from '../model/durations.js';
import type { KubeObject } from '../model/types.js';
import type { RuleParameters } from '../rules/types.js';

interface PolicyRule {
  id: string;
  enabled?: boolean;
  parameters?: { minRouteTimeout?: string; defaultRouteTimeout?: string; keepAliveIdleTimeout?: string; maxEjectionPercent?: number };
}

export interface PolicySettings {
  params: Partial<RuleParameters>;
  disabledRules: string[];
}

/** Rule parameters and disabled rules from a MeshHealthPolicy (already schema-checked). */
export function policySettings(policy: KubeObject | undefined): PolicySettings {
  const out: PolicySettings = { params: {}, disabledRules: [] };
  const rules = ((policy?.spec as { rules?: PolicyRule[] } | undefined)?.rules ?? []) as PolicyRule[];
  for (const r of rules) {
    if (r.enabled === false) out.disabledRules.push(r.id);
    const p = r.parameters;
    if (!p) continue;
    const ms = (v: string | undefined): number | undefined => (v === undefined ? undefined : parseDurationMs(v));
    const min = ms(p.minRouteTimeout);
    const def = ms(p.defaultRouteTimeout);
    const keep = ms(p.keepAliveIdleTimeout);
    if (min !== undefined) out.params.minRouteTimeoutMs = min;
    if (def !== undefined) out.params.defaultRouteTimeoutMs = def;
    if (keep !== undefined) out.params.keepAliveIdleTimeoutMs = keep;
    if (p.maxEjectionPercent !== undefined) out.params.maxEjectionPercent = p.maxEjectionPercent;
  }
  return out;
}
