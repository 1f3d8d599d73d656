/**
 * MeshHealthPolicy `spec.evidence.accessLogs`: whether and how the operator reads the istio-proxy access logs of
 * the pods in the namespaces a policy covers. Pure: parsing, defaults, bounds, label selector strings.
 */

export interface LabelSelectorRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: LabelSelectorRequirement[];
}

/** The settings as they apply (defaults filled in). Only built for `enabled: true`. */
export interface AccessLogSettings {
  /** Read the lines of the last sinceSeconds seconds (pods/log sinceSeconds). */
  sinceSeconds: number;
  /** At most this many lines per pod (pods/log tailLines; also enforced while reading). */
  maxLinesPerPod: number;
  /** Pods to read; unset: every pod that has a container named `container`. */
  podSelector?: LabelSelector;
  /** The container whose log is read. */
  container: string;
  /** How often the logs are read again. */
  intervalSeconds: number;
}

/** The policy field as written (the CRD schema checks types; parseAccessLogSettings checks the rest again). */
export interface AccessLogSpec {
  enabled?: unknown;
  sinceSeconds?: unknown;
  maxLinesPerPod?: unknown;
  podSelector?: unknown;
  container?: unknown;
  intervalSeconds?: unknown;
}

export const ACCESS_LOG_DEFAULTS = {
  sinceSeconds: 600,
  maxLinesPerPod: 5000,
  container: 'istio-proxy',
  intervalSeconds: 60,
} as const;

/** Bounds (inclusive), the same as the CRD schema's. */
export const ACCESS_LOG_BOUNDS = {
  sinceSeconds: [1, 86_400],
  maxLinesPerPod: [1, 100_000],
  intervalSeconds: [10, 86_400],
} as const satisfies Record<string, readonly [number, number]>;

const FIELD = 'spec.evidence.accessLogs';
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
// Label keys: an optional DNS subdomain prefix and a name; values: empty or a name (63 characters at most).
const LABEL_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const LABEL_PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

export interface SettingsProblem {
  field: string;
  message: string;
}

function isLabelKey(k: string): boolean {
  const slash = k.indexOf('/');
  const prefix = slash < 0 ? undefined : k.slice(0, slash);
  const name = slash < 0 ? k : k.slice(slash + 1);
  return (
    name.length <= 63 &&
    LABEL_NAME.test(name) &&
    (prefix === undefined || (prefix.length <= 253 && LABEL_PREFIX.test(prefix)))
  );
}

function isLabelValue(v: string): boolean {
  return v === '' || (v.length <= 63 && LABEL_NAME.test(v));
}

function integerIn(value: unknown, [min, max]: readonly [number, number]): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}

function parseSelector(raw: unknown, field: string, problems: SettingsProblem[]): LabelSelector | undefined {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    problems.push({
      field,
      message: `must be a label selector {matchLabels, matchExpressions} (got ${JSON.stringify(raw)})`,
    });
    return undefined;
  }
  const sel = raw as { matchLabels?: unknown; matchExpressions?: unknown };
  const out: LabelSelector = {};
  if (sel.matchLabels !== undefined) {
    if (typeof sel.matchLabels !== 'object' || sel.matchLabels === null || Array.isArray(sel.matchLabels)) {
      problems.push({
        field: `${field}.matchLabels`,
        message: `must be a map of label keys to values (got ${JSON.stringify(sel.matchLabels)})`,
      });
    } else {
      const labels: Record<string, string> = {};
      for (const [k, v] of Object.entries(sel.matchLabels as Record<string, unknown>)) {
        if (!isLabelKey(k))
          problems.push({ field: `${field}.matchLabels`, message: `not a label key: ${JSON.stringify(k)}` });
        else if (typeof v !== 'string' || !isLabelValue(v))
          problems.push({ field: `${field}.matchLabels.${k}`, message: `not a label value: ${JSON.stringify(v)}` });
        else labels[k] = v;
      }
      out.matchLabels = labels;
    }
  }
  if (sel.matchExpressions !== undefined) {
    if (!Array.isArray(sel.matchExpressions)) {
      problems.push({
        field: `${field}.matchExpressions`,
        message: `must be a list (got ${JSON.stringify(sel.matchExpressions)})`,
      });
    } else {
      const exprs: LabelSelectorRequirement[] = [];
      sel.matchExpressions.forEach((e: unknown, i: number) => {
        const f = `${field}.matchExpressions[${i}]`;
        const x = (typeof e === 'object' && e !== null ? e : {}) as {
          key?: unknown;
          operator?: unknown;
          values?: unknown;
        };
        if (typeof x.key !== 'string' || !isLabelKey(x.key)) {
          problems.push({ field: `${f}.key`, message: `not a label key: ${JSON.stringify(x.key)}` });
          return;
        }
        if (x.operator !== 'In' && x.operator !== 'NotIn' && x.operator !== 'Exists' && x.operator !== 'DoesNotExist') {
          problems.push({
            field: `${f}.operator`,
            message: `must be one of In, NotIn, Exists, DoesNotExist (got ${JSON.stringify(x.operator)})`,
          });
          return;
        }
        const values = Array.isArray(x.values) ? x.values : x.values === undefined ? [] : undefined;
        if (values === undefined || values.some((v) => typeof v !== 'string' || !isLabelValue(v))) {
          problems.push({
            field: `${f}.values`,
            message: `must be a list of label values (got ${JSON.stringify(x.values)})`,
          });
          return;
        }
        const needsValues = x.operator === 'In' || x.operator === 'NotIn';
        if (needsValues && values.length === 0) {
          problems.push({ field: `${f}.values`, message: `operator ${x.operator} needs values` });
          return;
        }
        if (!needsValues && values.length > 0) {
          problems.push({ field: `${f}.values`, message: `operator ${x.operator} takes no values` });
          return;
        }
        exprs.push({ key: x.key, operator: x.operator, ...(needsValues ? { values: values as string[] } : {}) });
      });
      out.matchExpressions = exprs;
    }
  }
  return out;
}

/**
 * Reads `spec.evidence.accessLogs`. Undefined when absent or not enabled (it is opt-in). Every problem names
 * its field (`spec.evidence.accessLogs.sinceSeconds: ...`); a policy with problems is not applied at all.
 */
export function parseAccessLogSettings(raw: unknown, problems: SettingsProblem[]): AccessLogSettings | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push({ field: FIELD, message: `must be an object (got ${JSON.stringify(raw)})` });
    return undefined;
  }
  const spec = raw as AccessLogSpec;
  const before = problems.length;
  if (spec.enabled !== undefined && typeof spec.enabled !== 'boolean')
    problems.push({
      field: `${FIELD}.enabled`,
      message: `must be true or false (got ${JSON.stringify(spec.enabled)})`,
    });
  const number = (name: keyof typeof ACCESS_LOG_BOUNDS): number => {
    const v = spec[name];
    if (v === undefined) return ACCESS_LOG_DEFAULTS[name];
    const bounds = ACCESS_LOG_BOUNDS[name];
    if (!integerIn(v, bounds)) {
      problems.push({
        field: `${FIELD}.${name}`,
        message: `must be an integer from ${bounds[0]} to ${bounds[1]} (got ${JSON.stringify(v)})`,
      });
      return ACCESS_LOG_DEFAULTS[name];
    }
    return v;
  };
  const sinceSeconds = number('sinceSeconds');
  const maxLinesPerPod = number('maxLinesPerPod');
  const intervalSeconds = number('intervalSeconds');
  let container: string = ACCESS_LOG_DEFAULTS.container;
  if (spec.container !== undefined) {
    if (typeof spec.container !== 'string' || spec.container.length > 63 || !DNS_LABEL.test(spec.container)) {
      problems.push({
        field: `${FIELD}.container`,
        message: `must be a container name (a DNS label, at most 63 characters; got ${JSON.stringify(spec.container)})`,
      });
    } else container = spec.container;
  }
  const podSelector =
    spec.podSelector === undefined ? undefined : parseSelector(spec.podSelector, `${FIELD}.podSelector`, problems);
  if (spec.enabled !== true || problems.length > before) return undefined;
  return { sinceSeconds, maxLinesPerPod, container, intervalSeconds, ...(podSelector ? { podSelector } : {}) };
}

/** A label selector as the `labelSelector` query parameter of a list call (`app=a,tier in (x,y),!canary`). */
export function labelSelectorString(sel: LabelSelector | undefined): string | undefined {
  if (!sel) return undefined;
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {}).sort(([a], [b]) => a.localeCompare(b)))
    parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    const values = [...(e.values ?? [])].sort().join(',');
    if (e.operator === 'In') parts.push(`${e.key} in (${values})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${values})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else parts.push(`!${e.key}`);
  }
  return parts.length > 0 ? parts.join(',') : undefined;
}

/** Equal settings (the reader restarts a namespace's schedule only when they change). */
export function sameSettings(a: AccessLogSettings | undefined, b: AccessLogSettings | undefined): boolean {
  if (!a || !b) return a === b;
  return (
    a.sinceSeconds === b.sinceSeconds &&
    a.maxLinesPerPod === b.maxLinesPerPod &&
    a.container === b.container &&
    a.intervalSeconds === b.intervalSeconds &&
    labelSelectorString(a.podSelector) === labelSelectorString(b.podSelector) &&
    (a.podSelector === undefined) === (b.podSelector === undefined)
  );
}
