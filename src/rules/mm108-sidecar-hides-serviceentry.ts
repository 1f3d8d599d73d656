import { fill } from '../catalogue/message-type.js';
import { MM108, MM108_HIDDEN } from '../catalogue/rules/mm108.js';
import { report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { hostCovers, isVisibleFrom, isWildcard, resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject, ServiceEntry, Sidecar, VirtualService } from '../model/types.js';
import { dnsCaptureOn } from '../model/mesh-config.js';
import { isHttpProtocol } from '../model/protocols.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** Whether an egress hosts entry ("ns/host") imports `host` of an entry in namespace `entryNs`. */
function imports(egressHost: string, sidecarNs: string, entryNs: string, host: string): boolean {
  const slash = egressHost.indexOf('/');
  const nsPart = slash < 0 ? '*' : egressHost.slice(0, slash);
  const hostPart = slash < 0 ? egressHost : egressHost.slice(slash + 1);
  const nsOk = nsPart === '*' || (nsPart === '.' && entryNs === sidecarNs) || nsPart === entryNs;
  return nsOk && nsPart !== '~' && hostCovers(hostPart, host);
}

/** The call that stands for the hidden host on a port of this protocol; undefined when none can be picked. */
function probeCall(hidden: { se: ServiceEntry; host: string }, port: number, protocol: string) {
  const address = hidden.se.spec?.addresses?.[0]?.split('/')[0] ?? '203.0.113.7';
  if (isHttpProtocol(protocol)) return { host: hidden.host, port, protocol: 'http' as const };
  if (protocol === 'TCP') return { port, protocol: 'tcp' as const, address };
  if (protocol === 'HTTPS' || protocol === 'TLS')
    return { port, protocol: 'http' as const, host: hidden.host, address, tls: { sni: hidden.host } };
  return undefined;
}

type Hidden = { se: ServiceEntry; host: string; usedBy: KubeObject[] };

/**
 * The hosts of ServiceEntries visible from the Sidecar's namespace that its egress does not import, and
 * that something of the namespace uses (or that REGISTRY_ONLY makes unreachable).
 */
function hiddenHosts(
  ns: string,
  egress: NonNullable<NonNullable<Sidecar['spec']>['egress']>,
  registryOnly: boolean,
  ctx: RuleContext,
): Hidden[] {
  const hidden: Hidden[] = [];
  for (const se of ctx.index.ofKind<ServiceEntry>('ServiceEntry')) {
    const seNs = se.metadata.namespace ?? '';
    if (!isVisibleFrom(se.spec?.exportTo, seNs, ns)) continue;
    for (const rawHost of se.spec?.hosts ?? []) {
      const host = resolveHost(rawHost, seNs, ctx.index.domain);
      if (egress.some((l) => l.hosts.some((h) => imports(h, ns, seNs, host)))) continue;
      const usedBy: KubeObject[] = [
        ...ctx.index.virtualServicesRoutingTo(host).filter((v: VirtualService) => v.metadata.namespace === ns),
        ...ctx.index.destinationRulesForExactHost(host).filter((d: DestinationRule) => d.metadata.namespace === ns),
      ];
      if (usedBy.length > 0 || registryOnly) hidden.push({ se, host, usedBy });
    }
  }
  return hidden;
}

/** The first five hidden hosts, as the finding lists them. */
function hiddenText(hidden: Hidden[]): string {
  return hidden
    .slice(0, 5)
    .map((h) =>
      fill(MM108_HIDDEN, {
        host: h.host,
        entry: describeRef(refOf(h.se)),
        usedBy: h.usedBy.length ? `, used by ${h.usedBy.map((u) => describeRef(refOf(u))).join(', ')}` : '',
      }),
    )
    .join('; ');
}

/** A sidecar the Sidecar applies to calls the hidden host on the entry's first port. */
function hiddenClaim(
  sc: Sidecar,
  hidden: { se: ServiceEntry; host: string } | undefined,
  ctx: RuleContext,
): FindingClaim {
  const port = hidden?.se.spec?.ports?.[0];
  if (!hidden || !port || isWildcard(hidden.host))
    return {
      kind: 'inexpressible',
      reason: 'the hidden entry has no port or a wildcard host: no one call stands for it',
    };
  const protocol = (port.protocol ?? '').toUpperCase();
  const call = probeCall(hidden, port.number, protocol);
  if (!call)
    return {
      kind: 'inexpressible',
      reason: `a ${protocol || 'sniffed'} port needs a TLS or protocol-specific call the simulation cannot pick without guessing`,
    };
  const labels = sc.spec?.workloadSelector?.labels;
  return {
    kind: 'passthrough',
    client: {
      type: 'sidecar',
      namespace: sc.metadata.namespace ?? 'default',
      ...(labels ? { labels } : {}),
      dnsCapture: dnsCaptureOn(ctx.index.meshConfig),
    },
    call,
    cluster: outboundCluster(hidden.host, port.number),
  };
}

export const mm108: Rule = {
  ...MM108,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const sc = subject as Sidecar;
    const ns = sc.metadata.namespace ?? '';
    const egress = sc.spec?.egress;
    if (!egress || egress.length === 0) return [];
    const registryOnly =
      (sc.spec?.outboundTrafficPolicy?.mode ?? ctx.index.meshConfig.outboundTrafficPolicy) === 'REGISTRY_ONLY';
    const hidden = hiddenHosts(ns, egress, registryOnly, ctx);
    if (hidden.length === 0) return [];
    const listenerIndex = Math.max(
      0,
      egress.findIndex((l) => !l.port),
    );
    const additions = [...new Set(hidden.map((h) => `${h.se.metadata.namespace}/${h.host}`))];
    const hostsText = hiddenText(hidden);
    const more = hidden.length > 5 ? ` and ${hidden.length - 5} more` : '';
    const type = registryOnly ? MM108.messages.HiddenUnderRegistryOnly : MM108.messages.HiddenToPassthrough;
    const args = { sidecar: describeRef(refOf(sc)), hidden: hostsText, more, listener: listenerIndex, namespace: ns };
    return [
      report(type, args, {
        resource: refOf(sc),
        related: [
          ...new Map(
            hidden
              .flatMap((h) => [h.se, ...h.usedBy])
              .map((o) => [`${o.kind}/${o.metadata.namespace}/${o.metadata.name}`, refOf(o)]),
          ).values(),
        ],
        fix: {
          patches: [
            {
              target: refOf(sc),
              patch: additions.map((value) => ({
                op: 'add' as const,
                path: pointer('spec', 'egress', listenerIndex, 'hosts', '-'),
                value,
              })),
            },
          ],
          create: [],
        },
        claim: hiddenClaim(sc, hidden[0], ctx),
      }),
    ];
  },
};
