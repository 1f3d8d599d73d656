import { fill } from '../catalogue/message-type.js';
import { MM107, MM107_NO_LOWER_BOUND } from '../catalogue/rules/mm107.js';
import { report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { isWildcard } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject, OutlierDetection, TrafficPolicy } from '../model/types.js';
import { outboundCluster, type FindingClaim, type OutlierExpectation } from './claims.js';
import type { Finding, PatchOperation, Rule, RuleContext } from './types.js';

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
  const visit = (tp: TrafficPolicy | undefined, base: (string | number)[], prefix: string, subset: string | undefined): void => {
    // A matching portLevelSettings entry replaces outlierDetection as a block: those ports are not the top level's.
    const excludedPorts = (tp?.portLevelSettings ?? []).map((p) => p.port?.number).filter((n): n is number => n !== undefined);
    const sub = subset !== undefined ? { subset } : {};
    if (tp?.outlierDetection) out.push({ path: [...base, 'outlierDetection'], label: `${prefix}trafficPolicy.outlierDetection`, od: tp.outlierDetection, excludedPorts, ...sub });
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
  (dr.spec?.subsets ?? []).forEach((s, j) => visit(s.trafficPolicy, ['spec', 'subsets', j, 'trafficPolicy'], `subset ${s.name} `, s.name));
  return out;
}

/** The cluster the level configures, from a sidecar in the DestinationRule's namespace. */
function outlierClaim(dr: DestinationRule, level: OutlierLevel, expect: OutlierExpectation, ctx: RuleContext): FindingClaim {
  const host = ctx.index.drHost(dr);
  if (isWildcard(host)) return { kind: 'inexpressible', reason: `the DestinationRule's host ${host} is a wildcard: no one cluster stands for it` };
  const ports = ctx.index.serviceForHost(host)?.spec?.ports?.map((p) => p.port) ?? ctx.index.entriesForHost(host)[0]?.spec?.ports?.map((p) => p.number) ?? [];
  const port = level.port ?? ports.find((p) => !level.excludedPorts.includes(p));
  if (port === undefined) return { kind: 'inexpressible', reason: `no Service or ServiceEntry declares ${host}: Envoy has no cluster for it` };
  return { kind: 'outlier', client: { type: 'sidecar', namespace: dr.metadata.namespace ?? 'default' }, cluster: outboundCluster(host, port, level.subset), expect };
}

export const mm107: Rule = {
  ...MM107,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    const findings: Finding[] = [];
    for (const level of outlierLevels(dr)) {
      const od = level.od;
      const deprecated = od.consecutiveErrors !== undefined;
      const active = [od.consecutive5xxErrors, od.consecutiveGatewayErrors].filter((n): n is number => typeof n === 'number' && n > 0);
      const threshold = active.length > 0 ? Math.min(...active) : undefined;
      const all = (od.maxEjectionPercent ?? 0) >= 100;
      // A bound that would not lower maxEjectionPercent changes nothing: it is never proposed.
      const lowers = ctx.params.maxEjectionPercent < (od.maxEjectionPercent ?? 0);
      const ejectsAllNow = all && threshold !== undefined && threshold <= 1;
      const ejectsAllIfRenamed = all && deprecated && (od.consecutiveErrors as number) <= 1;
      if (!deprecated && !ejectsAllNow) continue;
      const base = pointer(...level.path);
      const patch: PatchOperation[] = [];
      if (deprecated) {
        if (od.consecutive5xxErrors === undefined) patch.push({ op: 'move', from: `${base}/consecutiveErrors`, path: `${base}/consecutive5xxErrors` });
        else patch.push({ op: 'remove', path: `${base}/consecutiveErrors` });
      }
      if ((ejectsAllNow || ejectsAllIfRenamed) && lowers) {
        patch.push({ op: 'test', path: `${base}/maxEjectionPercent`, value: od.maxEjectionPercent });
        patch.push({ op: 'replace', path: `${base}/maxEjectionPercent`, value: ctx.params.maxEjectionPercent });
      }
      const bound = ctx.params.maxEjectionPercent;
      const common = { dr: describeRef(refOf(dr)), level: level.label };
      const r = {
        resource: refOf(dr),
        ...(deprecated ? { versionNote: 'consecutiveErrors is ignored since Istio 1.7' } : {}),
        fix: { patches: patch.length > 0 ? [{ target: refOf(dr), patch }] : [], create: [] },
        claim: outlierClaim(dr, level, ejectsAllNow ? { ejectsAll: true } : { ignoredConsecutiveErrors: od.consecutiveErrors as number }, ctx),
      };
      if (ejectsAllNow) {
        const fix = lowers ? [deprecated ? 'rename to consecutive5xxErrors' : '', `maxEjectionPercent ${bound}`].filter(Boolean).join(', ') : fill(MM107_NO_LOWER_BOUND, { bound });
        findings.push(report(MM107.messages.EjectsAllEndpoints, { ...common, max: od.maxEjectionPercent ?? 0, threshold: threshold ?? 0, baseEjectionTime: od.baseEjectionTime ?? '30s', fix }, r));
      } else if (ejectsAllIfRenamed) {
        findings.push(report(MM107.messages.EjectsAllOnceRenamed, { ...common, value: od.consecutiveErrors ?? 0, max: od.maxEjectionPercent ?? 0, bound }, r));
      } else {
        findings.push(report(MM107.messages.IgnoredConsecutiveErrors, { ...common, value: od.consecutiveErrors ?? 0 }, r));
      }
    }
    return findings;
  },
};
