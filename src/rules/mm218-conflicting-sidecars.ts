import { MM218 } from '../catalogue/rules/mm218.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, Pod, Sidecar } from '../model/types.js';
import { selects } from '../model/workloads.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** Istio's order of Sidecars (pilot/pkg/model/config.go configCompareByCreationTime): creation time, then name. */
function olderFirst(a: KubeObject, b: KubeObject): number {
  const ta = a.metadata.creationTimestamp ?? '';
  const tb = b.metadata.creationTimestamp ?? '';
  return ta === tb ? a.metadata.name.localeCompare(b.metadata.name) : ta.localeCompare(tb);
}

function selectorOf(s: Sidecar): Record<string, string> | undefined {
  const l = s.spec?.workloadSelector?.labels;
  return l && Object.keys(l).length > 0 ? l : undefined;
}

function selectsPod(sel: Record<string, string>, pod: Pod): boolean {
  return selects(sel, pod.metadata.labels ?? {});
}

/** Pods without a sidecar (ambient mode) run no Sidecar resource. */
function ambient(pod: Pod, ctx: RuleContext): boolean {
  const ns = ctx.index.get(`Namespace//${pod.metadata.namespace ?? ''}`)?.object;
  const mode = pod.metadata.labels?.['istio.io/dataplane-mode'] ?? ns?.metadata.labels?.['istio.io/dataplane-mode'];
  return mode === 'ambient' || pod.metadata.annotations?.['ambient.istio.io/redirection'] === 'enabled';
}

const names = (list: KubeObject[]) => list.map((s) => describeRef(refOf(s))).join(', ');

/** Parity with istioctl IST0110 and IST0111: a proxy gets one Sidecar, the others are ignored. */
export const mm218: Rule = {
  ...MM218,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const sc = subject as Sidecar;
    const ns = sc.metadata.namespace ?? '';
    const all = ctx.index.sidecars(ns);
    const claim = {
      kind: 'inexpressible',
      reason: 'which Sidecar the author meant to apply is intent; the generator applies one by creation order',
    } as const;
    const fix = noFix('no automatic fix: merging Sidecars needs a decision on which settings win');
    const mine = selectorOf(sc);
    if (!mine) {
      const wide = all.filter((s) => !selectorOf(s)).sort(olderFirst);
      if (wide.length < 2) return [];
      const winner = wide[0] as Sidecar;
      return [
        report(
          MM218.messages.SeveralNamespaceWide,
          { sidecars: names(wide), namespace: ns, winner: describeRef(refOf(winner)) },
          { resource: refOf(sc), related: wide.filter((s) => s !== sc).map(refOf), fix, claim },
        ),
      ];
    }
    const findings: Finding[] = [];
    const others = all.filter((s) => s !== sc && selectorOf(s));
    const seen = new Set<string>();
    for (const pod of ctx.index.inNamespace<Pod>('Pod', ns)) {
      if (!selectsPod(mine, pod) || ambient(pod, ctx)) continue;
      const group = [sc, ...others.filter((s) => selectsPod(selectorOf(s) as Record<string, string>, pod))].sort(
        olderFirst,
      );
      if (group.length < 2) continue;
      const key = group.map((s) => s.metadata.name).join(',');
      if (seen.has(key)) continue; // one finding per set of Sidecars
      seen.add(key);
      const winner = group[0] as Sidecar;
      const args = {
        sidecars: names(group),
        namespace: ns,
        pod: pod.metadata.name,
        winner: describeRef(refOf(winner)),
      };
      findings.push(
        report(MM218.messages.SameWorkload, args, {
          resource: refOf(sc),
          related: [...group.filter((s) => s !== sc).map(refOf), refOf(pod)],
          fix,
          claim,
        }),
      );
    }
    return findings;
  },
};
