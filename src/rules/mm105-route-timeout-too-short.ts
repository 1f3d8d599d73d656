import { pointer } from '../fix/json-pointer.js';
import { formatDurationMs, parseDurationMs } from '../model/durations.js';
import { resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject, VirtualService } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { httpRouteCall } from './route-call.js';
import type { Finding, PatchOperation, Rule, RuleContext } from './types.js';

function timeoutClaim(vs: VirtualService, i: number, timeoutMs: number | undefined, perTryTimeoutMs: number | undefined, ctx: RuleContext): FindingClaim {
  const rc = httpRouteCall(vs, i, ctx);
  if (!rc) return { kind: 'inexpressible', reason: `no call can be picked that takes http[${i}] without guessing (wildcard host, regex match or a TLS gateway server)` };
  return { kind: 'route-timeout', client: rc.client, call: rc.call, ...(timeoutMs !== undefined ? { timeoutMs } : {}), ...(perTryTimeoutMs !== undefined ? { perTryTimeoutMs } : {}) };
}

/** Static form of MM105: an http route timeout (or perTryTimeout) below the policy minimum answers 504 UT. */
export const mm105: Rule = {
  id: 'MM105',
  name: 'route-timeout-too-short',
  summary: 'A route timeout or perTryTimeout below the policy minimum: slower responses end in 504 UT.',
  subjects: ['VirtualService'],
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const min = ctx.params.minRouteTimeoutMs;
    const minText = formatDurationMs(min);
    const findings: Finding[] = [];
    (vs.spec?.http ?? []).forEach((route, i) => {
      // A route whose every destination no Service or entry declares answers 503 NC (MM104, MM201), never 504.
      const hosts = (route.route ?? []).map((rd) => resolveHost(rd.destination.host, vs.metadata.namespace, ctx.index.domain));
      if (hosts.length > 0 && hosts.every((h) => !ctx.index.serviceForHost(h) && ctx.index.entriesForHost(h).length === 0)) return;
      const short: { field: string; value: string; path: string }[] = [];
      const t = route.timeout !== undefined ? parseDurationMs(route.timeout) : undefined;
      // "0s" disables the timeout: not too short.
      if (t !== undefined && t > 0 && t < min) short.push({ field: 'timeout', value: route.timeout as string, path: pointer('spec', 'http', i, 'timeout') });
      const pt = route.retries?.perTryTimeout !== undefined ? parseDurationMs(route.retries.perTryTimeout) : undefined;
      if (pt !== undefined && pt > 0 && pt < min) {
        short.push({ field: 'retries.perTryTimeout', value: route.retries?.perTryTimeout as string, path: pointer('spec', 'http', i, 'retries', 'perTryTimeout') });
      }
      if (short.length === 0) return;
      const name = route.name ? `route ${route.name}` : `http[${i}]`;
      const patch: PatchOperation[] = short.flatMap((s) => [
        { op: 'test' as const, path: s.path, value: s.value },
        { op: 'replace' as const, path: s.path, value: minText },
      ]);
      findings.push({
        rule: 'MM105',
        severity: 'warning',
        resource: refOf(vs),
        related: [],
        symptom: '504 UT',
        message: `504 UT: ${describeRef(refOf(vs))} ${name} sets ${short.map((s) => `${s.field} ${s.value}`).join(' and ')}, below the minimum ${minText}: responses slower than that are cut with 504 UT (duration = the timeout). Fix: ${minText}.`,
        fix: { patches: [{ target: refOf(vs), patch }], create: [] },
        claim: timeoutClaim(vs, i, t !== undefined && t > 0 && t < min ? t : undefined, pt !== undefined && pt > 0 && pt < min ? pt : undefined, ctx),
      });
    });
    return findings;
  },
};
