import type { KubeObject } from '../model/types.js';
import type { Mode, Policy } from './policies.js';
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
export function policyStatus(
  policy: Policy,
  obj: KubeObject,
  groups: FindingGroup[],
  effect: ModeInEffect,
): Record<string, unknown> | undefined {
  const current = (obj.status ?? {}) as {
    conditions?: Condition[];
    findings?: unknown;
    observedGeneration?: number;
    lastEvaluationTime?: string;
    modeInEffect?: string;
  };
  const byRule: Record<string, number> = {};
  const bySeverity: Record<string, number> = {};
  for (const g of groups) {
    byRule[g.rule] = (byRule[g.rule] ?? 0) + g.findings.length;
    bySeverity[g.severity] = (bySeverity[g.severity] ?? 0) + g.findings.length;
  }
  const total = groups.reduce((n, g) => n + g.findings.length, 0);
  const findings = { byRule, bySeverity, total };
  const invalid = policy.problems.length > 0;
  const problemText = policy.problems.map((p) => `${p.field}: ${p.message}`).join('; ');
  const now = new Date().toISOString();
  const cond = (type: string, status: Condition['status'], reason: string, message: string): Condition => {
    const prev = current.conditions?.find((c) => c.type === type);
    return {
      type,
      status,
      reason,
      message,
      observedGeneration: policy.generation,
      lastTransitionTime: prev && prev.status === status ? prev.lastTransitionTime : now,
    };
  };
  const conditions = [
    invalid
      ? cond(
          'Ready',
          'False',
          'InvalidSpec',
          `${problemText}; it fails closed: the namespaces it names are observed only, nothing is written there`,
        )
      : cond('Ready', 'True', 'Evaluating', readyMessage(policy, effect)),
    invalid
      ? cond('Degraded', 'True', 'InvalidSpec', problemText)
      : cond('Degraded', 'False', 'AsExpected', 'no problem'),
  ];
  const findingsChanged = !sameContent(current.findings ?? {}, findings);
  const unchanged =
    !findingsChanged &&
    current.observedGeneration === policy.generation &&
    current.modeInEffect === effect.mode &&
    sameContent(current.conditions ?? [], conditions);
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
    findings: {
      byRule: nulls(prevFindings.byRule, byRule),
      bySeverity: nulls(prevFindings.bySeverity, bySeverity),
      total,
    },
    modeInEffect: effect.mode,
    conditions,
    lastEvaluationTime: findingsChanged || !current.lastEvaluationTime ? now : current.lastEvaluationTime,
  };
}

export interface ModeInEffect {
  mode: Mode | 'None';
  downgradedBy: string[];
}

function readyMessage(policy: Policy, effect: ModeInEffect): string {
  const declared = policy.spec.mode ?? 'Propose';
  if (effect.mode === 'None') return `the policy is valid; it covers no namespace that exists now (mode ${declared})`;
  const verb =
    effect.mode === 'Enforce'
      ? 'fixes are applied automatically where safe'
      : effect.mode === 'Propose'
        ? 'fixes are proposed for review'
        : 'findings are observed only, nothing is written';
  const down =
    effect.downgradedBy.length > 0 && effect.mode !== declared
      ? `; mode ${declared} downgraded to ${effect.mode} by ${effect.downgradedBy.join(', ')}`
      : '';
  return `the policy is valid; mode in effect ${effect.mode}: ${verb}${down}`;
}
