/**
 * The calls a fix must not change: every declared destination (Service ports, ServiceEntry host:ports)
 * called from a sidecar in every namespace of the input, and every route host called at its Gateway.
 * Bounded, deterministic, pure.
 */
import { resolveGatewayName } from '../model/gateway-names.js';
import { isWildcard, serviceFqdn } from '../model/hosts.js';
import type { MeshIndex } from '../model/mesh-index.js';
import { clusterIpOf } from '../model/service-lookup.js';
import type { Gateway, GatewayServer, Service, ServiceEntry, VirtualService } from '../model/types.js';
import { dnsCaptureOn } from '../model/mesh-config.js';
import { isHttpPortName, isHttpProtocol } from '../model/protocols.js';
import { FOREIGN_IP } from './claim-checks.js';
import type { CallResult, OracleCall, OracleProxy, OracleQuery } from './oracle-protocol.js';

export const MAX_PROBES = 400;
const MAX_NAMESPACES = 12;

interface Target {
  label: string;
  call: OracleCall;
}

function serviceTargets(svc: Service, domain: string): Target[] {
  const host = serviceFqdn(svc.metadata.name, svc.metadata.namespace ?? 'default', domain);
  const ip = clusterIpOf(svc);
  return (svc.spec?.ports ?? []).flatMap((p): Target[] => {
    if (isHttpPortName(p.appProtocol ?? p.name))
      return [{ label: `http ${host}:${p.port}`, call: { host, port: p.port, protocol: 'http' } }];
    return ip ? [{ label: `tcp ${ip}:${p.port}`, call: { address: ip, port: p.port, protocol: 'tcp' } }] : [];
  });
}

function entryTargets(se: ServiceEntry): Target[] {
  const hosts = (se.spec?.hosts ?? []).filter((h) => !isWildcard(h));
  return (se.spec?.ports ?? []).flatMap((p): Target[] => {
    const protocol = (p.protocol ?? '').toUpperCase();
    if (isHttpProtocol(protocol)) {
      return hosts.map((host) => ({
        label: `http ${host}:${p.number}`,
        call: { host, port: p.number, protocol: 'http' },
      }));
    }
    const address = se.spec?.addresses?.[0]?.split('/')[0];
    if (protocol === 'TCP' || protocol === '')
      return [
        {
          label: `tcp ${address ?? FOREIGN_IP}:${p.number}`,
          call: { address: address ?? FOREIGN_IP, port: p.number, protocol: 'tcp' },
        },
      ];
    return [];
  });
}

/** Whether a VirtualService binds to this Gateway (its `gateways` name it, resolved from the VS's namespace). */
function bindsTo(vs: VirtualService, gw: Gateway, ns: string): boolean {
  return (vs.spec?.gateways ?? []).some((g) => {
    const r = resolveGatewayName(g, vs.metadata.namespace ?? 'default');
    return r.kind === 'gateway' && r.namespace === ns && r.name === gw.metadata.name;
  });
}

/** The plaintext HTTP port of a Gateway server, or undefined when it has none to probe. */
function plainHttpPort(server: GatewayServer): number | undefined {
  if ((server.port?.protocol ?? '').toUpperCase() !== 'HTTP' || server.tls || !server.port?.number) return undefined;
  return server.port.number;
}

/** Each concrete host of a VirtualService called at each plaintext HTTP server of a Gateway. */
function boundTargets(vs: VirtualService, gw: Gateway): Target[] {
  const hosts = (vs.spec?.hosts ?? []).filter((h) => !isWildcard(h));
  return (gw.spec?.servers ?? []).flatMap((server): Target[] => {
    const port = plainHttpPort(server);
    if (port === undefined) return [];
    return hosts.map((host) => ({
      label: `gateway http ${host}:${port}`,
      call: { host, port, protocol: 'http', mode: 'gateway' },
    }));
  });
}

function gatewayProbes(index: MeshIndex): { proxy: OracleProxy; targets: Target[] }[] {
  const out: { proxy: OracleProxy; targets: Target[] }[] = [];
  for (const gw of index.ofKind<Gateway>('Gateway')) {
    const ns = gw.metadata.namespace ?? 'default';
    const targets = index
      .ofKind<VirtualService>('VirtualService')
      .filter((vs) => bindsTo(vs, gw, ns))
      .flatMap((vs) => boundTargets(vs, gw));
    if (targets.length > 0)
      out.push({ proxy: { type: 'router', namespace: ns, labels: gw.spec?.selector ?? {} }, targets });
  }
  return out;
}

/** The probe queries of an input; ids are `probe/<proxy>/<target>`, stable across the base and fixed inputs. */
export function probeQueries(index: MeshIndex): OracleQuery[] {
  const domain = index.domain;
  const targets: Target[] = [
    ...index.ofKind<Service>('Service').flatMap((s) => serviceTargets(s, domain)),
    ...index.ofKind<ServiceEntry>('ServiceEntry').flatMap(entryTargets),
  ];
  const namespaces = [
    ...new Set(
      index
        .all()
        .map((o) => o.object.metadata.namespace)
        .filter((n): n is string => !!n),
    ),
  ]
    .sort()
    .slice(0, MAX_NAMESPACES);
  const dnsCapture = dnsCaptureOn(index.meshConfig);
  const out: OracleQuery[] = [];
  for (const g of gatewayProbes(index)) {
    for (const t of g.targets)
      out.push({ id: `probe/gateway:${g.proxy.namespace}/${t.label}`, proxy: g.proxy, call: t.call });
  }
  for (const ns of namespaces) {
    const proxy: OracleProxy = { type: 'sidecar', namespace: ns, ...(dnsCapture ? { dnsCapture: true } : {}) };
    for (const t of targets) out.push({ id: `probe/sidecar:${ns}/${t.label}`, proxy, call: t.call });
  }
  return out.slice(0, MAX_PROBES);
}

/** What a probe's result is compared on: where the call goes and what its cluster sends. */
export function probeOutcome(c: CallResult | undefined): string {
  if (!c) return 'no answer';
  const info = c.clusterInfo;
  const transport = info?.transport ?? info?.transportMatches?.find((m) => m.match?.['tlsMode'] === 'istio')?.transport;
  return [
    c.error ?? 'ok',
    c.cluster ?? '-',
    info ? (info.exists ? 'exists' : 'missing') : '-',
    transport ? `${transport.kind}${transport.sni ? `/${transport.sni}` : ''}` : '-',
  ].join(' ');
}
