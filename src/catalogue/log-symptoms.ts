import type { ClusterKind } from '../evidence/types.js';
import type { Severity } from '../rules/types.js';
import { fill, type Placeholders } from './message-type.js';

/**
 * The log-symptom table of `meshmedic explain` and the operator's evidence: which access-log groups mean what.
 * One row per pattern: what it matches (response flags, upstream cluster kind, response code, named
 * conditions), the rules whose findings can explain it, the rule it points at, the severity of the diagnosis,
 * and the cause, detail and fix templates. Rows are tried in order; the first that matches wins; the last
 * matches everything. Pure: no I/O.
 */

/** What a group of records shows, as the matcher needs it (built by src/evidence/diagnose.ts). */
export interface SymptomFacts {
  responseCode: number;
  /** As logged: `UF,URX`, `-` when none. */
  responseFlags: string;
  /** Undefined when the log has no upstream cluster field (Envoy's own format, seed 001). */
  cluster?: ClusterKind;
  routeNames: readonly string[];
  /** The host the requests went to ('' when unknown). */
  host: string;
  hostIsIp: boolean;
  /** A Service, ServiceEntry or cluster-local name of the mesh. */
  inMesh: boolean;
  /** A TLS failure the proxy logged (transport failure reason or response code details). */
  tlsFailure?: string;
  /** An SNI that is neither Istio's (`outbound_.port_.subset_.host`) nor the host. */
  foreignSni?: string;
  /** The subset of an `outbound|port|subset|host` cluster, when it names one. */
  subset?: string;
}

/** The values the templates are filled with. */
export interface SymptomArgs {
  /** As logged: `503 UC`. */
  symptom: string;
  code: number;
  /** The group: upstream cluster, `PassthroughCluster authority`, or the authority. */
  target: string;
  /** host:port, else the target. */
  where: string;
  /** ` (where)` when it differs from the target, else ''. */
  alsoWhere: string;
  host: string;
  /** The host, `the host` when unknown. */
  theHost: string;
  /** The flags with their meaning: `UF (upstream connection failure)`. */
  flags: string;
  /** The upstream endpoints logged, `?` when none. */
  upstream: string;
  tlsFailure: string;
  /** ` (tlsFailure)` when one was logged, else ''. */
  tlsNote: string;
  foreignSni: string;
}

const CONDITIONS = {
  blocked: {
    doc: '`BlackHoleCluster`, or a 502 from route `block_all`',
    holds: (f: SymptomFacts) => f.cluster === 'blackhole' || f.routeNames.includes('block_all'),
  },
  externalHost: {
    doc: 'to an external host name (not in the mesh, not an IP)',
    holds: (f: SymptomFacts) => f.host !== '' && !f.inMesh && !f.hostIsIp,
  },
  tlsFailure: {
    doc: 'a TLS failure logged (`CERTIFICATE_VERIFY_FAILED`, SSL, TLS, handshake)',
    holds: (f: SymptomFacts) => f.tlsFailure !== undefined,
  },
  foreignSni: {
    doc: "an SNI other than the cluster host and not Istio's",
    holds: (f: SymptomFacts) => f.foreignSni !== undefined,
  },
  inMesh: { doc: 'to an in-mesh host', holds: (f: SymptomFacts) => f.inMesh },
  subsetCluster: {
    doc: 'a subset cluster (`outbound|port|subset|host`)',
    holds: (f: SymptomFacts) => f.subset !== undefined && f.subset !== '',
  },
  noFlag: { doc: 'no response flag (`-`)', holds: (f: SymptomFacts) => f.responseFlags === '-' },
} as const;

export type ConditionName = keyof typeof CONDITIONS;

/** What a row matches: every given part must hold. */
export interface SymptomMatch {
  /** Any of these response flags. */
  readonly flags?: readonly string[];
  /** The upstream cluster is one of these kinds. */
  readonly clusters?: readonly ClusterKind[];
  /** The upstream cluster is none of these kinds (or not logged). */
  readonly notClusters?: readonly ClusterKind[];
  /** The response code is one of these. */
  readonly codes?: readonly number[];
  readonly conditions?: readonly ConditionName[];
}

/** The rules whose access-log form builds a finding from the groups of a row (src/evidence/evidence-rules.ts). */
export type EvidenceForm = 'MM104' | 'MM105' | 'MM106' | 'MM210';

export interface SymptomRow {
  /** Stable, kebab-case. */
  readonly id: string;
  readonly when: SymptomMatch;
  /** The severity of the diagnosis when no finding gives one. */
  readonly severity: Severity;
  /** Why that severity. */
  readonly certainty: string;
  /** Rules whose static findings can explain the symptom. */
  readonly candidates: readonly string[];
  /** The rule whose condition this is, when there is one. */
  readonly rule?: string;
  /** Set when the rule's access-log form builds a finding from these groups; then `rule` is the same. */
  readonly form?: EvidenceForm;
  readonly seeds?: readonly string[];
  /** One line: what causes it. */
  readonly cause: string;
  /** The full explanation. */
  readonly detail: string;
  /** One line: what to do, when no finding carries a fix. */
  readonly fix: string;
}

type Unknown<T extends string> = Exclude<Placeholders<T>, keyof SymptomArgs>;
/** A template whose placeholders are all SymptomArgs names (else a type error naming the unknown one). */
type Checked<T extends string> = [Unknown<T>] extends [never] ? T : `unknown placeholder {${Unknown<T>}}`;

type RowSpec<C extends string, D extends string, F extends string> = Omit<
  SymptomRow,
  'cause' | 'detail' | 'fix' | 'rule' | 'form'
> & {
  readonly cause: Checked<C>;
  readonly detail: Checked<D>;
  readonly fix: Checked<F>;
} & ({ readonly form: EvidenceForm; readonly rule?: never } | { readonly form?: never; readonly rule?: string });

function row<const C extends string, const D extends string, const F extends string>(
  spec: RowSpec<C, D, F>,
): SymptomRow {
  return spec.form ? { ...spec, rule: spec.form } : spec;
}

const LOGGED = 'The proxies logged the failure: it happened; the cause is read from the flags and the cluster.';
const OUTBOUND_FAILURE = ['UC', 'UF', 'URX'];
const INBOUND: readonly ClusterKind[] = ['inbound', 'inbound-passthrough'];
const SNI_FIX = 'DestinationRule for {host}: tls.mode SIMPLE, sni {host}, subjectAltNames [{host}] (MM102)';
const SNI_CAUSE = 'SNI mismatch: TLS to {host} not originated with sni {host}';
const SNI_WHEN: SymptomMatch = {
  flags: OUTBOUND_FAILURE,
  notClusters: ['passthrough', 'inbound'],
  conditions: ['externalHost'],
};

/** The table, in matching order. */
export const LOG_SYMPTOMS: readonly SymptomRow[] = [
  // REGISTRY_ONLY: TCP goes to BlackHoleCluster, HTTP gets a 502 direct response from the block_all route
  // (pilot/pkg/networking/util/util.go BlackHoleCluster, BlackHole = "block_all"; core/httproute.go).
  row({
    id: 'registry-only-block',
    when: { conditions: ['blocked'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM108'],
    rule: 'MM108',
    cause: 'blocked: host not in the registry (REGISTRY_ONLY)',
    detail:
      "{symptom} BlackHoleCluster: the proxy drops traffic to {where}: outbound traffic policy REGISTRY_ONLY and no ServiceEntry the proxy can see declares it (missing, or hidden by a Sidecar's egress hosts, MM108).",
    fix: 'declare {where} in a ServiceEntry and import it in the Sidecar egress hosts (MM108)',
  }),
  row({
    id: 'no-cluster',
    when: { flags: ['NC'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM201', 'MM202', 'MM104', 'MM220'],
    cause: 'no cluster: route to an unknown host or subset',
    detail:
      '{symptom}: a route sends {where} to a cluster Envoy does not have: a destination host no Service or ServiceEntry declares or exports to the proxy (MM201, MM104), a port the Service does not declare (MM220), or a subset no DestinationRule defines (MM202).',
    fix: 'declare the destination host (Service/ServiceEntry) or the subset (DestinationRule)',
  }),
  row({
    id: 'no-route',
    when: { flags: ['NR'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM205', 'MM204', 'MM201'],
    cause: 'no route for this Host/port',
    detail:
      '{symptom}: no route matches {where} on this listener: on a gateway, no server of the Gateway accepts the host (MM205), no VirtualService bound to the Gateway lists it, or the VirtualService names a Gateway that does not exist (MM204); on a sidecar, the Host header or port matches no Service or VirtualService.',
    fix: 'bind a VirtualService with this host to the Gateway, or call a declared host and port',
  }),
  // A subset's endpoints are the Service's whose labels include the subset's
  // (pilot/pkg/xds/endpoints/endpoint_builder.go subsetLabels.SubsetOf): none, and its cluster logs UH.
  row({
    id: 'subset-no-healthy-upstream',
    when: { flags: ['UH'], clusters: ['outbound'], conditions: ['subsetCluster'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM107'],
    form: 'MM210',
    cause: 'no healthy upstream in a subset: it may select no pod',
    detail:
      "{symptom} on subset cluster {target}: the subset has no healthy endpoint: its labels select none of the Service's pods (MM210), or its pods are not ready or were ejected by outlierDetection (MM107).",
    fix: 'check that the subset labels select the pods that should serve it (MM210) and that those pods are ready (MM107)',
  }),
  row({
    id: 'no-healthy-upstream',
    when: { flags: ['UH'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM107'],
    rule: 'MM107',
    cause: 'no healthy upstream: endpoints ejected or not ready',
    detail:
      '{symptom}: the cluster for {where} has no healthy endpoint: outlierDetection ejected all of them (maxEjectionPercent 100, MM107), or no pod is ready / the Service selects none.',
    fix: 'bound outlierDetection.maxEjectionPercent (MM107); check the endpoints are ready',
  }),
  row({
    id: 'pool-overflow',
    when: { flags: ['UO'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: [],
    cause: 'circuit breaker: connection pool overflow',
    detail:
      '{symptom}: the DestinationRule connectionPool limits for {where} (maxConnections, http1MaxPendingRequests, http2MaxRequests, maxRequestsPerConnection) were reached and Envoy rejected the request.',
    fix: 'raise the connectionPool limits of the DestinationRule, or expect the rejections (circuit breaking)',
  }),
  row({
    id: 'external-tls-failure',
    when: { ...SNI_WHEN, conditions: ['externalHost', 'tlsFailure'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM102'],
    rule: 'MM102',
    cause: SNI_CAUSE,
    detail: '{symptom} on {target}: the TLS handshake with {host} failed ({tlsFailure}).',
    fix: SNI_FIX,
  }),
  row({
    id: 'external-foreign-sni',
    when: { ...SNI_WHEN, conditions: ['externalHost', 'foreignSni'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM102'],
    rule: 'MM102',
    seeds: ['seed 000: `foo.bar.org` sent to `outbound|443||dev.bar.org`'],
    cause: SNI_CAUSE,
    detail:
      "{symptom} on {target}: the request came in for {foreignSni} (SNI/Host) and went to {host}: without a DestinationRule that originates TLS with sni {host}, Envoy sends plaintext or the original name (auto_sni from the original Host since Istio 1.21) and {host}'s server resets or rejects the handshake.",
    fix: SNI_FIX,
  }),
  row({
    id: 'passthrough-stale',
    when: { clusters: ['passthrough'], flags: ['UF', 'UC'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM104', 'MM108'],
    form: 'MM104',
    seeds: ['seed 002: `external.service.com`'],
    cause: 'external host via PassthroughCluster: stale IP',
    detail:
      '{symptom} through PassthroughCluster to {where}: no ServiceEntry declares the host, so Envoy reuses the connection and IP the application resolved; they fail once DNS, an ELB or an egress firewall moves on.',
    fix: 'MESH_EXTERNAL ServiceEntry for {theHost} with resolution DNS (MM104)',
  }),
  row({
    id: 'route-timeout',
    when: { flags: ['UT'] },
    severity: 'warning',
    certainty:
      'A timeout the configuration sets cut the requests; whether a longer wait is acceptable is a decision: a risk.',
    candidates: ['MM105'],
    form: 'MM105',
    seeds: ['seed 002: 15004 ms ≈ 15 s'],
    cause: 'route timeout fired',
    detail:
      '{symptom}: requests to {where} were cut by a route timeout (route timeouts are disabled by default since Istio 1.0: one is set somewhere).',
    fix: "route timeout = the policy's defaultRouteTimeout (MM105)",
  }),
  row({
    id: 'inbound-keepalive-race',
    when: { clusters: ['inbound'], flags: ['UC'] },
    severity: 'warning',
    certainty:
      'The race depends on timing and on the application: the logged resets point at it, they do not prove it.',
    candidates: ['MM106'],
    form: 'MM106',
    seeds: ['seed 002: `srv-a`'],
    cause: 'keep-alive race: app closed a connection Envoy reused',
    detail:
      '{symptom} on inbound cluster {target}: the application closed an idle keep-alive connection (or one that reached its request limit) just as the sidecar reused it.',
    fix: 'DestinationRule connectionPool.http.idleTimeout below the app keep-alive + retry on reset (MM106, propose only)',
  }),
  row({
    id: 'inbound-app-not-listening',
    when: { clusters: INBOUND, flags: ['UF'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: [],
    seeds: ['seed 002: `srv-b`'],
    cause: 'app not listening: crashed, restarting, on localhost',
    detail:
      '{symptom} on inbound cluster {target}: the sidecar could not connect to the application container (upstream {upstream}): it crashed, is restarting or not yet listening, or listens on 127.0.0.1 only (since Istio 1.10 inbound traffic goes to the pod IP).',
    fix: 'no configuration fix: check the application container (restarts, readiness, listen address)',
  }),
  row({
    id: 'inbound-other',
    when: { clusters: INBOUND },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM106'],
    cause: 'inbound failure: {flags}',
    detail: '{symptom} on inbound cluster {target}: {flags} between the sidecar and the application.',
    fix: 'check the application container',
  }),
  row({
    id: 'in-mesh-reset',
    when: { flags: OUTBOUND_FAILURE, codes: [503, 0], conditions: ['inMesh'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM101'],
    rule: 'MM101',
    seeds: ['seed 001: `httpbin:8000`'],
    cause: 'in-mesh call reset: check mTLS',
    detail:
      '{symptom} on {target}{alsoWhere}{tlsNote}: the server side reset the connection. The usual cause is a DestinationRule that sends plaintext or non-Istio TLS to a STRICT mTLS workload (the server sidecar logs a TLS handshake error, no request reaches the app): check mTLS (MM101). Otherwise the app closed the connection.',
    fix: 'check mTLS: the DestinationRule tls.mode must be ISTIO_MUTUAL (or unset with auto mTLS) for STRICT workloads (MM101)',
  }),
  row({
    id: 'outbound-closed',
    when: { clusters: ['outbound'], flags: ['UC'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM102', 'MM104'],
    cause: 'external host closed the connection',
    detail:
      '{symptom} on {target}: {flags} with {where}: plaintext sent to a TLS port (MM102), a stale connection, or the host is down.',
    fix: 'check the port protocol and TLS origination (MM102); check the host is reachable',
  }),
  row({
    id: 'outbound-unreachable',
    when: { clusters: ['outbound'], flags: ['UF', 'URX'] },
    severity: 'error',
    certainty: LOGGED,
    candidates: ['MM102', 'MM104'],
    cause: 'external host unreachable',
    detail:
      '{symptom} on {target}: {flags} with {where}: plaintext sent to a TLS port (MM102), a stale connection, or the host is down.',
    fix: 'check the port protocol and TLS origination (MM102); check the host is reachable',
  }),
  row({
    id: 'upstream-answered',
    when: { conditions: ['noFlag'] },
    severity: 'info',
    certainty: 'Envoy set no flag: the upstream application answered the error and the mesh passed it through.',
    candidates: [],
    cause: 'the upstream answered {code} itself',
    detail: '{symptom}: no Envoy flag: {where} answered {code} itself; the mesh passed it through.',
    fix: 'look at the upstream application',
  }),
  row({
    id: 'other-flag',
    when: {},
    severity: 'error',
    certainty: LOGGED,
    candidates: [],
    cause: '{flags}',
    detail: '{symptom} on {target}: {flags}.',
    fix: 'see the Envoy response flag',
  }),
];

/** Whether a row's match holds for the facts. */
export function matchesRow(m: SymptomMatch, f: SymptomFacts): boolean {
  const flags = f.responseFlags.split(',');
  if (m.flags && !m.flags.some((x) => flags.includes(x))) return false;
  if (m.clusters && (f.cluster === undefined || !m.clusters.includes(f.cluster))) return false;
  if (m.notClusters && f.cluster !== undefined && m.notClusters.includes(f.cluster)) return false;
  if (m.codes && !m.codes.includes(f.responseCode)) return false;
  return (m.conditions ?? []).every((c) => CONDITIONS[c].holds(f));
}

/** The first row that matches (the last row matches everything). */
export function matchSymptom(f: SymptomFacts): SymptomRow {
  return LOG_SYMPTOMS.find((r) => matchesRow(r.when, f)) ?? (LOG_SYMPTOMS[LOG_SYMPTOMS.length - 1] as SymptomRow);
}

export interface FilledSymptom {
  cause: string;
  detail: string;
  fix: string;
}

export function fillRow(r: SymptomRow, args: SymptomArgs): FilledSymptom {
  return { cause: fill(r.cause, args), detail: fill(r.detail, args), fix: fill(r.fix, args) };
}

/** What a diagnosis adds after the row's detail: the findings of the manifests that explain it, or that none does. */
export const DIAGNOSIS_WORDS = {
  explainedBy: ' Explained by {findings}: {message}',
  unexplained: ' No finding in the manifests given explains it (looked for {candidates}).',
} as const;

const CLUSTER_WORDS: Record<ClusterKind, { md: string; text: string }> = {
  outbound: { md: 'on an outbound cluster', text: 'on an outbound cluster' },
  inbound: { md: 'on an inbound cluster', text: 'on an inbound cluster' },
  passthrough: { md: 'through `PassthroughCluster`', text: 'through PassthroughCluster' },
  'inbound-passthrough': { md: 'on `InboundPassthroughCluster`', text: 'on InboundPassthroughCluster' },
  blackhole: { md: 'to `BlackHoleCluster`', text: 'to BlackHoleCluster' },
  other: { md: 'on another cluster', text: 'on another cluster' },
};

type Style = 'md' | 'text';

function flagList(flags: readonly string[], style: Style): string {
  return flags.map((f) => (style === 'md' ? `\`${f}\`` : f)).join('/');
}

function notClusters(kinds: readonly ClusterKind[], style: Style): string {
  const words = kinds.map((k) => CLUSTER_WORDS[k][style]);
  return words.length === 1 ? `not ${words[0]}` : `neither ${words.join(' nor ')}`;
}

/** A row's match in words: "`UF`/`UC` through `PassthroughCluster`". */
export function describeMatch(m: SymptomMatch, style: Style = 'md'): string {
  const head = [
    ...(m.codes ? [m.codes.join('/')] : []),
    ...(m.flags ? [flagList(m.flags, style)] : []),
    ...(m.clusters ? [m.clusters.map((k) => CLUSTER_WORDS[k][style]).join(' or ')] : []),
    ...(m.notClusters ? [notClusters(m.notClusters, style)] : []),
  ].join(' ');
  const conditions = (m.conditions ?? []).map((c) =>
    style === 'md' ? CONDITIONS[c].doc : CONDITIONS[c].doc.replace(/`/g, ''),
  );
  const parts = [...(head ? [head] : []), ...conditions];
  return parts.length > 0 ? parts.join(', ') : 'any other failure';
}

const shown = (template: string): string => template.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, '<$1>');
const cell = (s: string): string => s.replace(/\|/g, '\\|');

function ruleCell(r: SymptomRow): string {
  if (r.form) return `**${r.form}** (access-log finding)`;
  return r.rule ? `${r.rule} (suspected)` : '-';
}

/** README's "what each pattern maps to" table, generated from LOG_SYMPTOMS (first match wins). */
export function symptomTableMarkdown(): string {
  return [
    '| # | symptom in the log | cause | severity | rule | explained by (findings of the manifests) | fix (when no finding gives one) |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...LOG_SYMPTOMS.map((r, i) => {
      const seeds = r.seeds?.length ? ` (${r.seeds.join('; ')})` : '';
      return `| ${i + 1} | ${cell(describeMatch(r.when) + seeds)} | ${cell(shown(r.cause))} | ${r.severity} | ${ruleCell(r)} | ${r.candidates.join(', ') || '-'} | ${cell(shown(r.fix))} |`;
    }),
  ].join('\n');
}

/** One line for `meshmedic explain --help`: the symptoms that build access-log findings, and their rules. */
export function evidenceFormsText(): string {
  const forms = LOG_SYMPTOMS.filter((r) => r.form);
  return forms.map((r) => `${describeMatch(r.when, 'text')} (${r.form})`).join('; ');
}
