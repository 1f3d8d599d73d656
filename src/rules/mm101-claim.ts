import { serviceFqdn } from '../model/hosts.js';
import type { RuleContext } from './types.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import type { Target } from './mm101-targets.js';

/** The claim: a sidecar that uses the DestinationRule sends what its level says, and the server's sidecar refuses it. */
export function serverRejectsClaim(t: Target, subset: string | undefined, ctx: RuleContext): FindingClaim {
  const svc = t.svc;
  if (!svc)
    return { kind: 'inexpressible', reason: 'no Service of the input is reached: there is no server pod to simulate' };
  const svcPort = (svc.spec?.ports ?? []).find((p) => t.port === undefined || p.port === t.port);
  const selector = svc.spec?.selector;
  if (!svcPort || !selector || Object.keys(selector).length === 0) {
    return {
      kind: 'inexpressible',
      reason: 'the Service has no port or no selector: there is no server pod to simulate',
    };
  }
  const svcNs = svc.metadata.namespace ?? 'default';
  const target = typeof svcPort.targetPort === 'number' ? svcPort.targetPort : svcPort.port;
  return {
    kind: 'server-rejects',
    client: { type: 'sidecar', namespace: t.client },
    cluster: outboundCluster(serviceFqdn(svc.metadata.name, svcNs, ctx.index.domain), svcPort.port, subset),
    server: { namespace: svcNs, labels: selector, port: target, protocol: t.http ? 'http' : 'tcp' },
  };
}
