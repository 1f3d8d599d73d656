import { pointer } from '../fix/json-pointer.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject, OutlierDetection, TrafficPolicy } from '../model/types.js';
import type { Finding, PatchOperation, Rule, RuleContext } from './types.js';

interface OutlierLevel {
  path: (string | number)[];
  label: string;
  od: OutlierDetection;
}

function outlierLevels(dr: DestinationRule): OutlierLevel[] {
  const out: OutlierLevel[] = [];
  const visit = (tp: TrafficPolicy | undefined, base: (string | number)[], prefix: string): void => {
    if (tp?.outlierDetection) out.push({ path: [...base, 'outlierDetection'], label: `${prefix}trafficPolicy.outlierDetection`, od: tp.outlierDetection });
    (tp?.portLevelSettings ?? []).forEach((p, i) => {
      if (p.outlierDetection) {
        out.push({ path: [...base, 'portLevelSettings', i, 'outlierDetection'], label: `${prefix}portLevelSettings[port ${p.port?.number ?? '?'}].outlierDetection`, od: p.outlierDetection });
      }
    });
  };
  visit(dr.spec?.trafficPolicy, ['spec', 'trafficPolicy'], '');
  (dr.spec?.subsets ?? []).forEach((s, j) => visit(s.trafficPolicy, ['spec', 'subsets', j, 'trafficPolicy'], `subset ${s.name} `));
  return out;
}

export const mm107: Rule = {
  id: 'MM107',
  name: 'outlier-ejects-all',
  summary: 'outlierDetection can eject every endpoint (maxEjectionPercent 100 with consecutive errors <= 1: 503 UH), or uses the ignored consecutiveErrors.',
  subjects: ['DestinationRule'],
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const dr = subject as DestinationRule;
    const findings: Finding[] = [];
    for (const level of outlierLevels(dr)) {
      const od = level.od;
      const deprecated = od.consecutiveErrors !== undefined;
      const active = [od.consecutive5xxErrors, od.consecutiveGatewayErrors].filter((n): n is number => typeof n === 'number' && n > 0);
      const threshold = active.length > 0 ? Math.min(...active) : undefined;
      const all = (od.maxEjectionPercent ?? 0) >= 100;
      const ejectsAllNow = all && threshold !== undefined && threshold <= 1;
      const ejectsAllIfRenamed = all && deprecated && (od.consecutiveErrors as number) <= 1;
      if (!deprecated && !ejectsAllNow) continue;
      const base = pointer(...level.path);
      const patch: PatchOperation[] = [];
      if (deprecated) {
        if (od.consecutive5xxErrors === undefined) patch.push({ op: 'move', from: `${base}/consecutiveErrors`, path: `${base}/consecutive5xxErrors` });
        else patch.push({ op: 'remove', path: `${base}/consecutiveErrors` });
      }
      if (ejectsAllNow || ejectsAllIfRenamed) {
        patch.push({ op: 'test', path: `${base}/maxEjectionPercent`, value: od.maxEjectionPercent });
        patch.push({ op: 'replace', path: `${base}/maxEjectionPercent`, value: ctx.params.maxEjectionPercent });
      }
      const parts: string[] = [];
      if (ejectsAllNow) parts.push(`maxEjectionPercent ${od.maxEjectionPercent} with ${threshold} consecutive error${threshold === 1 ? '' : 's'} ejects every endpoint after one failure each: 503 UH (no healthy upstream) for baseEjectionTime ${od.baseEjectionTime ?? '30s'}`);
      if (deprecated) {
        parts.push(`consecutiveErrors ${od.consecutiveErrors} has been ignored since Istio 1.7 (the default of 5 applies)${ejectsAllIfRenamed ? `; once it is renamed to consecutive5xxErrors, maxEjectionPercent ${od.maxEjectionPercent} would eject every endpoint` : ''}`);
      }
      findings.push({
        rule: 'MM107',
        severity: ejectsAllNow ? 'error' : 'warning',
        resource: refOf(dr),
        related: [],
        symptom: ejectsAllNow ? '503 UH' : '503 UH (latent)',
        message: `${ejectsAllNow ? '503 UH' : '503 UH (latent)'}: ${describeRef(refOf(dr))} ${level.label}: ${parts.join('; ')}. Fix: ${[deprecated ? 'rename to consecutive5xxErrors' : '', ejectsAllNow || ejectsAllIfRenamed ? `maxEjectionPercent ${ctx.params.maxEjectionPercent}` : ''].filter(Boolean).join(', ')}.`,
        ...(deprecated ? { versionNote: 'consecutiveErrors is ignored since Istio 1.7' } : {}),
        fix: { patches: [{ target: refOf(dr), patch }], create: [] },
      });
    }
    return findings;
  },
};
