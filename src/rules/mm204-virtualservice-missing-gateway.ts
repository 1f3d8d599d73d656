import { MM204 } from '../catalogue/rules/mm204.js';
import { resolveGatewayName } from '../model/gateway-names.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const NO_PROXY: FindingClaim = {
  kind: 'inexpressible',
  reason: 'the Gateway does not exist, so no gateway proxy selects it: there is no proxy to simulate',
};

/** Parity with istioctl IST0101 (gateway): a VirtualService bound to a Gateway that does not exist. */
export const mm204: Rule = {
  ...MM204,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const ns = vs.metadata.namespace ?? '';
    const invalid: string[] = [];
    const missing = (vs.spec?.gateways ?? []).filter((g) => {
      const r = resolveGatewayName(g, ns);
      if (r.kind === 'invalid') invalid.push(`${g} (${r.reason})`);
      return (
        r.kind === 'gateway' &&
        !ctx.index.gateway(r.namespace, r.name) &&
        !ctx.index.hasGatewayApiGateway(r.namespace, r.name)
      );
    });
    const base = { vs: describeRef(refOf(vs)), hosts: (vs.spec?.hosts ?? []).join(', ') };
    const findings: Finding[] = [];
    if (missing.length > 0) {
      const type = ctx.complete ? MM204.messages.GatewayNotFound : MM204.messages.GatewayNotInInput;
      findings.push(
        report(
          type,
          { ...base, gateways: missing.join(', '), namespace: ns },
          { resource: refOf(vs), fix: noFix('no automatic fix: name the Gateway as namespace/name'), claim: NO_PROXY },
        ),
      );
    }
    if (invalid.length > 0) {
      findings.push(
        report(
          MM204.messages.InvalidGatewayName,
          { ...base, gateways: invalid.join(', ') },
          { resource: refOf(vs), fix: noFix('no automatic fix: name the Gateway as namespace/name'), claim: NO_PROXY },
        ),
      );
    }
    findings.push(...matchFindings(vs, ctx));
    return findings;
  },
};

/** The `gateways` of each http[].match[] entry (Istio resolves them as spec.gateways: model/virtualservice.go). */
function matchGateways(vs: VirtualService): { route: number; match: number; gateways: string[] }[] {
  const out: { route: number; match: number; gateways: string[] }[] = [];
  (vs.spec?.http ?? []).forEach((route, i) => {
    const matches = Array.isArray(route['match']) ? (route['match'] as unknown[]) : [];
    matches.forEach((m, j) => {
      const g = m !== null && typeof m === 'object' ? (m as { gateways?: unknown }).gateways : undefined;
      if (Array.isArray(g) && g.length > 0)
        out.push({ route: i, match: j, gateways: g.filter((x): x is string => typeof x === 'string') });
    });
  });
  return out;
}

/** Parity with Kiali KIA1102 for match gateways: a match that names a Gateway that does not exist. */
function matchFindings(vs: VirtualService, ctx: RuleContext): Finding[] {
  const ns = vs.metadata.namespace ?? '';
  const findings: Finding[] = [];
  for (const m of matchGateways(vs)) {
    const missing = m.gateways.filter((g) => {
      const r = resolveGatewayName(g, ns);
      return (
        r.kind === 'gateway' &&
        !ctx.index.gateway(r.namespace, r.name) &&
        !ctx.index.hasGatewayApiGateway(r.namespace, r.name)
      );
    });
    if (missing.length === 0) continue;
    const others = m.gateways.filter((g) => !missing.includes(g));
    const args = {
      vs: describeRef(refOf(vs)),
      route: m.route,
      match: m.match,
      gateways: missing.join(', '),
      namespace: ns,
    };
    const r = {
      resource: refOf(vs),
      fix: noFix('no automatic fix: name the Gateway as namespace/name, or remove it from the match'),
      claim: NO_PROXY,
    };
    if (!ctx.complete) findings.push(report(MM204.messages.MatchGatewayNotInInput, args, r));
    else if (others.length === 0) findings.push(report(MM204.messages.MatchGatewayNotFound, args, r));
    else findings.push(report(MM204.messages.MatchNamesMissingGateway, { ...args, others: others.join(', ') }, r));
  }
  return findings;
}
