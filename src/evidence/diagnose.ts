import { compareFindings } from '../analysis/analyze.js';
import { ACCESS_LOG_WORDS } from '../catalogue/access-log.js';
import {
  DIAGNOSIS_WORDS,
  fillRow,
  matchSymptom,
  type EvidenceForm,
  type FilledSymptom,
  type SymptomArgs,
  type SymptomFacts,
  type SymptomRow,
} from '../catalogue/log-symptoms.js';
import { fill } from '../catalogue/message-type.js';
import { isIpAddress } from '../model/hosts.js';
import { describeRef } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { ObjectRef } from '../model/types.js';
import type { Finding, FindingEvidence, Severity } from '../rules/types.js';
import type { LogGroup } from './aggregate.js';
import { parseIstioSni } from './cluster-name.js';
import {
  evidenceOf,
  keepAliveFinding,
  passthroughEntryFinding,
  subsetFinding,
  timeoutFinding,
  type EvidenceContext,
} from './evidence-rules.js';
import { describeFlags } from './flags.js';
import { gatewayNoRoute } from './gateway-no-route.js';
import { candidateHosts, explainingFindings, hostOfGroup, isInMesh, type GroupHost } from './hosts.js';

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

/** A failure group looked up in the log-symptom table. */
interface Classified {
  g: LogGroup;
  row: SymptomRow;
  host: string;
  /** The access-log form that builds a finding for the group; unset when the policy turns its rule off. */
  form?: EvidenceForm;
  texts: FilledSymptom;
}

const FAILURE_FLAGS = new Set([
  'UH',
  'UF',
  'UO',
  'NR',
  'URX',
  'NC',
  'UT',
  'LR',
  'UR',
  'UC',
  'DT',
  'SI',
  'UPE',
  'UMSDR',
  'NFCF',
  'DF',
  'OM',
  'UAEX',
  'RL',
  'RLSE',
  'IH',
  'DPE',
  'FI',
]);

/** Groups worth a diagnosis: 5xx answers, and failure flags whatever the code (TCP logs 0). */
export function isFailure(g: LogGroup): boolean {
  return g.responseCode >= 500 || g.responseFlags.split(',').some((f) => FAILURE_FLAGS.has(f));
}

function tlsFailure(g: LogGroup): string | undefined {
  return [...g.upstreamTransportFailureReasons, ...g.responseCodeDetails].find((t) =>
    /CERTIFICATE_VERIFY_FAILED|SSL|TLS|handshake/i.test(t),
  );
}

/** What the symptom table matches on. */
export function symptomFacts(g: LogGroup, host: string, index: MeshIndex | undefined): SymptomFacts {
  const tls = tlsFailure(g);
  const foreignSni = g.requestedServerNames.find((s) => !parseIstioSni(s) && s.toLowerCase() !== host);
  return {
    responseCode: g.responseCode,
    responseFlags: g.responseFlags,
    ...(g.cluster ? { cluster: g.cluster.kind } : {}),
    routeNames: g.routeNames,
    host,
    hostIsIp: isIpAddress(host),
    inMesh: isInMesh(host, index),
    ...(tls !== undefined ? { tlsFailure: tls } : {}),
    ...(foreignSni !== undefined ? { foreignSni } : {}),
    ...(g.cluster?.subset ? { subset: g.cluster.subset } : {}),
  };
}

function symptomArgs(g: LogGroup, gh: GroupHost, f: SymptomFacts): SymptomArgs {
  const where = gh.host ? `${gh.host}${gh.port !== undefined ? `:${gh.port}` : ''}` : g.target;
  return {
    symptom: `${g.responseCode} ${g.responseFlags}`,
    code: g.responseCode,
    target: g.target,
    where,
    alsoWhere: g.target === where ? '' : ` (${where})`,
    host: gh.host,
    theHost: gh.host || 'the host',
    flags: describeFlags(g.responseFlags),
    upstream: g.upstreamHosts.join(', ') || '?',
    tlsFailure: f.tlsFailure ?? '',
    tlsNote: f.tlsFailure !== undefined ? ` (${f.tlsFailure})` : '',
    foreignSni: f.foreignSni ?? '',
  };
}

/** The row of the log-symptom table (src/catalogue/log-symptoms.ts) a group matches: first match wins. */
export function symptomRowOf(g: LogGroup, index: MeshIndex | undefined): SymptomRow {
  return matchSymptom(symptomFacts(g, hostOfGroup(g).host, index));
}

function classify(g: LogGroup, ctx: ExplainContext, disabled: ReadonlySet<string>): Classified {
  const gh = hostOfGroup(g);
  const facts = symptomFacts(g, gh.host, ctx.index);
  const row = matchSymptom(facts);
  const form = row.form && !disabled.has(row.form) ? row.form : undefined;
  return { g, row, host: gh.host, ...(form ? { form } : {}), texts: fillRow(row, symptomArgs(g, gh, facts)) };
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
    ...f.fix.create.map(
      (c) => `create ${c.kind} ${c.metadata.namespace ? `${c.metadata.namespace}/` : ''}${c.metadata.name}`,
    ),
  ];
  const text = parts.length > 0 ? parts.join('; ') : (f.fix.notes?.[0] ?? 'no automatic fix');
  return `${f.rule}: ${text}${f.fix.proposeOnly ? ' (propose only)' : ''}`;
}

/** A finding built from the log evidence of one (form, host), or why none could be. */
interface Built {
  finding?: Finding;
  words?: string;
  /** The rule suspected instead of the row's, when the words clear it (MM210: the subset selects pods). */
  suspect?: string;
}

/** One finding per (form, host); MM210's per subset cluster too. */
function evidenceKey(c: Classified & { form: EvidenceForm }): string {
  return `${c.form}|${c.host}|${c.form === 'MM210' ? (c.g.cluster?.subset ?? '') : ''}`;
}

/** Why MM104's form built no finding: an entry declares the host, or the client used an address. */
function passthroughWords(host: string, index: MeshIndex | undefined): string {
  const declared = index && host ? index.entriesForHost(host) : [];
  if (declared.length === 0) return fill(ACCESS_LOG_WORDS.passthroughToAddress, { host: host || '?' });
  return fill(ACCESS_LOG_WORDS.entryDeclared, {
    host,
    entries: declared.map((s) => `${s.metadata.namespace}/${s.metadata.name}`).join(', '),
  });
}

/**
 * The access-log findings, one per (form, host), unless a static finding of the same rule explains the group.
 * MM104 first: MM105 then knows which hosts already get their ServiceEntry from it.
 */
function buildEvidence(
  classified: readonly Classified[],
  explainers: ReadonlyMap<LogGroup, Finding[]>,
  ctx: ExplainContext,
): Map<string, Built> {
  const byKey = new Map<string, { form: EvidenceForm; host: string; subset: string; groups: LogGroup[] }>();
  for (const c of classified) {
    const form = c.form;
    if (!form || (explainers.get(c.g) ?? []).some((f) => f.rule === c.row.rule)) continue;
    const key = evidenceKey({ ...c, form });
    const subset = c.g.cluster?.subset ?? '';
    const entry = byKey.get(key) ?? { form, host: c.host, subset, groups: [] };
    entry.groups.push(c.g);
    byKey.set(key, entry);
  }
  const built = new Map<string, Built>();
  const mm104Hosts = new Set<string>();
  for (const [key, e] of byKey) {
    if (e.form !== 'MM104') continue;
    const finding = passthroughEntryFinding(e.host, e.groups, ctx);
    if (finding) mm104Hosts.add(e.host);
    built.set(key, finding ? { finding } : { words: passthroughWords(e.host, ctx.index) });
  }
  for (const [key, e] of byKey) {
    if (e.form === 'MM104') continue;
    built.set(key, buildForm(e, ctx, mm104Hosts));
  }
  return built;
}

/** The finding of MM105, MM106 or MM210's form (MM104's is built first: MM105 needs its hosts). */
function buildForm(
  e: { form: EvidenceForm; host: string; subset: string; groups: LogGroup[] },
  ctx: ExplainContext,
  mm104Hosts: ReadonlySet<string>,
): Built {
  switch (e.form) {
    case 'MM105':
      return timeoutFinding(e.host, e.groups, ctx, mm104Hosts.has(e.host));
    case 'MM210':
      return subsetFinding(e.host, e.subset, e.groups, ctx);
    default:
      return keepAliveFinding(e.host, e.groups, ctx);
  }
}

/** The static findings shown: each once, with the evidence of every group it explains. */
function explainedStatic(classified: readonly Classified[], explainers: ReadonlyMap<LogGroup, Finding[]>): Finding[] {
  const byKey = new Map<string, { f: Finding; groups: LogGroup[] }>();
  for (const { g } of classified) {
    for (const f of explainers.get(g) ?? []) {
      const k = findingKey(f);
      const entry = byKey.get(k) ?? { f, groups: [] };
      entry.groups.push(g);
      byKey.set(k, entry);
    }
  }
  return [...byKey.values()].map(({ f, groups }) => ({ ...f, evidence: evidenceOf(groups) }));
}

function capitalized(words: string): string {
  return `${words[0]?.toUpperCase()}${words.slice(1)}.`;
}

/** The row's detail, then the evidence form's words, the explaining findings, or that none was found. */
function detailOf(
  c: Classified,
  explainedBy: readonly Finding[],
  built: Built | undefined,
  ctx: ExplainContext,
): string {
  if (built?.finding) return built.finding.message;
  const words = built?.words ? ` ${capitalized(built.words)}` : '';
  const first = explainedBy[0];
  const explained = first
    ? fill(DIAGNOSIS_WORDS.explainedBy, {
        findings: explainedBy.map((f) => `${f.rule} on ${describeRef(f.resource)}`).join(', '),
        message: first.message,
      })
    : '';
  const unexplained =
    ctx.index && !first && c.row.candidates.length > 0
      ? fill(DIAGNOSIS_WORDS.unexplained, { candidates: c.row.candidates.join(', ') })
      : '';
  return `${c.texts.detail}${words}${explained}${unexplained}`;
}

function ruleOf(
  c: Classified,
  explainedBy: readonly Finding[],
  built: Built | undefined,
): Pick<Diagnosis, 'rule' | 'ruleBasis'> {
  if (built?.finding) return { rule: built.finding.rule, ruleBasis: 'logs' };
  if (explainedBy.length > 0)
    return { rule: [...new Set(explainedBy.map((f) => f.rule))].join(','), ruleBasis: 'manifests' };
  const rule = built?.suspect ?? c.row.rule;
  return rule ? { rule, ruleBasis: 'suspected' } : {};
}

function diagnosisOf(
  c: Classified,
  explainedBy: readonly Finding[],
  built: Built | undefined,
  ctx: ExplainContext,
): Diagnosis {
  const { g } = c;
  const finding = built?.finding;
  const ev = evidenceOf([g]);
  const fix = finding
    ? fixSummary(finding)
    : explainedBy.length > 0
      ? explainedBy.map(fixSummary).join('; ')
      : c.texts.fix;
  return {
    severity: finding?.severity ?? explainedBy[0]?.severity ?? c.row.severity,
    symptom: `${g.responseCode} ${g.responseFlags}`,
    target: g.target,
    ...(c.host ? { host: c.host } : {}),
    count: g.count,
    ...(ev.firstSeen !== undefined ? { firstSeen: ev.firstSeen } : {}),
    ...(ev.lastSeen !== undefined ? { lastSeen: ev.lastSeen } : {}),
    ...(ev.durationMs ? { durationMs: ev.durationMs } : {}),
    cause: c.texts.cause,
    detail: detailOf(c, explainedBy, built, ctx),
    fix,
    ...ruleOf(c, explainedBy, built),
    explainedBy: explainedBy.map(refOfFinding),
    ...(finding ? { finding: refOfFinding(finding) } : {}),
    sampleLine: g.sampleLine,
  };
}

/** Diagnoses the failure groups and builds the findings that go with them. */
export function explainGroups(groups: readonly LogGroup[], ctx: ExplainContext): ExplainResult {
  const disabled = new Set(ctx.disabledRules ?? []);
  const classified = groups.filter(isFailure).map((g) => classify(g, ctx, disabled));
  const explainers = new Map<LogGroup, Finding[]>();
  for (const c of classified) {
    explainers.set(
      c.g,
      ctx.index
        ? explainingFindings(ctx.staticFindings, c.row.candidates, candidateHosts(c.host, ctx.index), ctx.index)
        : [],
    );
  }
  const built = buildEvidence(classified, explainers, ctx);
  const builtOf = (c: Classified): Built | undefined => {
    const form = c.form;
    if (form) return built.get(evidenceKey({ ...c, form }));
    // 404 NR on a Gateway's port: what its servers and VirtualServices say of the host, in words.
    return c.row.id === 'no-route' && ctx.index ? gatewayNoRoute(c.g, c.host, ctx.index) : undefined;
  };
  const diagnoses = classified.map((c) => diagnosisOf(c, explainers.get(c.g) ?? [], builtOf(c), ctx));
  const evidenceFindings = [...built.values()].flatMap((b) => (b.finding ? [b.finding] : []));
  const findings: Finding[] = [
    ...new Map(evidenceFindings.map((f) => [findingKey(f), f])).values(),
    ...explainedStatic(classified, explainers),
  ].sort(compareFindings);
  diagnoses.sort((a, b) => b.count - a.count || a.target.localeCompare(b.target) || a.symptom.localeCompare(b.symptom));
  return { diagnoses, findings };
}
