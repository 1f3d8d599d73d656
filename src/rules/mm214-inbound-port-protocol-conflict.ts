import { MM214 } from '../catalogue/rules/mm214.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, Service, ServicePortK8s } from '../model/types.js';
import { workloadOf, type Workload } from '../model/workloads.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { servicesSelecting } from './workload-helpers.js';

type ProtocolClass = 'http' | 'opaque' | 'detected';

const HTTP = new Set(['http', 'http2', 'grpc', 'grpc-web', 'http_proxy']);
const OPAQUE = new Set(['tcp', 'tls', 'https', 'mongo', 'redis', 'mysql']);

/** Istio's protocol of a Service port (pkg/config/kube ConvertProtocol): appProtocol, else the name's prefix. */
function protocolOf(p: ServicePortK8s): { cls: ProtocolClass; name: string } {
  const raw = (p.appProtocol ?? p.name ?? '').toLowerCase();
  if (raw === 'kubernetes.io/h2c' || raw === 'kubernetes.io/ws' || raw === 'kubernetes.io/wss')
    return { cls: 'http', name: raw };
  const prefix = raw.startsWith('grpc-web') ? 'grpc-web' : (raw.split('-')[0] ?? '');
  if (HTTP.has(prefix)) return { cls: 'http', name: prefix };
  if (OPAQUE.has(prefix)) return { cls: 'opaque', name: prefix };
  return { cls: 'detected', name: prefix || 'unnamed' };
}

/** Whether the workload's pods get a sidecar: its own inject label/annotation, else its namespace's labels; unknown: undefined. */
function hasSidecar(w: Workload, index: MeshIndex): boolean | undefined {
  const own = w.labels['sidecar.istio.io/inject'] ?? w.annotations['sidecar.istio.io/inject'];
  if (own === 'false') return false;
  if (
    w.labels['gateway.istio.io/managed'] !== undefined ||
    (w.object.metadata.labels ?? {})['gateway.istio.io/managed'] !== undefined
  )
    return false;
  const ns = index.get(`Namespace//${w.namespace}`)?.object;
  const nsLabels = ns?.metadata.labels ?? {};
  if (nsLabels['istio-injection'] === 'disabled') return false;
  if (own === 'true' || nsLabels['istio-injection'] === 'enabled' || nsLabels['istio.io/rev'] !== undefined)
    return true;
  return undefined;
}

/** A Sidecar of the namespace with ingress listeners builds the inbound chains itself: not judged. */
function sidecarDefinesIngress(w: Workload, index: MeshIndex): boolean {
  return index
    .sidecars(w.namespace)
    .some(
      (sc) =>
        Array.isArray((sc.spec as { ingress?: unknown } | undefined)?.ingress) &&
        (sc.spec as { ingress: unknown[] }).ingress.length > 0,
    );
}

interface Target {
  svc: Service;
  protocol: { cls: ProtocolClass; name: string };
}

function targetPort(w: Workload, p: ServicePortK8s): number | undefined {
  const t = p.targetPort ?? p.port;
  if (typeof t === 'number') return t;
  if (/^\d+$/.test(t)) return Number(t);
  for (const c of w.spec?.containers ?? []) for (const cp of c.ports ?? []) if (cp.name === t) return cp.containerPort;
  return undefined;
}

/** The Services' ports by the pod port they target (UDP and SCTP ports are not proxied). */
function targetsByPort(w: Workload, index: MeshIndex): Map<number, Target[]> {
  const out = new Map<number, Target[]>();
  for (const svc of servicesSelecting(w, index)) {
    for (const p of svc.spec?.ports ?? []) {
      if (p.protocol === 'UDP' || p.protocol === 'SCTP') continue;
      const t = targetPort(w, p);
      if (t === undefined) continue;
      out.set(t, [...(out.get(t) ?? []), { svc, protocol: protocolOf(p) }]);
    }
  }
  return out;
}

const names = (ts: readonly Target[]): string => [...new Set(ts.map((t) => describeRef(refOf(t.svc))))].join(', ');

/** The oldest Service of the targets, when each has a creation time. */
function oldest(ts: readonly Target[]): Target | undefined {
  if (ts.some((t) => !t.svc.metadata.creationTimestamp)) return undefined;
  return [...ts].sort(
    (a, b) =>
      Date.parse(a.svc.metadata.creationTimestamp as string) - Date.parse(b.svc.metadata.creationTimestamp as string),
  )[0];
}

/** Parity with istioctl IST0116 / IST0137, as the sidecar decides: one pod port, HTTP and TCP Services. */
export const mm214: Rule = {
  ...MM214,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const w = workloadOf(subject);
    if (!w || hasSidecar(w, ctx.index) !== true || sidecarDefinesIngress(w, ctx.index)) return [];
    const findings: Finding[] = [];
    for (const [port, ts] of targetsByPort(w, ctx.index)) {
      const http = ts.filter((t) => t.protocol.cls === 'http');
      const tcp = ts.filter((t) => t.protocol.cls === 'opaque');
      if (http.length === 0 || tcp.length === 0) continue;
      const protocol = [...new Set(tcp.map((t) => t.protocol.name))].join('/');
      const r = {
        resource: refOf(subject),
        related: [...new Set(ts.map((t) => t.svc))].map(refOf),
        fix: noFix(
          'no automatic fix: give the ports one protocol (port name or appProtocol), or the Services different target ports',
        ),
        claim: {
          kind: 'inexpressible',
          reason:
            "which Service wins depends on creation order, which the oracle's generated cluster does not reproduce",
        } as const,
      };
      const winner = oldest(ts);
      if (!winner) {
        findings.push(
          report(
            MM214.messages.ProtocolConflict,
            { workload: describeRef(refOf(subject)), port, http: names(http), protocol, tcp: names(tcp) },
            r,
          ),
        );
      } else if (winner.protocol.cls === 'http') {
        findings.push(
          report(
            MM214.messages.HttpWinsOverTcp,
            {
              workload: describeRef(refOf(subject)),
              port,
              winner: describeRef(refOf(winner.svc)),
              protocol,
              losers: names(tcp),
            },
            r,
          ),
        );
      }
    }
    return findings;
  },
};
