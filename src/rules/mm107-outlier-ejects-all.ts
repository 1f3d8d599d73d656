import { fill } from '../catalogue/message-type.js';
import { MM107, MM107_FIX } from '../catalogue/rules/mm107.js';
import { report, type Report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { isWildcard } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject, OutlierDetection, TrafficPolicy } from '../model/types.js';
import { outboundCluster, type FindingClaim, type OutlierExpectation } from './claims.js';
import { atLeast, type Finding, type PatchOperation, type Rule, type RuleContext } from './types.js';

interface OutlierLevel {
  path: (string | number)[];
  label: string;
  od: OutlierDetection;
  subset?: string;
  /** The port of a portLevelSettings entry; undefined for a whole trafficPolicy. */
  port?: number;
  excludedPorts: number[];
}

function outlierLevels(dr: DestinationRule): OutlierLevel[] {
  const out: OutlierLevel[] = [];
  const visit = (
    tp: TrafficPolicy | undefined,
    base: (string | number)[],
    prefix: string,
    subset: string | undefined,
  ): void => {
    // A matching portLevelSettings entry replaces outlierDetection as a block: those ports are not the top level's.
    const excludedPorts = (tp?.portLevelSettings ?? [])
      .map((p) => p.port?.number)
      .filter((n): n is number => n !== undefined);
    const sub = subset !== undefined ? { subset } : {};
    if (tp?.outlierDetection)
      out.push({
        path: [...base, 'outlierDetection'],
        label: `${prefix}trafficPolicy.outlierDetection`,
        od: tp.outlierDetection,
        excludedPorts,
        ...sub,
      });
    (tp?.portLevelSettings ?? []).forEach((p, i) => {
      if (p.outlierDetection) {
        out.push({
          path: [...base, 'portLevelSettings', i, 'outlierDetection'],
          label: `${prefix}portLevelSettings[port ${p.port?.number ?? '?'}].outlierDetection`,
          od: p.outlierDetection,
          excludedPorts: [],
          ...(p.port?.number !== undefined ? { port: p.port.number } : {}),
          ...sub,
        });
      }
    });
  };
  visit(dr.spec?.trafficPolicy, ['spec', 'trafficPolicy'], '', undefined);
  (dr.spec?.subsets ?? []).forEach((s, j) =>
    visit(s.trafficPolicy, ['spec', 'subsets', j, 'trafficPolicy'], `subset ${s.name} `, s.name),
  );
  return out;
}

/** The cluster the level configures, from a sidecar in the DestinationRule's namespace. */
function outlierClaim(
  dr: DestinationRule,
  level: OutlierLevel,
  expect: OutlierExpectation,
  ctx: RuleContext,
): FindingClaim {
  const host = ctx.index.drHost(dr);
  if (isWildcard(host))
    return {
      kind: 'inexpressible',
      reason: `the DestinationRule's host ${host} is a wildcard: no one cluster stands for it`,
    };
  const ports =
    ctx.index.serviceForHost(host)?.spec?.ports?.map((p) => p.port) ??
    ctx.index.entriesForHost(host)[0]?.spec?.ports?.map((p) => p.number) ??
    [];
  const port = level.port ?? ports.find((p) => !level.excludedPorts.includes(p));
  if (port === undefined)
    return {
      kind: 'inexpressible',
      reason: `no Service or ServiceEntry declares ${host}: Envoy has no cluster for it`,
    };
  return {
    kind: 'outlier',
    client: { type: 'sidecar', namespace: dr.metadata.namespace ?? 'default' },
    cluster: outboundCluster(host, port, level.subset),
    expect,
  };
}

/** One error per endpoint ejects it: a threshold of 1 (0 disables the detector). */
function ejectsOnFirst(n: number | undefined): boolean {
  return n !== undefined && n > 0 && n <= 1;
}

/** The lowest enabled threshold among consecutive5xxErrors and consecutiveGatewayErrors. */
function modernThreshold(od: OutlierDetection): number | undefined {
  const active = [od.consecutive5xxErrors, od.consecutiveGatewayErrors].filter(
    (n): n is number => typeof n === 'number' && n > 0,
  );
  return active.length > 0 ? Math.min(...active) : undefined;
}

interface Judged {
  dr: DestinationRule;
  level: OutlierLevel;
  /** Before Istio 1.7 consecutiveErrors reaches Envoy (as consecutive_gateway_failure). */
  honoured: boolean;
  ctx: RuleContext;
}

/**
 * maxEjectionPercent 100 with a threshold of one error ejects every endpoint (503 UH). Before Istio 1.7
 * consecutiveErrors is that threshold for gateway errors (v1alpha3/cluster.go applyOutlierDetection);
 * from 1.7 on it is ignored (cluster_traffic_policy.go) and reported as such.
 */
export const mm107: Rule = {
  ...MM107,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    const honoured = !atLeast(ctx.istioVersion, 1, 7);
    return outlierLevels(dr).flatMap((level) => judgeLevel({ dr, level, honoured, ctx }));
  },
};

function judgeLevel(j: Judged): Finding[] {
  const od = j.level.od;
  const all = (od.maxEjectionPercent ?? 0) >= 100;
  const threshold = modernThreshold(od);
  if (all && threshold !== undefined && ejectsOnFirst(threshold)) return [ejectsAll(j, threshold)];
  // Istio maps consecutiveErrors only when > 0; 0 is the same as unset in every version.
  const legacy = od.consecutiveErrors ?? 0;
  if (j.honoured)
    return all && od.consecutiveGatewayErrors === undefined && ejectsOnFirst(legacy)
      ? [ejectsAllBefore17(j, legacy)]
      : [];
  return legacy !== 0 ? [ignored(j)] : [];
}

/** From 1.7 on, the ignored consecutiveErrors is renamed (or dropped when consecutive5xxErrors is set). */
function renamePatch(j: Judged): PatchOperation[] {
  const od = j.level.od;
  if (j.honoured || !od.consecutiveErrors) return [];
  const base = pointer(...j.level.path);
  return od.consecutive5xxErrors === undefined
    ? [{ op: 'move', from: `${base}/consecutiveErrors`, path: `${base}/consecutive5xxErrors` }]
    : [{ op: 'remove', path: `${base}/consecutiveErrors` }];
}

/** Lowers maxEjectionPercent to the policy's bound; nothing when that would not lower it. */
function boundPatch(j: Judged): PatchOperation[] {
  const od = j.level.od;
  if (j.ctx.params.maxEjectionPercent >= (od.maxEjectionPercent ?? 0)) return [];
  const path = `${pointer(...j.level.path)}/maxEjectionPercent`;
  return [
    { op: 'test', path, value: od.maxEjectionPercent },
    { op: 'replace', path, value: j.ctx.params.maxEjectionPercent },
  ];
}

function reportArgs(j: Judged, patch: PatchOperation[], claim: FindingClaim, versionNote: string | undefined): Report {
  return {
    resource: refOf(j.dr),
    ...(versionNote !== undefined ? { versionNote } : {}),
    fix: { patches: patch.length > 0 ? [{ target: refOf(j.dr), patch }] : [], create: [] },
    claim,
  };
}

/** The fix as said in the message: the rename (or removal) of consecutiveErrors, then the bound. */
function fixText(j: Judged, rename: PatchOperation[], lowers: boolean): string {
  const bound = j.ctx.params.maxEjectionPercent;
  const renamed = rename.length === 0 ? [] : [rename[0]?.op === 'move' ? MM107_FIX.rename : MM107_FIX.drop];
  return [...renamed, fill(lowers ? MM107_FIX.bound : MM107_FIX.noLowerBound, { bound })].join(', ');
}

function versionNoteOf(j: Judged): string {
  return j.honoured
    ? `Istio ${j.ctx.istioVersion.major}.${j.ctx.istioVersion.minor} gives consecutiveErrors to Envoy as consecutive_gateway_failure (ignored since 1.7)`
    : 'consecutiveErrors is ignored since Istio 1.7';
}

function common(j: Judged): { dr: string; level: string; max: number; baseEjectionTime: string } {
  return {
    dr: describeRef(refOf(j.dr)),
    level: j.level.label,
    max: j.level.od.maxEjectionPercent ?? 0,
    baseEjectionTime: j.level.od.baseEjectionTime ?? '30s',
  };
}

function ejectsAll(j: Judged, threshold: number): Finding {
  const rename = renamePatch(j);
  const bound = boundPatch(j);
  const claim = outlierClaim(j.dr, j.level, { ejectsAll: true }, j.ctx);
  const note = j.level.od.consecutiveErrors ? versionNoteOf(j) : undefined;
  return report(
    MM107.messages.EjectsAllEndpoints,
    { ...common(j), threshold, fix: fixText(j, rename, bound.length > 0) },
    reportArgs(j, [...rename, ...bound], claim, note),
  );
}

function ejectsAllBefore17(j: Judged, threshold: number): Finding {
  const bound = boundPatch(j);
  const v = j.ctx.istioVersion;
  const claim: FindingClaim = {
    kind: 'inexpressible',
    reason: `Istio ${v.major}.${v.minor} gives consecutiveErrors to Envoy; the oracle's Istio ignores it (since 1.7)`,
  };
  const args = { ...common(j), threshold, version: `${v.major}.${v.minor}`, fix: fixText(j, [], bound.length > 0) };
  return report(MM107.messages.EjectsAllBeforeIstio17, args, reportArgs(j, bound, claim, versionNoteOf(j)));
}

function ignored(j: Judged): Finding {
  const od = j.level.od;
  const value = od.consecutiveErrors ?? 0;
  const args = { dr: describeRef(refOf(j.dr)), level: j.level.label, value };
  const r = (patch: PatchOperation[], claim: FindingClaim): Report => reportArgs(j, patch, claim, versionNoteOf(j));
  if (od.consecutive5xxErrors !== undefined) {
    const claim: FindingClaim = {
      kind: 'inexpressible',
      reason: 'consecutive5xxErrors sets consecutive_5xx: Envoy cannot show that consecutiveErrors did not',
    };
    return report(
      MM107.messages.IgnoredBesideConsecutive5xxErrors,
      { ...args, c5xx: od.consecutive5xxErrors },
      r(renamePatch(j), claim),
    );
  }
  const claim = outlierClaim(j.dr, j.level, { ignoredConsecutiveErrors: value }, j.ctx);
  // Renamed as the deprecation asks, consecutiveErrors 1 with maxEjectionPercent 100 would eject every endpoint.
  if ((od.maxEjectionPercent ?? 0) >= 100 && ejectsOnFirst(value)) {
    return report(
      MM107.messages.EjectsAllOnceRenamed,
      { ...args, max: od.maxEjectionPercent ?? 0, bound: j.ctx.params.maxEjectionPercent },
      r([...renamePatch(j), ...boundPatch(j)], claim),
    );
  }
  return report(MM107.messages.IgnoredConsecutiveErrors, args, r(renamePatch(j), claim));
}
