import { MM217 } from '../catalogue/rules/mm217.js';
import { resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, ServiceEntry } from '../model/types.js';
import { exportScope, scopesOverlap, serviceExportTo } from '../model/visibility.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** The entry's declared protocol of a port number (uppercase), if it sets one. */
function protocolOn(se: ServiceEntry, port: number): string | undefined {
  return se.spec?.ports?.find((p) => p.number === port)?.protocol?.toUpperCase() || undefined;
}

function scopeText(a: 'all' | Set<string>, b: 'all' | Set<string>): string {
  if (a === 'all' && b === 'all') return 'all namespaces';
  const ns = a === 'all' ? [...(b as Set<string>)] : b === 'all' ? [...a] : [...a].filter((n) => b.has(n));
  return `namespace${ns.length > 1 ? 's' : ''} ${ns.sort().join(', ')}`;
}

/**
 * Parity with istioctl IST0177: ServiceEntries that one namespace sees declare the same host and port with
 * different protocols. Ports without a protocol are sniffed and left out (a deliberate difference: the peer
 * compares the empty string too).
 */
export const mm217: Rule = {
  ...MM217,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const se = subject as ServiceEntry;
    const ns = se.metadata.namespace ?? '';
    const mine = exportScope(serviceExportTo(se, ctx.index), ns);
    const findings: Finding[] = [];
    for (const h of new Set(se.spec?.hosts ?? [])) {
      const host = resolveHost(h, ns, ctx.index.domain);
      const peers = ctx.index
        .entriesForHost(host)
        .filter(
          (o) =>
            o !== se &&
            (o.spec?.hosts ?? []).some((x) => resolveHost(x, o.metadata.namespace, ctx.index.domain) === host),
        );
      for (const p of se.spec?.ports ?? []) {
        const protocol = p.protocol?.toUpperCase();
        if (!protocol) continue;
        const conflicting = peers
          .map((o) => ({
            o,
            proto: protocolOn(o, p.number),
            scope: exportScope(serviceExportTo(o, ctx.index), o.metadata.namespace ?? ''),
          }))
          .filter((c) => c.proto !== undefined && c.proto !== protocol && scopesOverlap(mine, c.scope));
        if (conflicting.length === 0) continue;
        const args = {
          se: describeRef(refOf(se)),
          host,
          port: String(p.number),
          protocol,
          others: conflicting.map((c) => describeRef(refOf(c.o))).join(', '),
          otherProtocols: [...new Set(conflicting.map((c) => c.proto))].join(', '),
          scope: scopeText(mine, (conflicting[0] as { scope: 'all' | Set<string> }).scope),
        };
        findings.push(
          report(MM217.messages.ProtocolConflict, args, {
            resource: refOf(se),
            related: conflicting.map((c) => refOf(c.o)),
            fix: noFix('no automatic fix: which protocol the port speaks is a decision'),
            claim: {
              kind: 'inexpressible',
              reason: "which entry wins follows creation order, and no claim kind checks a listener's protocol",
            },
          }),
        );
      }
    }
    return findings;
  },
};
