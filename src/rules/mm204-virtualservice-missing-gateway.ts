import { resolveGatewayName } from '../model/gateway-names.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** Parity with istioctl IST0101 (gateway): a VirtualService bound to a Gateway that does not exist. */
export const mm204: Rule = {
  id: 'MM204',
  name: 'virtualservice-missing-gateway',
  summary: 'A VirtualService names a Gateway that does not exist: its routes are never served (404 NR).',
  subjects: ['VirtualService'],
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const ns = vs.metadata.namespace ?? '';
    const invalid: string[] = [];
    const missing = (vs.spec?.gateways ?? []).filter((g) => {
      const r = resolveGatewayName(g, ns);
      if (r.kind === 'invalid') invalid.push(`${g} (${r.reason})`);
      return r.kind === 'gateway' && !ctx.index.gateway(r.namespace, r.name) && !ctx.index.hasGatewayApiGateway(r.namespace, r.name);
    });
    if (missing.length === 0 && invalid.length === 0) return [];
    const problems = [
      ...(missing.length > 0 ? [`is bound to gateway ${missing.join(', ')}, which does not exist (a name without "namespace/" resolves in ${ns}; the legacy "name.namespace" form in that namespace)`] : []),
      ...(invalid.length > 0 ? [`names gateway ${invalid.join(', ')}, which Istio's validation rejects: the VirtualService is refused at admission`] : []),
    ];
    return [
      {
        rule: 'MM204',
        severity: 'error',
        resource: refOf(vs),
        related: [],
        symptom: '404 NR',
        message: `404 NR: ${describeRef(refOf(vs))} ${problems.join('; it also ')}: requests for ${(vs.spec?.hosts ?? []).join(', ')} find no route.`,
        fix: { patches: [], create: [], notes: ['no automatic fix: name the Gateway as namespace/name'] },
        claim: { kind: 'inexpressible', reason: 'the Gateway does not exist, so no gateway proxy selects it: there is no proxy to simulate' },
      },
    ];
  },
};
