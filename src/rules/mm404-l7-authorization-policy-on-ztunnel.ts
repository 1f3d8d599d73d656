import { MM404 } from '../catalogue/rules/mm404.js';
import { namespaceDataPlane, workloadDataPlane, type DataPlane, type WaypointRef } from '../model/data-plane.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { AuthorizationPolicy, AuthorizationRule, ObjectRef } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/**
 * What ztunnel cannot match, as istiod's conversion lists it (pilot/pkg/serviceregistry/ambient/authorization.go:
 * httpOperations :491-512, httpSources :514-531, l4WhenAttributes :608-614).
 */
const HTTP_OPERATION = ['hosts', 'notHosts', 'methods', 'notMethods', 'paths', 'notPaths'] as const;
const HTTP_SOURCE = ['remoteIpBlocks', 'notRemoteIpBlocks', 'requestPrincipals', 'notRequestPrincipals'] as const;
const L4_SOURCE = [
  'ipBlocks',
  'notIpBlocks',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'principals',
  'notPrincipals',
] as const;
const L4_WHEN: ReadonlySet<string> = new Set([
  'source.ip',
  'source.namespace',
  'source.principal',
  'destination.ip',
  'destination.port',
]);
const DRY_RUN = 'istio.io/dry-run';

const CLAIM = { kind: 'inexpressible', reason: 'the oracle simulates sidecars and gateways, not ztunnel' } as const;

const nonEmpty = (v: readonly unknown[] | undefined): boolean => (v?.length ?? 0) > 0;

/** The HTTP attributes a rule uses, as istiod names them in its status (handleRule :533-606). */
export function httpAttributes(rule: AuthorizationRule): string[] {
  const found = new Set<string>();
  for (const to of rule.to ?? []) for (const f of HTTP_OPERATION) if (nonEmpty(to.operation?.[f])) found.add(f);
  for (const from of rule.from ?? []) for (const f of HTTP_SOURCE) if (nonEmpty(from.source?.[f])) found.add(f);
  for (const w of rule.when ?? []) if (!L4_WHEN.has(w.key)) found.add(w.key);
  return [...found].sort();
}

/**
 * Whether a rule, without its HTTP attributes, has a condition ztunnel can never match: every `to` entry
 * without ports, every `from` entry without an L4 source, or a `when` on an HTTP key (handleRule :537-598
 * builds an empty match for each; ztunnel's Authorization::matches skips empty matches, src/rbac.rs).
 */
function hasEmptyCondition(rule: AuthorizationRule): boolean {
  const to = rule.to ?? [];
  const from = rule.from ?? [];
  const toEmpty = to.length > 0 && to.every((t) => !nonEmpty(t.operation?.ports) && !nonEmpty(t.operation?.notPorts));
  const fromEmpty = from.length > 0 && from.every((f) => L4_SOURCE.every((k) => !nonEmpty(f.source?.[k])));
  const whenEmpty = (rule.when ?? []).some(
    (w) => !L4_WHEN.has(w.key) || (!nonEmpty(w.values) && !nonEmpty(w.notValues)),
  );
  return toEmpty || fromEmpty || whenEmpty;
}

function hasTargetRefs(ap: AuthorizationPolicy): boolean {
  return nonEmpty(ap.spec?.targetRefs) || ap.spec?.targetRef !== undefined;
}

/** A policy istiod sends to ztunnel: no targetRef(s), ALLOW or DENY, not dry-run (authorization.go:397-445). */
function enforcedByZtunnel(ap: AuthorizationPolicy): boolean {
  const action = ap.spec?.action ?? 'ALLOW';
  if (action !== 'ALLOW' && action !== 'DENY') return false;
  if ((ap.metadata.annotations?.[DRY_RUN] ?? '').toLowerCase() === 'true') return false;
  return !hasTargetRefs(ap);
}

interface Targets {
  /** "namespace shop", "Deployment shop/web, Pod shop/web-1". */
  what: string;
  /** Namespaces whose ambient workloads it reaches (for the other-policy check). */
  namespaces: string[];
  plane: Extract<DataPlane, { mode: 'ambient' }>;
}

const isAmbient = (p: DataPlane): p is Extract<DataPlane, { mode: 'ambient' }> => p.mode === 'ambient';

/** The input's workloads the selector picks that run ambient; without any picked in the input, the namespace's pods. */
function selectedTargets(ap: AuthorizationPolicy, root: string, index: MeshIndex): Targets | undefined {
  const ns = ap.metadata.namespace ?? 'default';
  const selector = ap.spec?.selector?.matchLabels ?? {};
  const picked = index.workloadsMatching(selector, ns === root ? undefined : ns);
  if (picked.length === 0) {
    if (ns === root) return undefined;
    const plane = namespaceDataPlane(ns, index);
    return isAmbient(plane) ? { what: `the pods of namespace ${ns} it selects`, namespaces: [ns], plane } : undefined;
  }
  const ambient = picked
    .map((w) => ({ w, plane: workloadDataPlane(w, index) }))
    .filter((x): x is { w: typeof x.w; plane: Extract<DataPlane, { mode: 'ambient' }> } => isAmbient(x.plane));
  const first = ambient[0];
  if (!first) return undefined;
  const names = [...new Set(ambient.map(({ w }) => `${w.object.kind} ${w.namespace}/${w.object.metadata.name}`))];
  return {
    what: names.join(', '),
    namespaces: [...new Set(ambient.map(({ w }) => w.namespace))],
    plane: first.plane,
  };
}

/** A policy without selector: its namespace's pods, or every ambient namespace from the root namespace (Scope_GLOBAL). */
function namespaceTargets(ap: AuthorizationPolicy, root: string, index: MeshIndex): Targets | undefined {
  const ns = ap.metadata.namespace ?? 'default';
  const candidates = ns === root ? index.ofKind('Namespace').map((n) => n.metadata.name) : [ns];
  const ambient = candidates
    .map((name) => ({ name, plane: namespaceDataPlane(name, index) }))
    .filter((x): x is { name: string; plane: Extract<DataPlane, { mode: 'ambient' }> } => isAmbient(x.plane));
  const first = ambient[0];
  if (!first) return undefined;
  const names = ambient.map((a) => a.name);
  return {
    what: `${names.length === 1 ? 'namespace' : 'namespaces'} ${names.join(', ')}`,
    namespaces: names,
    plane: first.plane,
  };
}

function ztunnelTargets(ap: AuthorizationPolicy, index: MeshIndex): Targets | undefined {
  const root = index.meshConfig.rootNamespace;
  return ap.spec?.selector ? selectedTargets(ap, root, index) : namespaceTargets(ap, root, index);
}

/** Another ALLOW policy ztunnel applies in one of these namespaces (or from the root namespace) that keeps a rule. */
function otherAllowPolicies(ap: AuthorizationPolicy, namespaces: string[], index: MeshIndex): AuthorizationPolicy[] {
  const root = index.meshConfig.rootNamespace;
  return index
    .ofKind<AuthorizationPolicy>('AuthorizationPolicy')
    .filter(
      (o) =>
        o !== ap &&
        (o.spec?.action ?? 'ALLOW') === 'ALLOW' &&
        enforcedByZtunnel(o) &&
        (namespaces.includes(o.metadata.namespace ?? 'default') || o.metadata.namespace === root) &&
        (o.spec?.rules ?? []).some((r) => httpAttributes(r).length === 0),
    );
}

function waypointPhrase(w: WaypointRef | undefined): string {
  return w
    ? `ambient (ztunnel; waypoint ${w.namespace}/${w.name} takes no selector policy)`
    : 'ambient (ztunnel, no waypoint)';
}

function fixFor(t: Targets): string {
  const wp = t.plane.waypoint;
  const where = wp
    ? `attach the HTTP rules to the waypoint ${wp.namespace}/${wp.name} with targetRefs (kind Gateway, or the Service)`
    : 'deploy a waypoint (istioctl waypoint apply -n NS --enroll-namespace) and attach the HTTP rules to it with targetRefs';
  return `no automatic fix: which traffic to allow is a security decision; ${where}, and keep only L4 attributes (ports, principals, namespaces, ipBlocks) in the policy ztunnel enforces`;
}

interface Judged {
  index: number;
  attributes: string[];
}

function ruleList(rules: Judged[]): string {
  return rules.map((r) => `rules[${r.index}]`).join(', ');
}

function allowFinding(ap: AuthorizationPolicy, t: Targets, l7: Judged[], ctx: RuleContext): Finding {
  const total = ap.spec?.rules?.length ?? 0;
  const others = l7.length === total ? otherAllowPolicies(ap, t.namespaces, ctx.index) : [];
  const base = { policy: describeRef(refOf(ap)), targets: t.what, attributes: attributesOf(l7), rules: ruleList(l7) };
  const related: ObjectRef[] = others.map((o) => refOf(o));
  const r = { resource: refOf(ap), related, fix: noFix(fixFor(t)), claim: CLAIM };
  if (l7.length === total && others.length === 0)
    return report(ctx.complete ? MM404.messages.AllowsNothing : MM404.messages.AllowsNothingInInput, base, r);
  const rest =
    others.length > 0
      ? ` unless ${others.map((o) => describeRef(refOf(o))).join(', ')} allows them`
      : ' unless its other rules allow them';
  return report(MM404.messages.AllowRulesDropped, { ...base, others: rest }, r);
}

function attributesOf(rules: Judged[]): string {
  return [...new Set(rules.flatMap((r) => r.attributes))].sort().join(', ');
}

/** DENY rules that keep an L4 attribute in every condition deny more; the others deny nothing. */
function denyFindings(ap: AuthorizationPolicy, t: Targets, l7: Judged[]): Finding[] {
  const rules = ap.spec?.rules ?? [];
  const ignored = l7.filter((j) => {
    const rule = rules[j.index];
    return rule !== undefined && hasEmptyCondition(rule);
  });
  const widened = l7.filter((j) => !ignored.includes(j));
  const r = { resource: refOf(ap), fix: noFix(fixFor(t)), claim: CLAIM };
  const args = (js: Judged[]) => ({
    policy: describeRef(refOf(ap)),
    targets: t.what,
    attributes: attributesOf(js),
    rules: ruleList(js),
  });
  return [
    ...(widened.length > 0 ? [report(MM404.messages.DeniesMore, args(widened), r)] : []),
    ...(ignored.length > 0 ? [report(MM404.messages.DenyRulesIgnored, args(ignored), r)] : []),
  ];
}

/** An AuthorizationPolicy ztunnel enforces for ambient workloads, with HTTP attributes it cannot match. */
export const mm404: Rule = {
  ...MM404,
  check(subject, ctx): Finding[] {
    const ap = subject as AuthorizationPolicy;
    if (!enforcedByZtunnel(ap)) return [];
    const l7 = (ap.spec?.rules ?? [])
      .map((rule, index) => ({ index, attributes: httpAttributes(rule) }))
      .filter((j) => j.attributes.length > 0);
    if (l7.length === 0) return [];
    const t = ztunnelTargets(ap, ctx.index);
    if (!t) return [];
    const found = (ap.spec?.action ?? 'ALLOW') === 'ALLOW' ? [allowFinding(ap, t, l7, ctx)] : denyFindings(ap, t, l7);
    return found.map((f) => ({ ...f, dataPlane: waypointPhrase(t.plane.waypoint) }));
  },
};
