import { fill } from '../catalogue/message-type.js';
import { MM206, MM206_WHY } from '../catalogue/rules/mm206.js';
import { describeServer, droppedServers, mergeOrder, selectorOverlap, type DroppedServer } from '../model/gateway-servers.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { Gateway, KubeObject } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const NO_FIX = noFix('no automatic fix: which server should own the port is a decision; move one server to another port, give the hosts to one Gateway, or merge the Gateways');
const CLAIM: FindingClaim = { kind: 'inexpressible', reason: "the generated listener does not say which Gateway a filter chain came from: the simulation cannot show which Gateway's server is missing" };

function why(d: DroppedServer): string {
  const host = d.server.tls !== undefined && d.by.tls !== undefined ? (d.server.hosts ?? []).find((h) => (d.by.hosts ?? []).includes(h)) : undefined;
  if (host !== undefined) return fill(MM206_WHY.tlsHost, { host });
  return fill(MM206_WHY.protocols, { first: d.by.port?.protocol ?? '?', second: d.server.port?.protocol ?? '?' });
}

function selectorText(a: Gateway, b: Gateway): string {
  const labels = { ...(a.spec?.selector ?? {}), ...(b.spec?.selector ?? {}) };
  const text = Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(',');
  return text === '' ? 'every gateway pod' : text;
}

/** Drops of servers of `loser` by servers of `winner` when Istio merges `first` then `second`. */
function drops(first: Gateway, second: Gateway, loser: Gateway): DroppedServer[] {
  return droppedServers([first, second]).filter((d) => d.gateway === loser && d.byGateway !== loser);
}

/** Parity with istioctl IST0145: servers of two Gateways on one workload that Istio cannot merge. */
export const mm206: Rule = {
  ...MM206,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const gw = subject as Gateway;
    const pods = ctx.index.ofKind('Pod');
    const findings: Finding[] = [];
    for (const other of ctx.index.ofKind<Gateway>('Gateway')) {
      if (other === gw) continue;
      const lost = drops(other, gw, gw); // gw's servers dropped when other is older
      const won = drops(gw, other, other); // other's servers dropped when gw is older
      if (lost.length === 0 && won.length === 0) continue;
      // the selectors last: they may scan the pods
      const overlap = selectorOverlap(gw.spec?.selector, other.spec?.selector, pods);
      if (overlap === 'none') continue;
      const order = mergeOrder(gw, other);
      const selector = selectorText(gw, other);
      const args = (d: DroppedServer) => ({
        gw: describeRef(refOf(gw)),
        other: describeRef(refOf(other)),
        server: describeServer(d.gateway === gw ? d.server : d.by),
        otherServer: describeServer(d.gateway === gw ? d.by : d.server),
        why: why(d),
        selector,
      });
      const r = { resource: refOf(gw), related: [refOf(other)], fix: NO_FIX, claim: CLAIM };
      if (overlap === 'nested') {
        for (const d of order === undefined ? (lost.length > 0 ? lost : won) : order < 0 ? won : lost) findings.push(report(MM206.messages.MayConflict, args(d), r));
      } else if (order !== undefined) {
        if (order > 0) for (const d of lost) findings.push(report(MM206.messages.ServerDropped, args(d), r));
        else for (const d of won) findings.push(report(MM206.messages.ServerWins, args(d), r));
      } else if (lost.length > 0 && won.length > 0) {
        for (const d of lost) findings.push(report(MM206.messages.ServersConflict, args(d), r));
      } else {
        for (const d of lost) findings.push(report(MM206.messages.OrderDependent, { ...args(d), older: describeRef(refOf(other)), younger: describeRef(refOf(gw)) }, r));
        for (const d of won) findings.push(report(MM206.messages.OrderDependent, { ...args(d), older: describeRef(refOf(gw)), younger: describeRef(refOf(other)) }, r));
      }
    }
    return findings;
  },
};
