import { ISTIO_DEFAULT_RETRY_ON, MM105 } from '../catalogue/rules/mm105.js';
import { noFix, report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { formatDurationMs, parseDurationMs } from '../model/durations.js';
import { resolveHost } from '../model/hosts.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { HttpRoute, KubeObject, VirtualService } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { httpRouteCall } from './route-call.js';
import type { Finding, Fix, PatchOperation, Rule, RuleContext } from './types.js';

function timeoutClaim(
  vs: VirtualService,
  i: number,
  timeoutMs: number | undefined,
  perTryTimeoutMs: number | undefined,
  ctx: RuleContext,
): FindingClaim {
  const rc = httpRouteCall(vs, i, ctx);
  if (!rc)
    return {
      kind: 'inexpressible',
      reason: `no call can be picked that takes http[${i}] without guessing (wildcard host, regex match or a TLS gateway server)`,
    };
  return {
    kind: 'route-timeout',
    client: rc.client,
    call: rc.call,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(perTryTimeoutMs !== undefined ? { perTryTimeoutMs } : {}),
  };
}

/** Istio's retries when a route sets none (retry.go DefaultPolicy). */
const DEFAULT_ATTEMPTS = 2;

/** The retry policy Envoy receives for a route (retry.go ConvertPolicy); undefined when `retries` disables it. */
interface RetryPolicy {
  attempts: number;
  retryOn: string;
  /** Set only when the route sets one and the policy is not disabled. */
  perTryMs?: number;
}

function retryPolicyOf(route: HttpRoute): RetryPolicy | undefined {
  const r = route.retries;
  if (!r) return { attempts: DEFAULT_ATTEMPTS, retryOn: ISTIO_DEFAULT_RETRY_ON };
  // attempts 0 (or unset) is no retry policy at all: neither retries nor perTryTimeout reach Envoy.
  if ((r.attempts ?? 0) <= 0) return undefined;
  const perTryMs = positiveMs(r.perTryTimeout);
  return {
    attempts: r.attempts ?? 0,
    retryOn: r.retryOn ? r.retryOn : ISTIO_DEFAULT_RETRY_ON,
    ...(perTryMs !== undefined ? { perTryMs } : {}),
  };
}

/** Envoy retries a per-try timeout (a local reset) only on these (retry_state_impl.cc wouldRetryFromReset). */
const RETRIES_TIMEOUTS = new Set(['5xx', 'gateway-error', 'reset']);

function retriesTimedOutTries(retryOn: string): boolean {
  return retryOn.split(',').some((p) => RETRIES_TIMEOUTS.has(p.trim()));
}

interface RouteView {
  vs: VirtualService;
  i: number;
  route: HttpRoute;
  /** "route NAME" or "http[i]". */
  label: string;
  timeoutMs?: number;
  policy?: RetryPolicy;
}

/**
 * Static form of MM105. A perTryTimeout Envoy never retries (retryOn without 5xx, gateway-error or reset):
 * a slow try ends the request. A perTryTimeout at or above the route timeout: it never fires. With a policy
 * minimum (minRouteTimeout, off by default): a route timeout below it, or, on a route without timeout, a
 * perTryTimeout below it. A perTryTimeout inside the route timeout and retried on timeouts is a retry budget.
 */
export const mm105: Rule = {
  ...MM105,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const vs = subject as VirtualService;
    return (vs.spec?.http ?? []).flatMap((route, i) => {
      // A route whose every destination no Service or entry declares answers 503 NC (MM104, MM201), never 504.
      const hosts = (route.route ?? []).map((rd) =>
        resolveHost(rd.destination.host, vs.metadata.namespace, ctx.index.domain),
      );
      if (
        hosts.length > 0 &&
        hosts.every((h) => !ctx.index.serviceForHost(h) && ctx.index.entriesForHost(h).length === 0)
      )
        return [];
      const timeoutMs = positiveMs(route.timeout);
      const policy = retryPolicyOf(route);
      const view: RouteView = {
        vs,
        i,
        route,
        label: route.name ? `route ${route.name}` : `http[${i}]`,
        ...(timeoutMs !== undefined ? { timeoutMs } : {}),
        ...(policy ? { policy } : {}),
      };
      return [...perTryFindings(view, ctx), ...belowMinimum(view, ctx)];
    });
  },
};

function perTryFindings(v: RouteView, ctx: RuleContext): Finding[] {
  const pt = v.policy?.perTryMs;
  if (!v.policy || pt === undefined) return [];
  const base = {
    vs: describeRef(refOf(v.vs)),
    route: v.label,
    perTry: v.route.retries?.perTryTimeout ?? '',
    attempts: v.policy.attempts,
  };
  const claim = timeoutClaim(v.vs, v.i, v.timeoutMs, pt, ctx);
  if (v.timeoutMs !== undefined && pt >= v.timeoutMs) {
    const fix = noFix('no automatic fix: lower perTryTimeout below the route timeout, or remove it');
    return [
      report(
        MM105.messages.PerTryTimeoutNotBelowTimeout,
        { ...base, timeout: v.route.timeout ?? '' },
        { resource: refOf(v.vs), fix, claim },
      ),
    ];
  }
  if (retriesTimedOutTries(v.policy.retryOn)) return [];
  const proposed = `${v.policy.retryOn},reset`;
  // The claim checks timeouts as Envoy receives them, not retry_on: the fix (retryOn) is beyond what it can judge.
  const retryClaim: FindingClaim = {
    kind: 'inexpressible',
    reason:
      "whether a timed-out try is retried depends on the route's retry_on, which the timeout claim does not check yet",
  };
  return [
    report(
      MM105.messages.TimedOutTryNotRetried,
      { ...base, retryOn: v.policy.retryOn, proposed },
      { resource: refOf(v.vs), fix: retryOnResetFix(v, proposed), claim: retryClaim },
    ),
  ];
}

/** Adds reset to the route's retryOn: proposed only, since a retried try sends the request again. */
function retryOnResetFix(v: RouteView, proposed: string): Fix {
  const path = pointer('spec', 'http', v.i, 'retries', 'retryOn');
  const current = v.route.retries?.retryOn;
  const patch: PatchOperation[] = current
    ? [
        { op: 'test', path, value: current },
        { op: 'replace', path, value: proposed },
      ]
    : [{ op: 'add', path, value: proposed }];
  return {
    patches: [{ target: refOf(v.vs), patch }],
    create: [],
    proposeOnly: true,
    notes: [
      'a retried try sends the request again (non-idempotent requests too); or remove perTryTimeout so each try has the whole route timeout',
    ],
  };
}

interface ShortField {
  field: string;
  value: string;
  path: string;
}

/** The threshold form: only when a policy sets minRouteTimeout. Never raises a perTryTimeout on a route with a timeout. */
function belowMinimum(v: RouteView, ctx: RuleContext): Finding[] {
  const min = ctx.params.minRouteTimeoutMs;
  if (min === undefined) return [];
  const t = v.timeoutMs;
  const pt = v.policy?.perTryMs;
  const short: ShortField[] = [];
  if (t !== undefined && t < min)
    short.push({ field: 'timeout', value: v.route.timeout ?? '', path: pointer('spec', 'http', v.i, 'timeout') });
  // Inside a route timeout, a short perTryTimeout is a deliberate retry budget.
  if (t === undefined && pt !== undefined && pt < min) {
    short.push({
      field: 'retries.perTryTimeout',
      value: v.route.retries?.perTryTimeout ?? '',
      path: pointer('spec', 'http', v.i, 'retries', 'perTryTimeout'),
    });
  }
  if (short.length === 0) return [];
  const minText = formatDurationMs(min);
  const patch: PatchOperation[] = short.flatMap((s) => [
    { op: 'test' as const, path: s.path, value: s.value },
    { op: 'replace' as const, path: s.path, value: minText },
  ]);
  const args = {
    vs: describeRef(refOf(v.vs)),
    route: v.label,
    fields: short.map((s) => `${s.field} ${s.value}`).join(' and '),
    minimum: minText,
  };
  const claim = timeoutClaim(
    v.vs,
    v.i,
    t !== undefined && t < min ? t : undefined,
    t === undefined ? pt : undefined,
    ctx,
  );
  return [
    report(MM105.messages.TimeoutBelowMinimum, args, {
      resource: refOf(v.vs),
      fix: { patches: [{ target: refOf(v.vs), patch }], create: [] },
      claim,
    }),
  ];
}

/** A duration in ms, undefined when unset or 0s (disabled). */
function positiveMs(text: string | undefined): number | undefined {
  const ms = text !== undefined ? parseDurationMs(text) : undefined;
  return ms !== undefined && ms > 0 ? ms : undefined;
}
