import { MM203 } from '../catalogue/rules/mm203.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject } from '../model/types.js';
import { noFix, report } from './report.js';
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
  ...MM203,
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
      const args = {
        dr: describeRef(refOf(dr)),
        winner: describeRef(refOf(winner)),
        host,
        namespace: dr.metadata.namespace ?? '',
      };
      findings.push(
        report(MM203.messages.PolicyIgnored, args, {
          resource: refOf(dr),
          related: [refOf(winner)],
          fix: noFix('no automatic fix: merging two rules needs a decision on which policy wins'),
          claim: {
            kind: 'inexpressible',
            reason: 'which DestinationRule the author meant to win is not in the configuration',
          },
        }),
      );
    }
    const mine = new Set((dr.spec?.subsets ?? []).map((s) => s.name));
    for (const p of peers) {
      if (p === dr || olderFirst(p, dr) > 0) continue;
      const dup = (p.spec?.subsets ?? []).filter((s) => mine.has(s.name)).map((s) => s.name);
      if (dup.length > 0) {
        const args = { dr: describeRef(refOf(dr)), subsets: dup.join(', '), host, other: describeRef(refOf(p)) };
        findings.push(
          report(MM203.messages.DuplicateSubset, args, {
            resource: refOf(dr),
            related: [refOf(p)],
            fix: noFix('no automatic fix'),
            claim: {
              kind: 'inexpressible',
              reason: 'a duplicate subset name is a question of intent, not of generated configuration',
            },
          }),
        );
      }
    }
    return findings;
  },
};
