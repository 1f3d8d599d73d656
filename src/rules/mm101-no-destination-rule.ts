import { MM101, MM101_ASSUMED } from '../catalogue/rules/mm101.js';
import { serviceFqdn } from '../model/hosts.js';
import { describeRef, refKey, refOf } from '../model/kinds.js';
import { autoMtlsOn } from '../model/mesh-config.js';
import { effectiveMtls, namespaceMtls } from '../model/peer-authentication.js';
import { isHttpPortName } from '../model/protocols.js';
import type { DestinationRule, ObjectRef, PeerAuthentication, Service } from '../model/types.js';
import { noFix, report } from './report.js';
import { serverRejectsClaim } from './mm101-claim.js';
import { ambientNamespace, ambientPods, surelyNoSidecar } from './mm101-injection.js';
import { OTHER_NAMESPACE, policyName, type Target } from './mm101-targets.js';
import type { Finding, Fix, RuleContext } from './types.js';

/** The DestinationRule the fix creates: ISTIO_MUTUAL for the STRICT ports only (others keep plaintext). */
function createRule(svc: Service, host: string, strictPorts: number[], allPorts: number[]): DestinationRule {
  const tls = { mode: 'ISTIO_MUTUAL' as const };
  const all = allPorts.every((p) => strictPorts.includes(p));
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: {
      name: `${svc.metadata.name}-istio-mutual`,
      namespace: svc.metadata.namespace ?? 'default',
      annotations: { 'meshmedic.io/generated-by': MM101.id },
    },
    spec: {
      host,
      trafficPolicy: all ? { tls } : { portLevelSettings: strictPorts.map((number) => ({ port: { number }, tls })) },
    },
  };
}

function fixFor(svc: Service, host: string, strict: Target[], sameNamespaceHasRule: boolean, ctx: RuleContext): Fix {
  const ns = svc.metadata.namespace ?? 'default';
  const name = `${svc.metadata.name}-istio-mutual`;
  if (sameNamespaceHasRule) {
    return noFix(
      `a DestinationRule of namespace ${ns} covers ${host} for its own clients but is not exported: export it, or give the other clients' namespaces one with tls ISTIO_MUTUAL`,
    );
  }
  if (ctx.index.get(`DestinationRule/${ns}/${name}`)) return noFix(`a DestinationRule ${ns}/${name} exists already`);
  const ports = strict.map((t) => t.port).filter((p): p is number => p !== undefined);
  const all = (svc.spec?.ports ?? []).map((p) => p.port);
  return { patches: [], create: [createRule(svc, host, ports, all)] };
}

/** Whether MM101 judges the Service: auto mTLS off, and pods (selected, with sidecars) that can be STRICT. */
function sidecarServerWithoutAutoMtls(svc: Service, ctx: RuleContext): boolean {
  if (autoMtlsOn(ctx.index.meshConfig, ctx.istioVersion)) return false;
  const selector = svc.spec?.selector;
  if (!selector || Object.keys(selector).length === 0 || svc.spec?.type === 'ExternalName') return false;
  const ns = svc.metadata.namespace ?? 'default';
  return !(ambientNamespace(ns, ctx) || ambientPods(svc, ctx) || surelyNoSidecar(svc, ctx));
}

/**
 * The client namespace no DestinationRule covers for the host: the Service's own (ownNs), else
 * OTHER_NAMESPACE (any other), else undefined (every client has one).
 */
function uncoveredClient(host: string, ns: string, ownNs: boolean, ctx: RuleContext): string | undefined {
  if (ownNs) return ns;
  return ctx.index.destinationRulesFor(host, OTHER_NAMESPACE, ns).length === 0 ? OTHER_NAMESPACE : undefined;
}

function autoMtlsVersionNote(ctx: RuleContext): { versionNote?: string } {
  if (!ctx.index.meshConfig.enableAutoMtls) return {};
  return {
    versionNote: `judged for Istio ${ctx.istioVersion.major}.${ctx.istioVersion.minor}: auto mTLS is on by default only since 1.5`,
  };
}

/**
 * Service subject, auto mTLS off: clients that no DestinationRule covers send plaintext to the Service's
 * STRICT ports (Kiali KIA0401/KIA0501). No DestinationRule to blame, so the finding is on the Service.
 */
export function noRuleFindings(svc: Service, ctx: RuleContext): Finding[] {
  if (!sidecarServerWithoutAutoMtls(svc, ctx)) return [];
  const ns = svc.metadata.namespace ?? 'default';
  const host = serviceFqdn(svc.metadata.name, ns, ctx.index.domain);
  const ownNs = ctx.index.destinationRulesFor(host, ns, ns).length === 0;
  const client = uncoveredClient(host, ns, ownNs, ctx);
  if (client === undefined) return [];
  const strict: Target[] = (svc.spec?.ports ?? [])
    .map((p) => ({
      svc,
      host,
      namespace: ns,
      port: p.port,
      http: isHttpPortName(p.appProtocol ?? p.name),
      mtls: effectiveMtls(ctx.index, svc, p.port),
      client,
    }))
    .filter((t) => t.mtls.mode === 'STRICT');
  const first = strict[0];
  if (!first) return [];
  const related = new Map<string, ObjectRef>();
  for (const t of strict) if (t.mtls.source) related.set(refKey(refOf(t.mtls.source)), refOf(t.mtls.source));
  const args = {
    svc: describeRef(refOf(svc)),
    clients: ownNs
      ? `clients in namespace ${ns} (and every namespace without a DestinationRule for it)`
      : 'clients in every namespace without a DestinationRule for it',
    ports: strict.map((t) => `port ${t.port ?? ''}`).join(', '),
    pa: [...new Set(strict.map(policyName))].join(', '),
    host,
  };
  const r = {
    resource: refOf(svc),
    related: [...related.values()],
    ...autoMtlsVersionNote(ctx),
    fix: fixFor(svc, host, strict, !ownNs, ctx),
    claim: serverRejectsClaim(strict.find((t) => t.http) ?? first, undefined, ctx),
  };
  return [report(ctx.complete ? MM101.messages.NoRuleToStrict : MM101.messages.NoRuleToStrictInInput, args, r)];
}

const ANY = 'meshmedic-any-service';

/** The DestinationRule the PeerAuthentication finding creates, when it breaks no DISABLE server of the input. */
function policyRule(pa: PeerAuthentication, host: string, ctx: RuleContext): Fix {
  const disabled = ctx.index
    .ofKind<PeerAuthentication>('PeerAuthentication')
    .some((p) =>
      [p.spec?.mtls?.mode, ...Object.values(p.spec?.portLevelMtls ?? {}).map((m) => m.mode)].includes('DISABLE'),
    );
  if (disabled)
    return noFix(
      'a PeerAuthentication of the input is DISABLE: a wildcard ISTIO_MUTUAL DestinationRule would send Istio mTLS to it too; give the STRICT hosts their own DestinationRules',
    );
  const ns = pa.metadata.namespace ?? 'default';
  const name = 'istio-mutual';
  if (ctx.index.get(`DestinationRule/${ns}/${name}`)) return noFix(`a DestinationRule ${ns}/${name} exists already`);
  return {
    patches: [],
    create: [
      {
        apiVersion: 'networking.istio.io/v1',
        kind: 'DestinationRule',
        metadata: { name, namespace: ns, annotations: { 'meshmedic.io/generated-by': MM101.id } },
        spec: { host, trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } } },
      },
    ],
  };
}

/** A PeerAuthentication for whole namespaces (no selector) in mode STRICT. */
function namespaceWideStrict(pa: PeerAuthentication): boolean {
  return Object.keys(pa.spec?.selector?.matchLabels ?? {}).length === 0 && pa.spec?.mtls?.mode === 'STRICT';
}

function knownNamespaces(ctx: RuleContext): Set<string> {
  const known = new Set<string>();
  for (const o of ctx.index.all()) if (o.object.metadata.namespace) known.add(o.object.metadata.namespace);
  return known;
}

/**
 * The Services the policy makes STRICT in the namespace (undefined: every namespace without a policy of its
 * own) that no DestinationRule covers, as the finding words them; undefined when there is nothing to say:
 * the namespace has a Service of the input (judged on the Service), is ambient, takes its mode from another
 * policy, or has a DestinationRule.
 */
function strictWithoutRule(pa: PeerAuthentication, ns: string | undefined, ctx: RuleContext): string | undefined {
  if (ns !== undefined && (ctx.index.inNamespace<Service>('Service', ns).length > 0 || ambientNamespace(ns, ctx)))
    return undefined;
  const m = namespaceMtls(ctx.index, ns);
  if (m.mode !== 'STRICT' || !m.source || refKey(refOf(m.source)) !== refKey(refOf(pa))) return undefined;
  const serverNs = ns ?? OTHER_NAMESPACE;
  const host = serviceFqdn(ANY, serverNs, ctx.index.domain);
  if (ctx.index.destinationRulesFor(host, serverNs, serverNs).length > 0) return undefined;
  return ns !== undefined
    ? `the Services of namespace ${ns}`
    : 'the Services of every namespace without a PeerAuthentication of its own';
}

/**
 * PeerAuthentication subject, auto mTLS off, no Service of the namespace in the input: a namespace-wide
 * (or mesh-wide) STRICT whose namespaces no DestinationRule covers (Kiali KIA0501, KIA0401).
 */
export function strictPolicyFindings(pa: PeerAuthentication, ctx: RuleContext): Finding[] {
  if (autoMtlsOn(ctx.index.meshConfig, ctx.istioVersion) || ctx.complete) return [];
  if (!namespaceWideStrict(pa)) return [];
  const root = ctx.index.meshConfig.rootNamespace;
  const paNs = pa.metadata.namespace ?? 'default';
  const meshWide = paNs === root;
  // Only where the input has no Service to judge: the mesh-wide policy when it has none at all.
  if (meshWide && ctx.index.ofKind('Service').length > 0) return [];
  const namespaces: (string | undefined)[] = meshWide ? [...knownNamespaces(ctx), undefined] : [paNs];
  const where = namespaces.flatMap((ns) => {
    const w = strictWithoutRule(pa, ns, ctx);
    return w === undefined ? [] : [w];
  });
  if (where.length === 0) return [];
  const host = meshWide ? `*.svc.${ctx.index.domain}` : `*.${paNs}.svc.${ctx.index.domain}`;
  const args = {
    pa: describeRef(refOf(pa)),
    scope: meshWide ? 'the mesh' : `namespace ${paNs}`,
    where: where.join(', '),
    assumed: MM101_ASSUMED,
  };
  return [
    report(MM101.messages.NoRuleToStrictAssumed, args, {
      resource: refOf(pa),
      fix: policyRule(pa, host, ctx),
      claim: {
        kind: 'inexpressible',
        reason: 'no Service of the input is reached: there is no server pod to simulate',
      },
    }),
  ];
}
