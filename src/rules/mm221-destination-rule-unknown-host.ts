import { MM221 } from '../catalogue/rules/mm221.js';
import { hostsMatch, isWildcard, resolveHost, serviceFqdn } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { DestinationRule, KubeObject, Service, ServiceEntry } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** Whether some Service or ServiceEntry declares a host the rule's host names (a wildcard rule: any it covers). */
function declared(host: string, index: MeshIndex): boolean {
  if (index.serviceForHost(host) || index.entriesForHost(host).length > 0) return true;
  if (!isWildcard(host)) return false;
  if (
    index
      .ofKind<Service>('Service')
      .some((s) => hostsMatch(host, serviceFqdn(s.metadata.name, s.metadata.namespace ?? '', index.domain)))
  )
    return true;
  return index
    .ofKind<ServiceEntry>('ServiceEntry')
    .some((se) =>
      (se.spec?.hosts ?? []).some((h) => hostsMatch(host, resolveHost(h, se.metadata.namespace, index.domain))),
    );
}

/** Parity with istioctl IST0174: a DestinationRule whose host no Service or ServiceEntry declares. */
export const mm221: Rule = {
  ...MM221,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    const host = ctx.index.drHost(dr);
    if (!host || declared(host, ctx.index)) return [];
    const type = ctx.complete ? MM221.messages.HostNotFound : MM221.messages.HostNotInInput;
    return [
      report(
        type,
        { dr: describeRef(refOf(dr)), host, namespace: dr.metadata.namespace ?? '' },
        {
          resource: refOf(dr),
          fix: noFix('no automatic fix: the intended host is unknown'),
          claim: { kind: 'inexpressible', reason: 'a rule that matches no host leaves nothing in Envoy to check' },
        },
      ),
    ];
  },
};
