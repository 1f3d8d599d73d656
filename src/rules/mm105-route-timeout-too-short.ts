import { MM105 } from '../catalogue/rules/mm105.js';
import { noFix, report } from './report.js';
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

const DEFAULT_ATTEMPTS = 2;

interface ShortField {
  field: string;
  value: string;
  path: string;
}

/**
 * Static form of MM105. With a policy minimum (minRouteTimeout): a route timeout below it, or, on a
 * route without timeout, a perTryTimeout below it. A perTryTimeout inside the route timeout is a retry
 * budget, not a fault. Always: a perTryTimeout at or above the route timeout leaves no room for a retry.
 */
export const mm105: Rule = {
  ...MM105,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    const min = ctx.params.minRouteTimeoutMs;
    const findings: Finding[] = [];
    (vs.spec?.http ?? []).forEach((route, i) => {
      // A route whose every destination no Service or entry declares answers 503 NC (MM104, MM201), never 504.
      const hosts = (route.route ?? []).map((rd) => resolveHost(rd.destination.host, vs.metadata.namespace, ctx.index.domain));
      if (hosts.length > 0 && hosts.every((h) => !ctx.index.serviceForHost(h) && ctx.index.entriesForHost(h).length === 0)) return;
      const name = route.name ? `route ${route.name}` : `http[${i}]`;
      const t = positiveMs(route.timeout);
      const pt = positiveMs(route.retries?.perTryTimeout);
      const attempts = route.retries?.attempts ?? DEFAULT_ATTEMPTS;
      if (t !== undefined && pt !== undefined && pt >= t && attempts > 0) {
        const args = { vs: describeRef(refOf(vs)), route: name, perTry: route.retries?.perTryTimeout ?? '', timeout: route.timeout ?? '', attempts };
        findings.push(report(MM105.messages.RetriesNeverRun, args, { resource: refOf(vs), fix: noFix('no automatic fix: lower perTryTimeout below the route timeout, or drop the retries'), claim: timeoutClaim(vs, i, t, pt, ctx) }));
      }
      if (min === undefined) return;
      const short: ShortField[] = [];
      if (t !== undefined && t < min) short.push({ field: 'timeout', value: route.timeout as string, path: pointer('spec', 'http', i, 'timeout') });
      // Inside a route timeout, a short perTryTimeout is a deliberate retry budget.
      if (t === undefined && pt !== undefined && pt < min) {
        short.push({ field: 'retries.perTryTimeout', value: route.retries?.perTryTimeout as string, path: pointer('spec', 'http', i, 'retries', 'perTryTimeout') });
      }
      if (short.length === 0) return;
      const minText = formatDurationMs(min);
      const patch: PatchOperation[] = short.flatMap((s) => [
        { op: 'test' as const, path: s.path, value: s.value },
        { op: 'replace' as const, path: s.path, value: minText },
      ]);
      const args = { vs: describeRef(refOf(vs)), route: name, fields: short.map((s) => `${s.field} ${s.value}`).join(' and '), minimum: minText };
      findings.push(
        report(MM105.messages.TimeoutBelowMinimum, args, {
          resource: refOf(vs),
          fix: { patches: [{ target: refOf(vs), patch }], create: [] },
          claim: timeoutClaim(vs, i, t !== undefined && t < min ? t : undefined, t === undefined && pt !== undefined && pt < min ? pt : undefined, ctx),
        }),
      );
    });
    return findings;
  },
};

/** A duration in ms, undefined when unset or 0s (disabled). */
function positiveMs(text: string | undefined): number | undefined {
  const ms = text !== undefined ? parseDurationMs(text) : undefined;
  return ms !== undefined && ms > 0 ? ms : undefined;
}
