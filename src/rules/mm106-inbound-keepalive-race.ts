import { fill } from '../catalogue/message-type.js';
import { ENVOY_DEFAULT_IDLE } from '../catalogue/access-log.js';
import { MM106, MM106_RETRY_ON_RESET } from '../catalogue/rules/mm106.js';
import { report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { formatDurationMs, parseDurationMs } from '../model/durations.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { DestinationRule, KubeObject, VirtualService } from '../model/types.js';
import { routeDestinations } from '../model/route-destinations.js';
import type { MeshIndex } from '../model/mesh-index.js';
import {
  atLeast,
  type Finding,
  type IstioVersion,
  type PatchOperation,
  type ResourcePatch,
  type Rule,
  type RuleContext,
} from './types.js';

const RETRY_ON = 'reset,connect-failure,refused-stream,unavailable,cancelled';

/** An idle timeout safely below the application's keep-alive. */
export function idleTimeoutBelow(keepAliveMs: number): number {
  return keepAliveMs >= 2000 ? keepAliveMs - 1000 : Math.floor(keepAliveMs / 2);
}

/** RFC 6902 operations that set trafficPolicy.connectionPool.http.idleTimeout of a DestinationRule to `target`. */
export function idleTimeoutPatch(dr: DestinationRule, target: string): PatchOperation[] {
  const tp = dr.spec?.trafficPolicy;
  const current = tp?.connectionPool?.http?.idleTimeout;
  if (!tp)
    return [
      {
        op: 'add',
        path: pointer('spec', 'trafficPolicy'),
        value: { connectionPool: { http: { idleTimeout: target } } },
      },
    ];
  if (!tp.connectionPool)
    return [
      { op: 'add', path: pointer('spec', 'trafficPolicy', 'connectionPool'), value: { http: { idleTimeout: target } } },
    ];
  if (!tp.connectionPool.http)
    return [
      { op: 'add', path: pointer('spec', 'trafficPolicy', 'connectionPool', 'http'), value: { idleTimeout: target } },
    ];
  if (current !== undefined) {
    return [
      { op: 'test', path: pointer('spec', 'trafficPolicy', 'connectionPool', 'http', 'idleTimeout'), value: current },
      { op: 'replace', path: pointer('spec', 'trafficPolicy', 'connectionPool', 'http', 'idleTimeout'), value: target },
    ];
  }
  return [
    { op: 'add', path: pointer('spec', 'trafficPolicy', 'connectionPool', 'http', 'idleTimeout'), value: target },
  ];
}

/**
 * A retry on reset (`retries: {attempts: 2, retryOn: reset,...}`) added to the http routes to `host` that set
 * no retries, in the VirtualServices of `namespace` (all namespaces when undefined).
 */
export function retryOnResetPatches(index: MeshIndex, host: string, namespace: string | undefined): ResourcePatch[] {
  return index
    .virtualServicesRoutingTo(host)
    .filter((vs) => namespace === undefined || vs.metadata.namespace === namespace)
    .map((vs: VirtualService) => ({
      target: refOf(vs),
      patch: routeDestinations(vs, index.domain)
        .filter((d) => d.kind === 'http' && d.host === host && vs.spec?.http?.[d.routeIndex]?.retries === undefined)
        .map((d) => d.routeIndex)
        .filter((i, pos, all) => all.indexOf(i) === pos)
        .map((i): PatchOperation => ({
          op: 'add',
          path: pointer('spec', 'http', i, 'retries'),
          value: { attempts: 2, retryOn: RETRY_ON },
        })),
    }))
    .filter((p) => p.patch.length > 0);
}

/** Whether the Istio version already retries inbound resets (said in MM106 findings). */
export function keepAliveVersionNote(v: IstioVersion): string {
  return atLeast(v, 1, 24)
    ? `Istio ${v.major}.${v.minor} already retries inbound reset-before-request; the idle timeout removes the race itself`
    : `before Istio 1.24 inbound resets are not retried by default`;
}

/**
 * Static form of MM106 (runs when the policy states the applications' keep-alive idle timeout): the
 * DestinationRule of an in-mesh service keeps idle upstream connections (connectionPool.http.idleTimeout,
 * Envoy default 1h) at least as long as the app does, so Envoy reuses connections the app has closed:
 * 503 UC on inbound clusters. The DR's pool also applies to the server's inbound cluster. Propose only.
 */
export const mm106: Rule = {
  ...MM106,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const keepAlive = ctx.params.keepAliveIdleTimeoutMs;
    if (keepAlive === undefined) return [];
    const dr = subject as DestinationRule;
    const host = ctx.index.drHost(dr);
    if (!ctx.index.serviceForHost(host)) return [];
    const tp = dr.spec?.trafficPolicy;
    const current = tp?.connectionPool?.http?.idleTimeout;
    const currentMs = current !== undefined ? parseDurationMs(current) : 3_600_000;
    if (currentMs !== undefined && currentMs < keepAlive) return [];
    const target = formatDurationMs(idleTimeoutBelow(keepAlive));
    const patch = idleTimeoutPatch(dr, target);
    const retryPatches = retryOnResetPatches(ctx.index, host, dr.metadata.namespace);
    const retry =
      retryPatches.length > 0
        ? fill(MM106_RETRY_ON_RESET, { vss: retryPatches.map((p) => describeRef(p.target)).join(', ') })
        : '';
    const args = {
      host,
      dr: describeRef(refOf(dr)),
      current: current ?? ENVOY_DEFAULT_IDLE,
      keepAlive: formatDurationMs(keepAlive),
      target,
      retry,
    };
    return [
      report(MM106.messages.IdleTimeoutNotBelowKeepAlive, args, {
        resource: refOf(dr),
        related: retryPatches.map((p) => p.target),
        versionNote: keepAliveVersionNote(ctx.istioVersion),
        fix: { patches: [{ target: refOf(dr), patch }, ...retryPatches], create: [], proposeOnly: true },
        claim: {
          kind: 'inexpressible',
          reason:
            "the race depends on the application's keep-alive timeout and on timing, which Envoy's configuration does not contain",
        },
      }),
    ];
  },
};
