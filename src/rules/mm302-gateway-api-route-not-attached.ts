import { MM302 } from '../catalogue/rules/mm302.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { GatewayRoute, K8sGateway, KubeObject, Listener } from '../model/types.js';
import {
  isGatewayParent,
  isIstioIngress,
  isServiceParent,
  listenerAcceptsHostnames,
  listenerAdmitsNamespace,
  listenerTakesKind,
  parentsOf,
  type Parent,
} from './gateway-api.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const CLAIM = {
  kind: 'inexpressible',
  reason:
    "the oracle's simulated gateways receive no listener from a Gateway API Gateway (a call through its port finds none), so the route cannot be called",
} as const;

/** How far a listener gets in Istio's checks (conversion.go referenceAllowed): the first one it fails, or attached. */
type Stage = 'hostname' | 'namespace' | 'kind' | 'attached' | 'unknown';

function stageOf(l: Listener, gw: K8sGateway, route: GatewayRoute, ctx: RuleContext): Stage {
  const takes = listenerTakesKind(l, route.kind);
  if (takes === undefined) return 'unknown';
  // Istio's parent hostnames are namespace/hostname pairs: the hostname match comes first, then the namespace.
  if (!listenerAcceptsHostnames(l, route.kind === 'TCPRoute' ? undefined : route.spec?.hostnames)) return 'hostname';
  const admits = listenerAdmitsNamespace(
    l,
    gw.metadata.namespace ?? 'default',
    route.metadata.namespace ?? 'default',
    ctx.index,
    ctx.complete,
  );
  if (admits === undefined) return 'unknown';
  if (!admits) return 'namespace';
  return takes ? 'attached' : 'kind';
}

function allowedNamespaces(l: Listener, gw: K8sGateway): string {
  const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'Same') return `${l.name}: Same, namespace ${gw.metadata.namespace ?? 'default'}`;
  return `${l.name}: ${from}${l.allowedRoutes?.namespaces?.selector ? ` ${JSON.stringify(l.allowedRoutes.namespaces.selector)}` : ''}`;
}

function sectionText(p: Parent): string {
  return [
    p.ref.sectionName !== undefined ? `listener ${p.ref.sectionName}` : '',
    p.ref.port !== undefined ? `port ${p.ref.port}` : '',
  ]
    .filter(Boolean)
    .join(' on ');
}

function judgeGateway(route: GatewayRoute, p: Parent, gw: K8sGateway, ctx: RuleContext): Finding | undefined {
  const listeners = gw.spec?.listeners ?? [];
  const selected = listeners.filter(
    (l) =>
      (p.ref.sectionName === undefined || l.name === p.ref.sectionName) &&
      (p.ref.port === undefined || l.port === p.ref.port),
  );
  const base = {
    route: describeRef(refOf(route)),
    parent: describeRef(refOf(gw)),
    hostnames: (route.spec?.hostnames ?? []).join(', ') || '*',
  };
  const r = { resource: refOf(route), related: [refOf(gw)], claim: CLAIM };
  if (selected.length === 0) {
    if (listeners.length === 0) return undefined;
    return report(
      MM302.messages.NoSuchListener,
      { ...base, section: sectionText(p), listeners: listeners.map((l) => `${l.name} (port ${l.port})`).join(', ') },
      { ...r, fix: noFix('no automatic fix: the intended listener is unknown') },
    );
  }
  const stages = selected.map((l) => stageOf(l, gw, route, ctx));
  if (stages.includes('attached') || stages.includes('unknown')) return undefined;
  const fix = noFix("no automatic fix: whether the route or the Gateway should change is the owners' decision");
  if (stages.includes('kind')) {
    const takes = selected
      .map(
        (l) =>
          `${l.name}: ${l.protocol}${l.allowedRoutes?.kinds?.length ? ` (${l.allowedRoutes.kinds.map((k) => k.kind).join(', ')})` : ''}`,
      )
      .join('; ');
    return report(MM302.messages.KindNotAllowed, { ...base, kind: route.kind, takes }, { ...r, fix });
  }
  if (stages.includes('namespace')) {
    const allowed = selected
      .filter((_, i) => stages[i] === 'namespace')
      .map((l) => allowedNamespaces(l, gw))
      .join('; ');
    return report(
      MM302.messages.NamespaceNotAllowed,
      { ...base, namespace: route.metadata.namespace ?? 'default', allowed },
      { ...r, fix },
    );
  }
  const listenerHosts = selected.map((l) => `${l.name}: ${l.hostname ?? '*'}`).join(', ');
  return report(MM302.messages.HostnameNotAccepted, { ...base, listenerHosts }, { ...r, fix });
}

/** Parity with Istio's Gateway API route status (Accepted=False): a parentRef that attaches the route nowhere. */
export const mm302: Rule = {
  ...MM302,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const route = subject as GatewayRoute;
    const findings: Finding[] = [];
    for (const p of parentsOf(route)) {
      const missingType = ctx.complete ? MM302.messages.ParentNotFound : MM302.messages.ParentNotInInput;
      const args = {
        route: describeRef(refOf(route)),
        parent: `${p.kind} ${p.namespace}/${p.ref.name}`,
        hostnames: (route.spec?.hostnames ?? []).join(', ') || '*',
      };
      const fix = noFix('no automatic fix: the intended parent is unknown');
      if (isServiceParent(p)) {
        if (!ctx.index.get(`Service/${p.namespace}/${p.ref.name}`))
          findings.push(report(missingType, args, { resource: refOf(route), fix, claim: CLAIM }));
        continue;
      }
      if (!isGatewayParent(p)) continue;
      const gw = ctx.index.k8sGateway(p.namespace, p.ref.name);
      if (!gw) {
        findings.push(report(missingType, args, { resource: refOf(route), fix, claim: CLAIM }));
        continue;
      }
      if (!isIstioIngress(gw, ctx.index)) continue;
      const f = judgeGateway(route, p, gw, ctx);
      if (f) findings.push(f);
    }
    return findings;
  },
};
