import { MM204 } from '../catalogue/rules/mm204.js';
import { resolveGatewayName } from '../model/gateway-names.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const NO_PROXY: FindingClaim = { kind: 'inexpressible', reason: 'the Gateway does not exist, so no gateway proxy selects it: there is no proxy to simulate' };

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
      return r.kind === 'gateway' && !ctx.index.gateway(r.namespace, r.name) && !ctx.index.hasGatewayApiGateway(r.namespace, r.name);
    });
    const base = { vs: describeRef(refOf(vs)), hosts: (vs.spec?.hosts ?? []).join(', ') };
    const findings: Finding[] = [];
    if (missing.length > 0) {
      const type = ctx.complete ? MM204.messages.GatewayNotFound : MM204.messages.GatewayNotInInput;
      findings.push(report(type, { ...base, gateways: missing.join(', '), namespace: ns }, { resource: refOf(vs), fix: noFix('no automatic fix: name the Gateway as namespace/name'), claim: NO_PROXY }));
    }
    if (invalid.length > 0) {
      findings.push(report(MM204.messages.InvalidGatewayName, { ...base, gateways: invalid.join(', ') }, { resource: refOf(vs), fix: noFix('no automatic fix: name the Gateway as namespace/name'), claim: NO_PROXY }));
    }
    return findings;
  },
};
