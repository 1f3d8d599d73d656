import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject } from '../model/types.js';
import type { Finding, Rule, RuleContext } from './types.js';

function olderFirst(a: DestinationRule, b: DestinationRule): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta === tb ? a.metadata.name.localeCompare(b.metadata.name) : ta.localeCompare(tb);
}

/**
 * Parity with Kiali KIA0201 / istioctl: several DestinationRules for one host in one namespace merge: subsets
 * concatenate, but only the first top-level trafficPolicy is used. Reported on every later rule whose policy
 * is dropped (its tls, pool or outlier settings silently do nothing).
 */
export const mm203: Rule = {
  id: 'MM203',
  name: 'conflicting-destination-rules',
  summary: 'Several DestinationRules for one host in one namespace: only the first trafficPolicy is used.',
  subjects: ['DestinationRule'],
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    if (dr.spec?.workloadSelector) return [];
    const host = ctx.index.drHost(dr);
    const peers = ctx.index
      .destinationRulesForExactHost(host)
      .filter((o) => o.metadata.namespace === dr.metadata.namespace && !o.spec?.workloadSelector)
      .sort(olderFirst);
    if (peers.length < 2) return [];
    const winner = peers.find((p) => p.spec?.trafficPolicy !== undefined);
    const findings: Finding[] = [];
    if (dr.spec?.trafficPolicy && winner && winner !== dr) {
      findings.push({
        rule: 'MM203',
        severity: 'warning',
        resource: refOf(dr),
        related: [refOf(winner)],
        symptom: 'policy silently ignored',
        message: `policy silently ignored: ${describeRef(refOf(dr))} and ${describeRef(refOf(winner))} both configure ${host} in ${dr.metadata.namespace}; Istio merges them and keeps only the first top-level trafficPolicy (${describeRef(refOf(winner))}), so this rule's tls/connectionPool/outlierDetection do nothing. Merge them into one DestinationRule.`,
        fix: { patches: [], create: [], notes: ['no automatic fix: merging two rules needs a decision on which policy wins'] },
        claim: { kind: 'inexpressible', reason: 'which DestinationRule the author meant to win is not in the configuration' },
      });
    }
    const mine = new Set((dr.spec?.subsets ?? []).map((s) => s.name));
    for (const p of peers) {
      if (p === dr || olderFirst(p, dr) > 0) continue;
      const dup = (p.spec?.subsets ?? []).filter((s) => mine.has(s.name)).map((s) => s.name);
      if (dup.length > 0) {
        findings.push({
          rule: 'MM203',
          severity: 'warning',
          resource: refOf(dr),
          related: [refOf(p)],
          symptom: 'duplicate subset',
          message: `duplicate subset: ${describeRef(refOf(dr))} defines subset ${dup.join(', ')} for ${host}, already defined by ${describeRef(refOf(p))}; only one definition is used.`,
          fix: { patches: [], create: [], notes: ['no automatic fix'] },
          claim: { kind: 'inexpressible', reason: 'a duplicate subset name is a question of intent, not of generated configuration' },
        });
      }
    }
    return findings;
  },
};
