/**
 * `meshmedic verify`: every finding's Envoy-level claim is put to Istio's own config generator, and
 * every fix is applied and checked to remove the claimed effect and to change no other simulated call.
 * The oracle is passed in (runOracle in production), so the logic here is testable without it.
 */
import { dump } from 'js-yaml';
import { applyFixes, fixChangesSomething } from '../fix/apply-fixes.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import type { EnvoyClaim } from '../rules/claims.js';
import type { Finding, IstioVersion, Severity } from '../rules/types.js';
import { claimQueries, judgeClaim, type Judgement } from './claim-checks.js';
import type {
  ObjectNote,
  OracleCase,
  OracleQuery,
  OracleRequest,
  OracleResponse,
  QueryResult,
} from './oracle-protocol.js';
import { probeOutcome, probeQueries } from './probes.js';

export type VerdictKind = 'confirmed' | 'refuted' | 'inexpressible';
export type FixVerdict = 'ok' | 'fix-breaks' | 'none';

export interface Verdict {
  rule: string;
  severity: Severity;
  resource: ObjectRef;
  /** meshmedic's claim, as the finding states it. */
  message: string;
  verdict: VerdictKind;
  /** What Istio's generated configuration shows, in Envoy's terms (or why it cannot show it). */
  evidence: string;
  fix: FixVerdict;
  /** With fix-breaks: the call whose result changed (before and after), or the effect that remained. */
  fixEvidence?: string;
}

export interface VerifyReport {
  /** The Istio the oracle was built from, and the flags that emulate the version judged. */
  istio: string;
  judgedAs: string;
  verdicts: Verdict[];
  /** Input objects Istio's validation refuses (the admission webhook would): they were left out. */
  rejected: ObjectNote[];
}

export type OracleRunner = (request: OracleRequest, flags: Record<string, string>) => Promise<OracleResponse>;

export interface VerifyInput {
  index: MeshIndex;
  /** Every input object, as read (the fixes are applied to copies). */
  objects: KubeObject[];
  findings: Finding[];
  /** The `mesh` key of the istio ConfigMap, or the --mesh-config file, as YAML. */
  meshConfig?: string;
  istioVersion: IstioVersion;
}

/**
 * The Istio feature flags that make the oracle (Istio master) judge as `v` would: IP auto-allocation
 * of ServiceEntries became the default in 1.25 (pilot/pkg/features PILOT_ENABLE_IP_AUTOALLOCATE).
 */
export function flagsFor(v: IstioVersion): Record<string, string> {
  const before = (major: number, minor: number): boolean => v.major < major || (v.major === major && v.minor < minor);
  return before(1, 25) ? { PILOT_ENABLE_IP_AUTOALLOCATE: 'false' } : {};
}

/** Mesh config defaults of older Istio: auto mTLS became the default in 1.5. */
export function meshConfigFor(meshConfig: string | undefined, v: IstioVersion): string | undefined {
  const before15 = v.major < 1 || (v.major === 1 && v.minor < 5);
  if (!before15 || (meshConfig ?? '').includes('enableAutoMtls')) return meshConfig;
  return `${meshConfig ?? ''}\nenableAutoMtls: false\n`;
}

function toYaml(objects: KubeObject[]): string {
  return objects.map((o) => dump(o, { noRefs: true, lineWidth: -1 })).join('---\n');
}

function isEnvoyClaim(f: Finding): EnvoyClaim | undefined {
  return f.claim && f.claim.kind !== 'inexpressible' ? f.claim : undefined;
}

/** The request: the input as it is, and the input with each finding's fix applied alone. */
export function buildRequest(input: VerifyInput): { request: OracleRequest; probes: OracleQuery[] } {
  const probes = probeQueries(input.index);
  const meshConfig = meshConfigFor(input.meshConfig, input.istioVersion);
  const claimQs = (f: Finding, i: number): OracleQuery[] => {
    const claim = isEnvoyClaim(f);
    return claim ? claimQueries(claim, `f${i}`) : [];
  };
  const withMesh = (c: OracleCase): OracleCase => (meshConfig ? { ...c, meshConfig } : c);
  const cases: OracleCase[] = [
    withMesh({ id: 'base', yaml: toYaml(input.objects), queries: [...input.findings.flatMap(claimQs), ...probes] }),
  ];
  input.findings.forEach((f, i) => {
    if (!fixChangesSomething(f)) return;
    const fixed = applyFixes(input.objects, [f]);
    cases.push(
      withMesh({
        id: `fix${i}`,
        yaml: toYaml([...fixed.objects, ...fixed.created]),
        queries: [...claimQs(f, i), ...probes],
      }),
    );
  });
  return { request: { cases }, probes };
}

function resultsOf(response: OracleResponse, id: string): { map: Map<string, QueryResult>; error?: string } {
  const c = response.cases.find((x) => x.id === id);
  return {
    map: new Map((c?.queries ?? []).map((q) => [q.id, q])),
    ...(c?.error ? { error: c.error } : c ? {} : { error: 'no answer for this case' }),
  };
}

function claimCluster(claim: EnvoyClaim): string {
  return 'cluster' in claim ? claim.cluster : '';
}

/** The host and subset of an Envoy cluster name (outbound|port|subset|host): what a fix is meant to change. */
function fixScope(cluster: string | undefined): string {
  const parts = (cluster ?? '').split('|');
  return parts.length === 4 ? `${parts[2] ?? ''}|${parts[3] ?? ''}` : '';
}

/**
 * The first probe whose outcome the fix changed, other than calls to the host and subset the claim is
 * about (a fix to a DestinationRule's top level changes every port of that host, which is its purpose;
 * a change to another subset of the host, or to another host, is a break).
 */
function brokenProbe(
  probes: OracleQuery[],
  base: Map<string, QueryResult>,
  fixed: Map<string, QueryResult>,
  cluster: string,
): string | undefined {
  const scope = fixScope(cluster);
  for (const p of probes) {
    const before = base.get(p.id)?.call;
    const after = fixed.get(p.id)?.call;
    if (scope && (fixScope(before?.cluster) === scope || fixScope(after?.cluster) === scope)) continue;
    const b = probeOutcome(before);
    const a = probeOutcome(after);
    if (a !== b) return `${p.id.replace(/^probe\//, '')}: before the fix "${b}", after "${a}"`;
  }
  return undefined;
}

function judgeFix(
  f: Finding,
  i: number,
  response: OracleResponse,
  probes: OracleQuery[],
  base: Map<string, QueryResult>,
  baseEffect: boolean,
): Pick<Verdict, 'fix' | 'fixEvidence'> {
  if (!fixChangesSomething(f)) return { fix: 'none' };
  const fixed = resultsOf(response, `fix${i}`);
  if (fixed.error)
    return { fix: 'fix-breaks', fixEvidence: `Istio's generator could not take the fixed input: ${fixed.error}` };
  const claim = isEnvoyClaim(f);
  if (claim && baseEffect) {
    // After the fix, the finding's own effect: a port another entry still captures is that entry's finding.
    const own: EnvoyClaim = claim.kind === 'catch-all' ? { ...claim, alternatives: [] } : claim;
    const after: Judgement = judgeClaim(own, fixed.map, `f${i}`);
    if (after.effect)
      return { fix: 'fix-breaks', fixEvidence: `the claimed effect remains after the fix: ${after.evidence}` };
  }
  const scope = claim ? claimCluster(claim) : f.claim?.kind === 'inexpressible' ? (f.claim.cluster ?? '') : '';
  const broken = brokenProbe(probes, base, fixed.map, scope);
  return broken ? { fix: 'fix-breaks', fixEvidence: broken } : { fix: 'ok' };
}

/** Reads the oracle's response into one verdict per finding. */
export function readVerdicts(input: VerifyInput, probes: OracleQuery[], response: OracleResponse): Verdict[] {
  const base = resultsOf(response, 'base');
  return input.findings.map((f, i): Verdict => {
    const head = { rule: f.rule, severity: f.severity, resource: f.resource, message: f.message };
    if (base.error)
      return {
        ...head,
        verdict: 'inexpressible',
        evidence: `Istio's generator could not take the input: ${base.error}`,
        fix: 'none',
      };
    const claim = f.claim;
    if (!claim)
      return {
        ...head,
        verdict: 'inexpressible',
        evidence: 'the finding makes no claim about Envoy configuration',
        ...judgeFix(f, i, response, probes, base.map, false),
      };
    if (claim.kind === 'inexpressible')
      return {
        ...head,
        verdict: 'inexpressible',
        evidence: claim.reason,
        ...judgeFix(f, i, response, probes, base.map, false),
      };
    const j = judgeClaim(claim, base.map, `f${i}`);
    if (j.inconclusive) {
      return {
        ...head,
        verdict: 'inexpressible',
        evidence: `the simulated call did not reach the route the claim is about: ${j.evidence}`,
        ...judgeFix(f, i, response, probes, base.map, false),
      };
    }
    return {
      ...head,
      verdict: j.effect ? 'confirmed' : 'refuted',
      evidence: j.evidence,
      ...judgeFix(f, i, response, probes, base.map, j.effect),
    };
  });
}

export async function verify(input: VerifyInput, oracle: OracleRunner): Promise<VerifyReport> {
  const flags = flagsFor(input.istioVersion);
  const { request, probes } = buildRequest(input);
  const response = await oracle(request, flags);
  const v = input.istioVersion;
  const flagText = Object.entries(flags)
    .map(([k, val]) => `${k}=${val}`)
    .join(' ');
  return {
    istio: response.istio,
    judgedAs: `Istio ${v.major}.${v.minor}${flagText ? ` (emulated with ${flagText})` : ''}`,
    verdicts: readVerdicts(input, probes, response),
    rejected: response.cases.find((c) => c.id === 'base')?.rejected ?? [],
  };
}
