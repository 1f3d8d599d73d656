import { compareFindings } from '../analysis/analyze.js';
import { isIpAddress } from '../model/hosts.js';
import { describeRef } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { ObjectRef } from '../model/types.js';
import type { Finding, FindingEvidence, Severity } from '../rules/types.js';
import type { LogGroup } from './aggregate.js';
import { parseIstioSni } from './cluster-name.js';
import { evidenceOf, keepAliveFinding, passthroughEntryFinding, timeoutFinding, type EvidenceContext } from './evidence-rules.js';
import { describeFlags } from './flags.js';
import { candidateHosts, explainingFindings, hostOfGroup, isInMesh } from './hosts.js';

/**
 * From aggregated access-log groups to diagnoses (symptom -> cause -> fix) and findings: the access-log
 * forms of MM104/MM105/MM106, and the static findings of the given manifests that explain what was seen
 * (with the log evidence attached). Pure: no I/O.
 */
export interface ExplainContext extends EvidenceContext {
  index?: MeshIndex;
  /** The findings of `analyze` on the manifests (empty without manifests). */
  staticFindings: readonly Finding[];
  /** Rules the policy turns off: no evidence finding for them (the diagnosis stays, in words). */
  disabledRules?: readonly string[];
}

export interface FindingRef {
  rule: string;
  resource: ObjectRef;
}

export interface Diagnosis {
  severity: Severity;
  /** As logged: "503 UC", "504 UT", "0 UF" (TCP). */
  symptom: string;
  /** The group: upstream cluster, or `cluster authority`, or the authority. */
  target: string;
  /** The host the requests were for, when known. */
  host?: string;
  count: number;
  firstSeen?: string;
  lastSeen?: string;
  durationMs?: FindingEvidence['durationMs'];
  /** One line: what causes it. */
  cause: string;
  /** The full explanation. */
  detail: string;
  /** One line: what to do. */
  fix: string;
  /** The rule whose condition this is (evidence form or static), when there is one. */
  rule?: string;
  /** How `rule` is known: a finding from the log, findings of the manifests, or only suspected (no manifest says). */
  ruleBasis?: 'logs' | 'manifests' | 'suspected';
  /** Static findings of the manifests that explain the symptom. */
  explainedBy: FindingRef[];
  /** The finding built from the log evidence (MM104/MM105/MM106). */
  finding?: FindingRef;
  sampleLine: string;
}

export interface ExplainResult {
  diagnoses: Diagnosis[];
  /** Evidence findings and the static findings that explain a symptom, sorted like analyze's. */
  findings: Finding[];
}

type Pattern =
  | { kind: 'mm104' }
  | { kind: 'mm105' }
  | { kind: 'mm106' }
  | { kind: 'words' };

interface Classified {
  pattern: Pattern;
  severity: Severity;
  host: string;
  /** Rules whose static findings can explain the symptom. */
  candidates: string[];
  rule?: string;
  cause: string;
  detail: string;
  /** The fix in words, used when no finding carries one. */
  fix: string;
}

const FAILURE_FLAGS = new Set(['UH', 'UF', 'UO', 'NR', 'URX', 'NC', 'UT', 'LR', 'UR', 'UC', 'DT', 'SI', 'UPE', 'UMSDR', 'NFCF', 'DF', 'OM', 'UAEX', 'RL', 'RLSE', 'IH', 'DPE', 'FI']);

/** Groups worth a diagnosis: 5xx answers, and failure flags whatever the code (TCP logs 0). */
export function isFailure(g: LogGroup): boolean {
  return g.responseCode >= 500 || g.responseFlags.split(',').some((f) => FAILURE_FLAGS.has(f));
}

function tlsFailure(g: LogGroup): string | undefined {
  return [...g.upstreamTransportFailureReasons, ...g.responseCodeDetails].find((t) => /CERTIFICATE_VERIFY_FAILED|SSL|TLS|handshake/i.test(t));
}

function classify(g: LogGroup, ctx: ExplainContext): Classified {
  const flags = new Set(g.responseFlags.split(','));
  const has = (...f: string[]): boolean => f.some((x) => flags.has(x));
  const gh = hostOfGroup(g);
  const host = gh.host;
  const kind = g.cluster?.kind;
  const inMesh = isInMesh(host, ctx.index);
  const where = host ? `${host}${gh.port !== undefined ? `:${gh.port}` : ''}` : g.target;
  const symptom = `${g.responseCode} ${g.responseFlags}`;
  const base = { host, severity: 'error' as Severity };

  // REGISTRY_ONLY: TCP goes to BlackHoleCluster, HTTP gets a 502 direct response from the block_all route.
  if (kind === 'blackhole' || g.routeNames.includes('block_all')) {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM108'],
      rule: 'MM108',
      cause: 'blocked: host not in the registry (REGISTRY_ONLY)',
      detail: `${symptom} BlackHoleCluster: the proxy drops traffic to ${where}: outbound traffic policy REGISTRY_ONLY and no ServiceEntry the proxy can see declares it (missing, or hidden by a Sidecar's egress hosts, MM108).`,
      fix: `declare ${where} in a ServiceEntry and import it in the Sidecar egress hosts (MM108)`,
    };
  }
  if (has('NC')) {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM201', 'MM202', 'MM104'],
      cause: 'no cluster: route to an unknown host or subset',
      detail: `${symptom}: a route sends ${where} to a cluster Envoy does not have: a destination host no Service or ServiceEntry declares (MM201, MM104) or a subset no DestinationRule defines (MM202).`,
      fix: 'declare the destination host (Service/ServiceEntry) or the subset (DestinationRule)',
    };
  }
  if (has('NR')) {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM204', 'MM201'],
      cause: 'no route for this Host/port',
      detail: `${symptom}: no route matches ${where} on this listener: on a gateway, no VirtualService bound to the Gateway lists the host (MM204); on a sidecar, the Host header or port matches no Service or VirtualService.`,
      fix: 'bind a VirtualService with this host to the Gateway, or call a declared host and port',
    };
  }
  if (has('UH')) {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM107'],
      rule: 'MM107',
      cause: 'no healthy upstream: endpoints ejected or not ready',
      detail: `${symptom}: the cluster for ${where} has no healthy endpoint: outlierDetection ejected all of them (maxEjectionPercent 100, MM107), or no pod is ready / the Service selects none.`,
      fix: 'bound outlierDetection.maxEjectionPercent (MM107); check the endpoints are ready',
    };
  }
  if (has('UO')) {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: [],
      cause: 'circuit breaker: connection pool overflow',
      detail: `${symptom}: the DestinationRule connectionPool limits for ${where} (maxConnections, http1MaxPendingRequests, http2MaxRequests, maxRequestsPerConnection) were reached and Envoy rejected the request.`,
      fix: 'raise the connectionPool limits of the DestinationRule, or expect the rejections (circuit breaking)',
    };
  }
  const tls = tlsFailure(g);
  const nonIstioSni = g.requestedServerNames.find((s) => !parseIstioSni(s) && s.toLowerCase() !== host);
  if (kind !== 'passthrough' && kind !== 'inbound' && has('UC', 'UF', 'URX') && host && !inMesh && !isIpAddress(host) && (tls || nonIstioSni)) {
    const reason = tls
      ? `the TLS handshake with ${host} failed (${tls})`
      : `the request came in for ${nonIstioSni} (SNI/Host) and went to ${host}: without a DestinationRule that originates TLS with sni ${host}, Envoy sends plaintext or the original name (auto_sni from the original Host since Istio 1.21) and ${host}'s server resets or rejects the handshake`;
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM102'],
      rule: 'MM102',
      cause: `SNI mismatch: TLS to ${host} not originated with sni ${host}`,
      detail: `${symptom} on ${g.target}: ${reason}.`,
      fix: `DestinationRule for ${host}: tls.mode SIMPLE, sni ${host}, subjectAltNames [${host}] (MM102)`,
    };
  }
  if (kind === 'passthrough' && has('UF', 'UC')) {
    return {
      ...base,
      pattern: { kind: 'mm104' },
      candidates: ['MM104', 'MM108'],
      rule: 'MM104',
      cause: 'external host via PassthroughCluster: stale IP',
      detail: `${symptom} through PassthroughCluster to ${where}: no ServiceEntry declares the host, so Envoy reuses the connection and IP the application resolved; they fail once DNS, an ELB or an egress firewall moves on.`,
      fix: `MESH_EXTERNAL ServiceEntry for ${host || 'the host'} with resolution DNS (MM104)`,
    };
  }
  if (has('UT')) {
    return {
      ...base,
      severity: 'warning',
      pattern: { kind: 'mm105' },
      candidates: ['MM105'],
      rule: 'MM105',
      cause: 'route timeout fired',
      detail: `${symptom}: requests to ${where} were cut by a route timeout (route timeouts are disabled by default since Istio 1.0: one is set somewhere).`,
      fix: `route timeout = the policy's defaultRouteTimeout (MM105)`,
    };
  }
  if (kind === 'inbound' && has('UC')) {
    return {
      ...base,
      severity: 'warning',
      pattern: { kind: 'mm106' },
      candidates: ['MM106'],
      rule: 'MM106',
      cause: 'keep-alive race: app closed a connection Envoy reused',
      detail: `${symptom} on inbound cluster ${g.target}: the application closed an idle keep-alive connection (or one that reached its request limit) just as the sidecar reused it.`,
      fix: 'DestinationRule connectionPool.http.idleTimeout below the app keep-alive + retry on reset (MM106, propose only)',
    };
  }
  if ((kind === 'inbound' || kind === 'inbound-passthrough') && has('UF')) {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: [],
      cause: 'app not listening: crashed, restarting, on localhost',
      detail: `${symptom} on inbound cluster ${g.target}: the sidecar could not connect to the application container (upstream ${g.upstreamHosts.join(', ') || '?'}): it crashed, is restarting or not yet listening, or listens on 127.0.0.1 only (since Istio 1.10 inbound traffic goes to the pod IP).`,
      fix: 'no configuration fix: check the application container (restarts, readiness, listen address)',
    };
  }
  if (kind === 'inbound' || kind === 'inbound-passthrough') {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM106'],
      cause: `inbound failure: ${describeFlags(g.responseFlags)}`,
      detail: `${symptom} on inbound cluster ${g.target}: ${describeFlags(g.responseFlags)} between the sidecar and the application.`,
      fix: 'check the application container',
    };
  }
  if (inMesh && has('UC', 'UF', 'URX') && (g.responseCode === 503 || g.responseCode === 0)) {
    const mtls = tls ? ` (${tls})` : '';
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM101'],
      rule: 'MM101',
      cause: 'in-mesh call reset: check mTLS',
      detail: `${symptom} on ${g.target}${g.target === where ? '' : ` (${where})`}${mtls}: the server side reset the connection. The usual cause is a DestinationRule that sends plaintext or non-Istio TLS to a STRICT mTLS workload (the server sidecar logs a TLS handshake error, no request reaches the app): check mTLS (MM101). Otherwise the app closed the connection.`,
      fix: 'check mTLS: the DestinationRule tls.mode must be ISTIO_MUTUAL (or unset with auto mTLS) for STRICT workloads (MM101)',
    };
  }
  if (kind === 'outbound' && has('UC', 'UF', 'URX')) {
    return {
      ...base,
      pattern: { kind: 'words' },
      candidates: ['MM102', 'MM104'],
      cause: `external host ${flags.has('UC') ? 'closed the connection' : 'unreachable'}`,
      detail: `${symptom} on ${g.target}: ${describeFlags(g.responseFlags)} with ${where}: plaintext sent to a TLS port (MM102), a stale connection, or the host is down.`,
      fix: 'check the port protocol and TLS origination (MM102); check the host is reachable',
    };
  }
  if (g.responseFlags === '-') {
    return {
      ...base,
      severity: 'info',
      pattern: { kind: 'words' },
      candidates: [],
      cause: `the upstream answered ${g.responseCode} itself`,
      detail: `${symptom}: no Envoy flag: ${where} answered ${g.responseCode} itself; the mesh passed it through.`,
      fix: 'look at the upstream application',
    };
  }
  return {
    ...base,
    pattern: { kind: 'words' },
    candidates: [],
    cause: describeFlags(g.responseFlags),
    detail: `${symptom} on ${g.target}: ${describeFlags(g.responseFlags)}.`,
    fix: 'see the Envoy response flag',
  };
}

function refOfFinding(f: Finding): FindingRef {
  return { rule: f.rule, resource: f.resource };
}

function findingKey(f: Finding): string {
  return `${f.rule}|${describeRef(f.resource)}|${f.message}`;
}

function fixSummary(f: Finding): string {
  const parts = [
    ...f.fix.patches.map((p) => `patch ${describeRef(p.target)}`),
    ...f.fix.create.map((c) => `create ${c.kind} ${c.metadata.namespace ? `${c.metadata.namespace}/` : ''}${c.metadata.name}`),
  ];
  const text = parts.length > 0 ? parts.join('; ') : (f.fix.notes?.[0] ?? 'no automatic fix');
  return `${f.rule}: ${text}${f.fix.proposeOnly ? ' (propose only)' : ''}`;
}

/** Diagnoses the failure groups and builds the findings that go with them. */
export function explainGroups(groups: readonly LogGroup[], ctx: ExplainContext): ExplainResult {
  const failing = groups.filter(isFailure);
  const disabled = new Set(ctx.disabledRules ?? []);
  const classified = failing.map((g) => {
    const c = classify(g, ctx);
    return { g, c: c.rule && disabled.has(c.rule) && c.pattern.kind !== 'words' ? { ...c, pattern: { kind: 'words' as const } } : c };
  });

  // Static findings that explain each group.
  const explainers = new Map<LogGroup, Finding[]>();
  for (const { g, c } of classified) {
    const hosts = ctx.index ? candidateHosts(c.host, ctx.index) : [];
    explainers.set(g, ctx.index ? explainingFindings(ctx.staticFindings, c.candidates, hosts, ctx.index) : []);
  }

  // Evidence findings, one per (rule, host), unless a static finding of the same rule explains it.
  const byRuleHost = new Map<string, { kind: Pattern['kind']; host: string; groups: LogGroup[] }>();
  for (const { g, c } of classified) {
    if (c.pattern.kind === 'words') continue;
    if ((explainers.get(g) ?? []).some((f) => f.rule === c.rule)) continue;
    const key = `${c.pattern.kind}|${c.host}`;
    const entry = byRuleHost.get(key) ?? { kind: c.pattern.kind, host: c.host, groups: [] };
    entry.groups.push(g);
    byRuleHost.set(key, entry);
  }
  const evidenceFindings = new Map<string, Finding>();
  const evidenceWords = new Map<string, string>();
  const mm104Hosts = new Set<string>();
  for (const [key, e] of byRuleHost) {
    if (e.kind !== 'mm104') continue;
    const f = passthroughEntryFinding(e.host, e.groups, ctx);
    if (f) {
      evidenceFindings.set(key, f);
      mm104Hosts.add(e.host);
    } else {
      const declared = ctx.index && e.host ? ctx.index.entriesForHost(e.host) : [];
      evidenceWords.set(
        key,
        declared.length > 0
          ? `a ServiceEntry declares ${e.host} (${declared.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).join(', ')}), yet the traffic went through PassthroughCluster: the port is not declared, the entry is not exported to the client's namespace, or a Sidecar hides it (MM108)`
          : `the client connected to an IP address (${e.host || '?'}): no ServiceEntry with resolution DNS can be generated; declare the host name the application should use`,
      );
    }
  }
  for (const [key, e] of byRuleHost) {
    if (e.kind === 'mm104') continue;
    const r = e.kind === 'mm105' ? timeoutFinding(e.host, e.groups, ctx, mm104Hosts.has(e.host)) : keepAliveFinding(e.host, e.groups, ctx);
    if (r.finding) evidenceFindings.set(key, r.finding);
    if (r.words) evidenceWords.set(key, r.words);
  }

  // Static explainers carry the evidence of every group they explain.
  const staticExplained = new Map<string, { f: Finding; groups: LogGroup[] }>();
  for (const { g } of classified) {
    for (const f of explainers.get(g) ?? []) {
      const k = findingKey(f);
      const entry = staticExplained.get(k) ?? { f, groups: [] };
      entry.groups.push(g);
      staticExplained.set(k, entry);
    }
  }

  const diagnoses: Diagnosis[] = classified.map(({ g, c }) => {
    const explainedBy = explainers.get(g) ?? [];
    const key = `${c.pattern.kind}|${c.host}`;
    const finding = c.pattern.kind === 'words' ? undefined : evidenceFindings.get(key);
    const words = c.pattern.kind === 'words' ? undefined : evidenceWords.get(key);
    const ev = evidenceOf([g]);
    const explainedText = explainedBy.length > 0 ? ` Explained by ${explainedBy.map((f) => `${f.rule} on ${describeRef(f.resource)}`).join(', ')}: ${explainedBy[0]?.message}` : '';
    const unexplained = ctx.index && explainedBy.length === 0 && c.candidates.length > 0 && !finding ? ` No finding in the manifests given explains it (looked for ${c.candidates.join(', ')}).` : '';
    const detail = finding ? finding.message : `${c.detail}${words ? ` ${words[0]?.toUpperCase()}${words.slice(1)}.` : ''}${explainedText}${unexplained}`;
    const fix = finding ? fixSummary(finding) : explainedBy.length > 0 ? explainedBy.map(fixSummary).join('; ') : c.fix;
    const severity = finding?.severity ?? explainedBy[0]?.severity ?? c.severity;
    const d: Diagnosis = {
      severity,
      symptom: `${g.responseCode} ${g.responseFlags}`,
      target: g.target,
      ...(c.host ? { host: c.host } : {}),
      count: g.count,
      ...(ev.firstSeen !== undefined ? { firstSeen: ev.firstSeen } : {}),
      ...(ev.lastSeen !== undefined ? { lastSeen: ev.lastSeen } : {}),
      ...(ev.durationMs ? { durationMs: ev.durationMs } : {}),
      cause: c.cause,
      detail,
      fix,
      ...(finding
        ? { rule: finding.rule, ruleBasis: 'logs' as const }
        : explainedBy[0]
          ? { rule: [...new Set(explainedBy.map((f) => f.rule))].join(','), ruleBasis: 'manifests' as const }
          : c.rule
            ? { rule: c.rule, ruleBasis: 'suspected' as const }
            : {}),
      explainedBy: explainedBy.map(refOfFinding),
      ...(finding ? { finding: refOfFinding(finding) } : {}),
      sampleLine: g.sampleLine,
    };
    return d;
  });

  const findings: Finding[] = [
    ...new Map([...evidenceFindings.values()].map((f) => [findingKey(f), f])).values(),
    ...[...staticExplained.values()].map(({ f, groups: gs }) => ({ ...f, evidence: evidenceOf(gs) })),
  ].sort(compareFindings);
  diagnoses.sort((a, b) => b.count - a.count || a.target.localeCompare(b.target) || a.symptom.localeCompare(b.symptom));
  return { diagnoses, findings };
}
