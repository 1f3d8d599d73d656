import { MM222 } from '../catalogue/rules/mm222.js';
import { resolveGatewayName } from '../model/gateway-names.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type {
  Gateway,
  KubeObject,
  PolicyTargetReference,
  RequestAuthentication,
  VirtualService,
} from '../model/types.js';
import { selects, type Workload } from '../model/workloads.js';
import type { FindingClaim } from './claims.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';
import {
  describeLabels,
  describeWorkloads,
  gatewayWorkloads,
  holdsProxyWorkloads,
  uniqueObjects,
} from './workload-helpers.js';

/** pkg/jwt/routing.go:22 HeaderJWTClaim. */
const CLAIM_PREFIX = '@request.auth.claims';
/** The label Istio's Gateway API deployments carry (pilot/pkg/model/policyattachment.go workloadGatewayName). */
const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

const CLAIM: FindingClaim = {
  kind: 'inexpressible',
  reason:
    "the generated route is the same with or without a RequestAuthentication (a metadata matcher on the jwt_authn payload); the difference is the listener's jwt_authn HTTP filter, which no claim kind reads, and a simulated call carries no JWT",
};

/** pkg/jwt/routing.go:37-57 ToRoutingClaim: `@request.auth.claims.a.b` or `@request.auth.claims[a][b]`. */
export function isClaimKey(key: string): boolean {
  if (!key.toLowerCase().startsWith(CLAIM_PREFIX)) return false;
  const rest = key.slice(CLAIM_PREFIX.length);
  return (rest.startsWith('.') && rest.length > 1) || (rest.startsWith('[') && rest.endsWith(']') && rest.length > 2);
}

function keysOf(v: unknown): string[] {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
}

/** The first claim key of http[].match[].headers / withoutHeaders (jwtclaimroute.go:122-138). */
export function claimRouteKey(vs: VirtualService): string | undefined {
  for (const route of vs.spec?.http ?? []) {
    const matches = Array.isArray(route['match']) ? (route['match'] as unknown[]) : [];
    for (const m of matches) {
      if (m === null || typeof m !== 'object') continue;
      const match = m as { headers?: unknown; withoutHeaders?: unknown };
      const key = [...keysOf(match.headers), ...keysOf(match.withoutHeaders)].find(isClaimKey);
      if (key !== undefined) return key;
    }
  }
  return undefined;
}

function targetRefs(ra: RequestAuthentication): PolicyTargetReference[] {
  const refs = ra.spec?.targetRefs ?? [];
  // pilot/pkg/model/policyattachment.go:115-121 GetTargetRefs: the legacy targetRef when targetRefs is empty.
  return refs.length === 0 && ra.spec?.targetRef ? [ra.spec.targetRef] : refs;
}

/** pilot/pkg/model/policyattachment.go:122-201 ShouldAttachPolicy, for a gateway pod (never a waypoint). */
export function attaches(ra: RequestAuthentication, w: Workload): boolean {
  const refs = targetRefs(ra);
  const gatewayName = w.labels[GATEWAY_NAME_LABEL];
  const bySelector = () => selects(ra.spec?.selector?.matchLabels ?? {}, w.labels);
  if (gatewayName === undefined) return refs.length === 0 && bySelector();
  // ENABLE_SELECTOR_BASED_K8S_GATEWAY_POLICY defaults to true (pilot/pkg/features/pilot.go:270).
  if (refs.length === 0) return bySelector();
  if ((ra.metadata.namespace ?? '') !== w.namespace) return false;
  return refs.some(
    (r) =>
      (r.group ?? '') === 'gateway.networking.k8s.io' &&
      r.kind === 'Gateway' &&
      r.name === gatewayName &&
      (!r.namespace || r.namespace === w.namespace),
  );
}

/** Whether a RequestAuthentication with jwtRules applies to the pod (pilot/pkg/model/authentication.go:282-305). */
function hasJwtFilter(w: Workload, index: MeshIndex): boolean {
  const namespaces = [...new Set([w.namespace, index.meshConfig.rootNamespace])];
  return namespaces.some((ns) =>
    index
      .inNamespace<RequestAuthentication>('RequestAuthentication', ns)
      // No jwtRules: no jwt_authn filter (pilot/pkg/security/authn/policy_applier.go:98-100).
      .some((ra) => (ra.spec?.jwtRules ?? []).length > 0 && attaches(ra, w)),
  );
}

/**
 * Offline, with no proxy's workload in the input: whether some RequestAuthentication with jwtRules in
 * the input, in any namespace, would apply to a pod carrying just the Gateway's selector labels. The
 * pods' namespace is unknown, so each policy is judged as if they ran in its namespace (lenient).
 */
function couldHaveJwtFilter(gw: Gateway, index: MeshIndex): boolean {
  const labels = gw.spec?.selector ?? {};
  return index.ofKind<RequestAuthentication>('RequestAuthentication').some((ra) => {
    const pod: Workload = {
      object: gw,
      namespace: ra.metadata.namespace ?? '',
      labels,
      annotations: {},
      spec: undefined,
      isPod: true,
    };
    return (ra.spec?.jwtRules ?? []).length > 0 && attaches(ra, pod);
  });
}

/** The Istio Gateways the VirtualService binds that exist in the snapshot (missing ones are MM204's). */
function boundGateways(vs: VirtualService, index: MeshIndex): Gateway[] {
  const ns = vs.metadata.namespace ?? '';
  const out: Gateway[] = [];
  for (const entry of vs.spec?.gateways ?? []) {
    const r = resolveGatewayName(entry, ns);
    if (r.kind !== 'gateway') continue;
    const gw = index.gateway(r.namespace, r.name);
    if (gw) out.push(gw);
  }
  return uniqueObjects(out);
}

/**
 * The gateway pods without the jwt_authn filter, described; undefined when none lacks it or the input
 * cannot tell. A Gateway that selects no pod of a snapshot holding proxies is MM211's finding.
 */
function lackingPods(gw: Gateway, ctx: RuleContext): { described: string; objects: KubeObject[] } | undefined {
  const workloads = gatewayWorkloads(gw, ctx.index);
  if (workloads.length > 0) {
    const lacking = workloads.filter((w) => !hasJwtFilter(w, ctx.index));
    if (lacking.length === 0) return undefined;
    return { described: describeWorkloads(lacking), objects: uniqueObjects(lacking.map((w) => w.object)) };
  }
  // Application manifests without the gateway deployment (istioctl adds a dummy ingress pod the same way).
  if (ctx.complete || holdsProxyWorkloads(ctx.index) || couldHaveJwtFilter(gw, ctx.index)) return undefined;
  return { described: `the gateway pods (labels ${describeLabels(gw.spec?.selector)})`, objects: [] };
}

/** Parity with istioctl IST0149: a gateway VirtualService routes on JWT claims no RequestAuthentication provides. */
export const mm222: Rule = {
  ...MM222,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const key = claimRouteKey(vs);
    if (key === undefined) return [];
    const type = ctx.complete ? MM222.messages.NoRequestAuthentication : MM222.messages.NoRequestAuthenticationInInput;
    const effect = isWithoutHeadersOnly(vs, key)
      ? 'the withoutHeaders match always matches, so requests that carry the claim take the route too'
      : 'the route is never taken, so requests fall through to a later route or get 404 NR';
    const findings: Finding[] = [];
    for (const gw of boundGateways(vs, ctx.index)) {
      const lacking = lackingPods(gw, ctx);
      if (!lacking) continue;
      const args = {
        vs: describeRef(refOf(vs)),
        gateway: describeRef(refOf(gw)),
        key,
        workloads: lacking.described,
        effect,
      };
      findings.push(
        report(type, args, {
          resource: refOf(vs),
          related: [refOf(gw), ...lacking.objects.map(refOf)],
          fix: noFix(
            'no automatic fix: authentication policy is a security decision (trusted issuers and keys); apply a RequestAuthentication with your jwtRules to the gateway pods',
          ),
          claim: CLAIM,
        }),
      );
    }
    return findings;
  },
};

/** Whether the claim key is found only under withoutHeaders (an inverted metadata matcher: route.go:1074-1078). */
function isWithoutHeadersOnly(vs: VirtualService, key: string): boolean {
  return !(vs.spec?.http ?? []).some((route) =>
    (Array.isArray(route['match']) ? (route['match'] as unknown[]) : []).some(
      (m) => m !== null && typeof m === 'object' && keysOf((m as { headers?: unknown }).headers).includes(key),
    ),
  );
}
