import { MM212 } from '../catalogue/rules/mm212.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { Gateway, KubeObject, Service } from '../model/types.js';
import type { Workload } from '../model/workloads.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';
import { gatewayWorkloads, serverHosts, servicesSelecting, uniqueObjects } from './workload-helpers.js';

interface Exposed {
  services: Service[];
  /** Service ports and the target ports they forward to. */
  ports: Set<number>;
  /** A named targetPort no gateway pod declares: its number is unknown. */
  unresolved: boolean;
  shown: string[];
}

/** A named targetPort as the workload's containers declare it. */
function namedPort(w: Workload, name: string): number | undefined {
  for (const c of w.spec?.containers ?? []) for (const p of c.ports ?? []) if (p.name === name) return p.containerPort;
  return undefined;
}

/** The TCP ports and target ports of the Services that select the gateway workloads (pilot's ServiceTargets). */
function exposedPorts(ws: readonly Workload[], index: MeshIndex): Exposed {
  const out: Exposed = { services: [], ports: new Set(), unresolved: false, shown: [] };
  for (const w of ws) {
    for (const svc of servicesSelecting(w, index)) {
      out.services.push(svc);
      for (const p of svc.spec?.ports ?? []) {
        if (p.protocol !== undefined && p.protocol !== 'TCP') continue;
        out.ports.add(p.port);
        const t = p.targetPort ?? p.port;
        const target = typeof t === 'number' ? t : /^\d+$/.test(t) ? Number(t) : namedPort(w, t);
        if (target === undefined) out.unresolved = true;
        else out.ports.add(target);
        out.shown.push(target === undefined || target === p.port ? String(p.port) : `${p.port}->${target}`);
      }
    }
  }
  out.services = uniqueObjects(out.services);
  out.shown = [...new Set(out.shown)];
  return out;
}

/** Parity with istioctl IST0162: a Gateway server port the gateway's Services do not expose. */
export const mm212: Rule = {
  ...MM212,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const gw = subject as Gateway;
    const ws = gatewayWorkloads(gw, ctx.index);
    if (ws.length === 0) return [];
    const exposed = exposedPorts(ws, ctx.index);
    // No Service in the input selects the gateway pods (or a target port is unknown): nothing to compare with.
    if (exposed.services.length === 0 || exposed.unresolved) return [];
    const type = ctx.complete ? MM212.messages.PortNotOnService : MM212.messages.PortNotOnServiceInInput;
    const findings: Finding[] = [];
    const seen = new Set<number>();
    for (const server of gw.spec?.servers ?? []) {
      const port = server.port?.number;
      if (port === undefined || exposed.ports.has(port) || seen.has(port)) continue;
      seen.add(port);
      const args = {
        gateway: describeRef(refOf(gw)),
        port,
        services: exposed.services.map((s) => describeRef(refOf(s))).join(', '),
        exposed: exposed.shown.join(', '),
        hosts: serverHosts(server.hosts),
      };
      findings.push(
        report(type, args, {
          resource: refOf(gw),
          related: exposed.services.map(refOf),
          fix: noFix(
            'no automatic fix: either the Gateway port is wrong or the gateway Service lacks the port; exposing a new port on it (often a public load balancer) is a decision to make by hand',
          ),
          claim: {
            kind: 'inexpressible',
            reason:
              'Service port forwarding happens in kube-proxy, not Envoy; the oracle shows the gateway listener, which exists on the port',
          },
        }),
      );
    }
    return findings;
  },
};
