import { MM211 } from '../catalogue/rules/mm211.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { Gateway, KubeObject } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { describeLabels, gatewayWorkloads, holdsProxyWorkloads } from './workload-helpers.js';

/** Parity with istioctl IST0101 (gateway selector): a Gateway whose selector no pod matches. */
export const mm211: Rule = {
  ...MM211,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const gw = subject as Gateway;
    // Without any proxy's workload the snapshot says nothing about which gateway pods exist.
    if (gatewayWorkloads(gw, ctx.index).length > 0 || !holdsProxyWorkloads(ctx.index)) return [];
    const servers = (gw.spec?.servers ?? []).map((s) => `${s.port?.protocol ?? '?'} ${s.port?.number ?? '?'}`);
    const hosts = [...new Set((gw.spec?.servers ?? []).flatMap((s) => s.hosts ?? []))];
    const type = ctx.complete ? MM211.messages.NoWorkload : MM211.messages.NoWorkloadInInput;
    const args = {
      gateway: describeRef(refOf(gw)),
      selector: describeLabels(gw.spec?.selector),
      servers: servers.join(', ') || 'none',
      hosts: hosts.join(', ') || 'its hosts',
    };
    return [
      report(type, args, {
        resource: refOf(gw),
        fix: noFix(
          "no automatic fix: the intended gateway pods are unknown; set spec.selector to the labels of the gateway deployment's pods (e.g. istio: ingressgateway)",
        ),
        claim: {
          kind: 'inexpressible',
          reason:
            "the claim is that no pod carries the selector's labels; the oracle builds the proxies it is asked about and cannot show that none exists",
        },
      }),
    ];
  },
};
