import type { KubeObject } from '../model/types.js';
import type { Policy } from './policies.js';
import { sameContent, type FindingGroup } from './remediation.js';

interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
  observedGeneration: number;
}

/**
 * The status a MeshHealthPolicy should have, or undefined when its current status already says it (so
 * an unchanged mesh writes nothing). lastEvaluationTime moves only when the findings change.
 */
export function policyStatus(policy: Policy, obj: KubeObject, groups: FindingGroup[]): Record<string, unknown> | undefined {
  const current = (obj.status ?? {}) as { conditions?: Condition[]; findings?: unknown; observedGeneration?: number; lastEvaluationTime?: string };
  const byRule: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  for (const g of groups) {
    byRule[g.rule] = (byRule[g.rule] ?? 0) + g.findings.length;
    bySeverity[g.severity] = (bySeverity[g.severity] ?? 0) + g.findings.length;
  }
  const findings = { byRule, bySeverity };
  const invalid = policy.problems.length > 0;
  const problemText = policy.problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  const now = new Date().toISOString();
  const cond = (type: string, status: Condition['status'], reason: string, message: string): Condition => {
    const prev = current.conditions?.find((c) => c.type === type);
    return { type, status, reason, message, observedGeneration: policy.generation, lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now };
  };
  const conditions = [
    invalid ? cond('Ready', 'False', 'InvalidSpec', problemText) : cond('Ready', 'True', 'Evaluating', 'the policy is valid and being enforced'),
    invalid ? cond('Degraded', 'True', 'InvalidSpec', problemText) : cond('Degraded', 'False', 'AsExpected', 'no problem'),
  ];
  const findingsChanged = !sameContent(current.findings ?? {}, findings);
  const unchanged = !findingsChanged && current.observedGeneration === policy.generation && sameContent(current.conditions ?? [], conditions);
  if (unchanged) return undefined;
  // A JSON merge patch keeps map keys it does not name: send null for counts that went away.
  const nulls = (prev: unknown, next: Record<string, number>): Record<string, number | null> => {
    const out: Record<string, number | null> = { ...next };
    for (const k of Object.keys((prev as Record<string, number> | undefined) ?? {})) if (!(k in next)) out[k] = null;
    return out;
  };
  const prevFindings = (current.findings ?? {}) as { byRule?: unknown; bySeverity?: unknown };
  return {
    observedGeneration: policy.generation,
    findings: { byRule: nulls(prevFindings.byRule, byRule), bySeverity: nulls(prevFindings.bySeverity, bySeverity) },
    conditions,
    lastEvaluationTime: findingsChanged || !current.lastEvaluationTime ? now : current.lastEvaluationTime,
  };
}
