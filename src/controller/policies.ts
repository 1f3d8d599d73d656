import { validateAgainstCrd } from '../api/crds.js';
import type { LabelSelector, MeshHealthPolicySpec, Mode, PolicyRule } from '../api/meshhealthpolicy.js';
import { PARAMETER_NAMES, PARAMETERS, type ParameterSpec } from '../catalogue/parameters.js';
import { parseDurationMs } from '../model/durations.js';
import type { KubeObject } from '../model/types.js';
import { RULES, ruleById } from '../rules/registry.js';
import type { IstioVersion, RuleParameters } from '../rules/types.js';
import { parseAccessLogSettings, type AccessLogSettings } from './access-log-settings.js';

export type { Mode } from '../api/meshhealthpolicy.js';
const MODE_RANK: Record<Mode, number> = { Observe: 0, Propose: 1, Enforce: 2 };

export interface PolicyProblem {
  field: string;
  message: string;
  /** The CRD's schema refuses it: the API server would not take the policy (the message is the API server's). */
  schema?: true;
}

export interface Policy {
  name: string;
  generation: number;
  creationTimestamp: string;
  spec: MeshHealthPolicySpec;
  problems: PolicyProblem[];
  params: Partial<RuleParameters>;
  istioVersion: IstioVersion | undefined;
  maxWritesPerMinute: number;
  /** spec.evidence.accessLogs when enabled (and valid). */
  accessLogs: AccessLogSettings | undefined;
}

export const DEFAULT_MAX_WRITES_PER_MINUTE = 30;

/**
 * Reads a MeshHealthPolicy, offline and in the operator alike: as the API server does (the CRD's schema,
 * src/api; each problem worded as its cause), and what a schema cannot check: known rule ids, positive
 * durations, selectors, the Istio version, the access-log settings (not repeated for a field the schema
 * already refuses). A policy with problems applies none of its settings: the operator fails closed on it.
 */
export function parsePolicy(obj: KubeObject): Policy {
  const causes = validateAgainstCrd('MeshHealthPolicy', obj);
  const spec = (isRecord(obj.spec) ? obj.spec : {}) as MeshHealthPolicySpec;
  const checks: PolicyProblem[] = [];
  const params = ruleParameters(spec, checks);
  const istioVersion = parseIstioVersion(spec.istioVersion, checks);
  checkSelector(spec.namespaceSelector, checks);
  const accessLogs = parseAccessLogSettings(spec.evidence?.accessLogs, checks);
  const refused = (field: string): boolean =>
    causes.some((c) => field === c.field || field.startsWith(`${c.field}.`) || field.startsWith(`${c.field}[`));
  const problems = [
    ...causes.map((c): PolicyProblem => ({ ...c, schema: true })),
    ...checks.filter((p) => !refused(p.field)),
  ];
  const meta = {
    name: obj.metadata.name,
    generation: obj.metadata.generation ?? 0,
    creationTimestamp: obj.metadata.creationTimestamp ?? '',
  };
  if (problems.length > 0) {
    const covered = causes.length === 0 ? spec : coverageOf(spec);
    return {
      ...meta,
      spec: covered,
      problems,
      params: {},
      istioVersion: undefined,
      maxWritesPerMinute: DEFAULT_MAX_WRITES_PER_MINUTE,
      accessLogs: undefined,
    };
  }
  return {
    ...meta,
    spec,
    problems,
    params,
    istioVersion,
    maxWritesPerMinute: spec.enforce?.maxWritesPerMinute ?? DEFAULT_MAX_WRITES_PER_MINUTE,
    accessLogs,
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The items of a list that are mappings (the schema reports the rest). */
function records<T>(list: unknown): [T, number][] {
  return Array.isArray(list) ? list.flatMap((x, i): [T, number][] => (isRecord(x) ? [[x as T, i]] : [])) : [];
}

/**
 * Of a spec the schema refuses, only what says where it fails closed: its namespaces and selector when
 * they are well-formed; otherwise nothing, and it covers (fails closed in) every namespace.
 */
function coverageOf(spec: MeshHealthPolicySpec): MeshHealthPolicySpec {
  const causes = validateAgainstCrd('MeshHealthPolicy', { spec });
  if (causes.some((c) => /^spec\.(namespaces|namespaceSelector)\b/.test(c.field))) return {};
  const { namespaces, namespaceSelector } = spec;
  return { ...(namespaces ? { namespaces } : {}), ...(namespaceSelector ? { namespaceSelector } : {}) };
}

/** The rule parameters a policy sets (spec.rules[].parameters), as RuleParameters; types and bounds are the schema's. */
function ruleParameters(spec: MeshHealthPolicySpec, problems: PolicyProblem[]): Partial<RuleParameters> {
  const params: Partial<RuleParameters> = {};
  for (const [r, i] of records<PolicyRule>(spec.rules)) {
    if (typeof r.id === 'string' && !ruleById(r.id))
      problems.push({
        field: `spec.rules[${i}].id`,
        message: `unknown rule ${r.id}; known: ${RULES.map((x) => x.id).join(', ')}`,
      });
    const given: Record<string, unknown> = isRecord(r.parameters) ? r.parameters : {};
    for (const name of PARAMETER_NAMES) {
      const p: ParameterSpec = PARAMETERS[name];
      const value = given[name];
      if (value === undefined) continue;
      if (p.type === 'integer') {
        if (typeof value === 'number') params[p.field] = value;
        continue;
      }
      const ms = typeof value === 'string' ? parseDurationMs(value) : undefined;
      if (ms === undefined || ms <= 0)
        problems.push({
          field: `spec.rules[${i}].parameters.${name}`,
          message: `not a positive duration: ${JSON.stringify(value)}`,
        });
      else params[p.field] = ms;
    }
  }
  return params;
}

function parseIstioVersion(text: unknown, problems: PolicyProblem[]): IstioVersion | undefined {
  if (typeof text !== 'string') return undefined;
  const m = /^v?(\d+)\.(\d+)/.exec(text);
  if (!m) {
    problems.push({ field: 'spec.istioVersion', message: `expected X.Y (got ${JSON.stringify(text)})` });
    return undefined;
  }
  return { major: Number(m[1]), minor: Number(m[2]) };
}

function checkSelector(sel: LabelSelector | undefined, problems: PolicyProblem[]): void {
  for (const [e, i] of records<NonNullable<LabelSelector['matchExpressions']>[number]>(
    isRecord(sel) ? sel.matchExpressions : undefined,
  )) {
    const needsValues = e.operator === 'In' || e.operator === 'NotIn';
    if (needsValues && !(Array.isArray(e.values) && e.values.length > 0))
      problems.push({
        field: `spec.namespaceSelector.matchExpressions[${i}].values`,
        message: `operator ${e.operator} needs values`,
      });
  }
}

export function selectorMatches(sel: LabelSelector | undefined, labels: Record<string, string>): boolean {
  if (!sel) return true;
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const val = labels[e.key];
    const inValues = val !== undefined && (e.values ?? []).includes(val);
    if (e.operator === 'In' && !inValues) return false;
    if (e.operator === 'NotIn' && inValues) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/**
 * A policy covers a namespace when it lists it or its selector matches (neither set: every namespace).
 * An invalid policy covers what it names too: it fails closed there (see effectiveFor), never open.
 */
export function policyCovers(p: Policy, namespace: string, labels: Record<string, string>): boolean {
  const listed = p.spec.namespaces ?? [];
  const sel = p.spec.namespaceSelector;
  if (listed.length === 0 && !sel) return true;
  return listed.includes(namespace) || (sel !== undefined && selectorMatches(sel, labels));
}

export interface EffectiveRule {
  id: string;
  mode: Mode;
}

export interface Effective {
  rules: EffectiveRule[];
  params: Partial<RuleParameters>;
  istioVersion: IstioVersion | undefined;
  maxWritesPerMinute: number;
  policies: string[];
  /** Access-log evidence settings: those of the oldest covering policy that enables them. */
  accessLogs?: AccessLogSettings;
  /** Invalid policies over the namespace: every rule is Observe there (fail closed). */
  failedClosedBy?: string[];
}

function olderFirst(a: Policy, b: Policy): number {
  return a.creationTimestamp === b.creationTimestamp
    ? a.name.localeCompare(b.name)
    : a.creationTimestamp.localeCompare(b.creationTimestamp);
}

/**
 * What applies to an object when several policies cover its namespace. The most cautious verdict wins:
 * a rule runs only if no covering policy disables it, in the lowest mode any of them gives it
 * (Observe < Propose < Enforce), with the smallest write rate; parameters come from the oldest policy
 * that sets each. An object a policy excludes is left out of that policy only.
 */
export function effectiveFor(
  policies: Policy[],
  namespace: string,
  labels: Record<string, string>,
  object?: { kind: string; name: string },
): Effective | undefined {
  const covering = policies
    .filter((p) => policyCovers(p, namespace, labels))
    .filter(
      (p) =>
        !(p.spec.exclusions ?? []).some(
          (x) =>
            (!x.namespace || x.namespace === namespace) &&
            (!x.kind || x.kind === object?.kind) &&
            (!x.name || x.name === object?.name),
        ),
    )
    .sort(olderFirst);
  const invalid = covering.filter((p) => p.problems.length > 0).map((p) => p.name);
  const valid = covering.filter((p) => p.problems.length === 0);
  if (valid.length === 0) return undefined;
  const rules: EffectiveRule[] = [];
  for (const rule of RULES) {
    let mode: Mode | undefined;
    let disabled = false;
    for (const p of valid) {
      const r = p.spec.rules?.find((x) => x.id === rule.id);
      if (r?.enabled === false) disabled = true;
      const m = r?.mode ?? p.spec.mode ?? 'Propose';
      if (mode === undefined || MODE_RANK[m] < MODE_RANK[mode]) mode = m;
    }
    // An invalid policy over the namespace fails closed: findings are still observed, nothing is written.
    if (!disabled && mode) rules.push({ id: rule.id, mode: invalid.length > 0 ? 'Observe' : mode });
  }
  const params: Partial<RuleParameters> = {};
  for (const p of [...valid].reverse()) Object.assign(params, p.params);
  return {
    rules,
    params,
    istioVersion: valid.find((p) => p.istioVersion)?.istioVersion,
    maxWritesPerMinute: Math.min(...valid.map((p) => p.maxWritesPerMinute)),
    policies: valid.map((p) => p.name),
    accessLogs: valid.find((p) => p.accessLogs)?.accessLogs,
    ...(invalid.length > 0 ? { failedClosedBy: invalid } : {}),
  };
}

/** The highest mode a policy's rules get where it applies, after the other covering policies (its mode in effect). */
export function modeInEffect(
  policy: Policy,
  all: Policy[],
  namespaces: { name: string; labels: Record<string, string> }[],
): { mode: Mode | 'None'; downgradedBy: string[] } {
  const declared = policy.spec.mode ?? 'Propose';
  let best: Mode | 'None' = 'None';
  const downgradedBy = new Set<string>();
  for (const ns of namespaces) {
    if (!policyCovers(policy, ns.name, ns.labels)) continue;
    const eff = effectiveFor(all, ns.name, ns.labels);
    if (!eff) continue;
    const top = eff.rules.reduce<Mode>((m, r) => (MODE_RANK[r.mode] > MODE_RANK[m] ? r.mode : m), 'Observe');
    if (best === 'None' || MODE_RANK[top] > MODE_RANK[best]) best = top;
    if (MODE_RANK[top] < MODE_RANK[declared])
      for (const p of [...(eff.failedClosedBy ?? []), ...eff.policies]) if (p !== policy.name) downgradedBy.add(p);
  }
  return { mode: best, downgradedBy: [...downgradedBy].sort() };
}
