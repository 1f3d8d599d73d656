import type { Operation } from 'fast-json-patch';
import type { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, ObjectRef, SourceLocation } from '../model/types.js';
import { PARAMETERS } from '../catalogue/parameters.js';
import type { RuleEntry } from '../catalogue/rule-entry.js';
import { parseDurationMs } from '../model/durations.js';
import type { FindingClaim } from './claims.js';

export type Severity = 'error' | 'warning' | 'info';

export const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

export type PatchOperation = Operation;

export interface ResourcePatch {
  target: ObjectRef;
  /** RFC 6902 operations; `test` operations guard the value that was judged. */
  patch: PatchOperation[];
}

export interface Fix {
  patches: ResourcePatch[];
  create: KubeObject[];
  /** The fix is only ever proposed, never applied automatically (e.g. MM106). */
  proposeOnly?: boolean;
  /** What the fix could not do, said plainly. */
  notes?: string[];
}

/** What the proxies saw (access logs) behind a finding: set by `meshmedic explain`, absent for manifest-only findings. */
export interface FindingEvidence {
  source: 'access-log';
  /** Requests logged with these symptoms. */
  count: number;
  /** e.g. ["503 UF"], ["504 UT"]. */
  symptoms: string[];
  firstSeen?: string;
  lastSeen?: string;
  /** One log line as written (a multi-line JSON record compacted to one line). */
  sampleLine: string;
  /** The upstream clusters / group targets the requests went to. */
  targets: string[];
  authorities?: string[];
  /** Duration percentiles (ms) over these requests. */
  durationMs?: { min: number; p50: number; p90: number; p99: number; max: number };
}

export interface Finding {
  rule: string;
  /** The catalogued message type (src/catalogue), unique within the rule: tests and tooling key on it. */
  messageType: string;
  severity: Severity;
  resource: ObjectRef;
  /** The other resources the verdict depends on. */
  related: ObjectRef[];
  message: string;
  /** The Envoy symptom users see, e.g. "503 UC". */
  symptom: string;
  fix: Fix;
  /** Set when the verdict depends on the Istio version. */
  versionNote?: string;
  /**
   * The client data plane the verdict assumed (set by analyze from the subject's namespace and the rule):
   * "sidecar", "gateway", "ambient (ztunnel, no waypoint)", "ambient (waypoint ns/name)", "no proxy".
   */
  dataPlane?: string;
  source?: SourceLocation;
  /** Access-log evidence (meshmedic explain). */
  evidence?: FindingEvidence;
  /** What the finding claims Envoy receives, for `meshmedic verify` (absent: no Envoy-level claim). */
  claim?: FindingClaim;
}

export interface RuleParameters {
  /** MM105: route timeouts below this are flagged (ms); unset: the threshold form is off. */
  minRouteTimeoutMs?: number;
  /** MM105/MM104: timeout set on generated or fixed routes (ms). */
  defaultRouteTimeoutMs: number;
  /** MM106: the applications' keep-alive idle timeout (ms); the static form of MM106 runs only when set. */
  keepAliveIdleTimeoutMs?: number;
  /** MM107: the bound put on maxEjectionPercent. */
  maxEjectionPercent: number;
}

const durationDefault = (text: string): number => {
  const ms = parseDurationMs(text);
  if (ms === undefined) throw new Error(`catalogue: bad default duration ${text}`);
  return ms;
};

/** The catalogue's defaults (src/catalogue/parameters.ts). */
export const DEFAULT_PARAMETERS: RuleParameters = {
  defaultRouteTimeoutMs: durationDefault(PARAMETERS.defaultRouteTimeout.default),
  maxEjectionPercent: PARAMETERS.maxEjectionPercent.default,
};

export interface IstioVersion {
  major: number;
  minor: number;
}

export interface RuleContext {
  index: MeshIndex;
  params: RuleParameters;
  istioVersion: IstioVersion;
  /**
   * Whether the snapshot is all the mesh has: true for the operator's cache (and `analyze --complete`).
   * Offline manifests are often a part of what is applied, so an object they do not hold is not known
   * to be missing: findings that rest on absence are warnings there, errors only when this is true.
   */
  complete: boolean;
}

/** A catalogue entry (id, name, docs, message types, what it reads) and the check that reports its messages. */
export interface Rule extends RuleEntry {
  check(subject: KubeObject, ctx: RuleContext): Finding[];
}

export function atLeast(v: IstioVersion, major: number, minor: number): boolean {
  return v.major > major || (v.major === major && v.minor >= minor);
}
