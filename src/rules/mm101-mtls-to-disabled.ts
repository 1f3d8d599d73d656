import { MM101, MM101_ASSUMED, MM101_SENDER, MM101_TO_DISABLED } from '../catalogue/rules/mm101.js';
import { fill } from '../catalogue/message-type.js';
import { pointer } from '../fix/json-pointer.js';
import { isWildcard, serviceFqdn } from '../model/hosts.js';
import { describeRef, objectKey, refKey, refOf } from '../model/kinds.js';
import type { DestinationRule, ObjectRef, PeerAuthentication } from '../model/types.js';
import { report } from './report.js';
import { serverRejectsClaim } from './mm101-claim.js';
import { describeTarget, policyName, targetsOf, type Target } from './mm101-targets.js';
import { tlsLevels, type TlsLevel } from './tls-levels.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import type { Finding, PatchOperation, RuleContext } from './types.js';

interface Hit {
  dr: DestinationRule;
  level: TlsLevel;
  target: Target;
}

/**
 * Levels of the DestinationRule that send ISTIO_MUTUAL (explicitly: Istio then gives the cluster an
 * Istio mTLS transport whatever the server accepts) to servers whose PeerAuthentication is DISABLE.
 */
function hitsOf(dr: DestinationRule, ctx: RuleContext): Hit[] {
  const out: Hit[] = [];
  for (const level of tlsLevels(dr)) {
    if (level.inherits || level.tls?.mode !== 'ISTIO_MUTUAL') continue;
    for (const target of targetsOf(dr, level, ctx)) if (target.mtls.mode === 'DISABLE') out.push({ dr, level, target });
  }
  return out;
}

/**
 * Who a user should change. A DestinationRule whose host is one service targets that server: its tls is
 * wrong. A wildcard (namespace- or mesh-wide) ISTIO_MUTUAL is the rule and the DISABLE policy the exception
 * to it: the policy is what to change (PERMISSIVE accepts both, so no other client breaks).
 */
function ownedByPolicy(h: Hit, ctx: RuleContext): boolean {
  return isWildcard(ctx.index.drHost(h.dr)) && h.target.mtls.source !== undefined;
}

/** The server-rejects claim where the oracle can show it (a declared HTTP port of a Service in the input). */
function claimOf(hits: Hit[], ctx: RuleContext): FindingClaim {
  const http = hits.find((h) => h.target.svc && h.target.http === true);
  if (http) return serverRejectsClaim(http.target, http.level.subset, ctx);
  const tcp = hits.find((h) => h.target.svc && h.target.port !== undefined);
  if (tcp?.target.svc && tcp.target.port !== undefined) {
    const svc = tcp.target.svc;
    return {
      kind: 'inexpressible',
      reason:
        "on a TCP port the DISABLE server sidecar forwards the TLS bytes to the application: the failure is the application's, beyond Envoy's config",
      cluster: outboundCluster(
        serviceFqdn(svc.metadata.name, svc.metadata.namespace ?? 'default', ctx.index.domain),
        tcp.target.port,
        tcp.level.subset,
      ),
    };
  }
  if (hits.some((h) => h.target.svc))
    return { kind: 'inexpressible', reason: 'the Service has no port: there is no cluster to inspect' };
  return { kind: 'inexpressible', reason: 'no Service of the input is reached: there is no server pod to simulate' };
}

function disablePatch(level: TlsLevel): PatchOperation[] {
  const at = `${pointer(...level.path)}/tls/mode`;
  return [
    { op: 'test', path: at, value: 'ISTIO_MUTUAL' },
    { op: 'replace', path: at, value: 'DISABLE' },
  ];
}

function firstPerLevel(hits: Hit[]): Hit[] {
  const seen = new Set<string>();
  return hits.filter((h) => {
    const k = h.level.path.join('/');
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

function relatedOf(hits: Hit[], self: ObjectRef): ObjectRef[] {
  const out = new Map<string, ObjectRef>();
  for (const h of hits) {
    for (const o of [h.dr, h.target.svc, h.target.mtls.source]) {
      if (!o) continue;
      const r = refOf(o);
      if (refKey(r) !== refKey(self)) out.set(refKey(r), r);
    }
  }
  return [...out.values()];
}

/** DestinationRule subject: a DR naming one service sends ISTIO_MUTUAL to its DISABLE servers. */
export function mtlsToDisabledFindings(dr: DestinationRule, ctx: RuleContext): Finding[] {
  const hits = hitsOf(dr, ctx).filter((h) => !ownedByPolicy(h, ctx));
  if (hits.length === 0) return [];
  const levels = firstPerLevel(hits);
  const offenders = levels
    .map((h) =>
      fill(MM101_TO_DISABLED, { level: h.level.label, where: describeTarget(h.target), pa: policyName(h.target) }),
    )
    .join('; ');
  const args = { dr: describeRef(refOf(dr)), offenders, levels: levels.map((h) => h.level.label).join(', ') };
  const r = {
    resource: refOf(dr),
    related: relatedOf(hits, refOf(dr)),
    fix: { patches: [{ target: refOf(dr), patch: levels.flatMap((h) => disablePatch(h.level)) }], create: [] },
    claim: claimOf(hits, ctx),
  };
  return hits.some((h) => h.target.svc)
    ? [report(MM101.messages.MtlsToDisabled, args, r)]
    : [report(MM101.messages.MtlsToDisabledAssumed, { ...args, assumed: MM101_ASSUMED }, r)];
}

/** PeerAuthentication subject: wildcard ISTIO_MUTUAL DestinationRules reach the servers it makes DISABLE. */
export function disabledPolicyFindings(pa: PeerAuthentication, ctx: RuleContext): Finding[] {
  const modes = [pa.spec?.mtls?.mode, ...Object.values(pa.spec?.portLevelMtls ?? {}).map((p) => p.mode)];
  if (!modes.includes('DISABLE')) return [];
  const key = objectKey(pa);
  const hits: Hit[] = [];
  for (const dr of ctx.index.ofKind<DestinationRule>('DestinationRule')) {
    if (!isWildcard(ctx.index.drHost(dr))) continue;
    for (const h of hitsOf(dr, ctx))
      if (h.target.mtls.source && objectKey(h.target.mtls.source) === key && ownedByPolicy(h, ctx)) hits.push(h);
  }
  if (hits.length === 0) return [];
  const byLevel = new Map<string, { h: Hit; wheres: string[] }>();
  for (const h of hits) {
    const k = `${objectKey(h.dr)}#${h.level.path.join('/')}`;
    const e = byLevel.get(k) ?? { h, wheres: [] };
    byLevel.set(k, e);
    const w = describeTarget(h.target);
    if (!e.wheres.includes(w)) e.wheres.push(w);
  }
  const senders = [...byLevel.values()].map(({ h, wheres }) =>
    fill(MM101_SENDER, { dr: describeRef(refOf(h.dr)), level: h.level.label, where: wheres.join(', ') }),
  );
  const fields = [...new Set(hits.map((h) => pointer(...(h.target.mtls.decidedAt ?? []))))];
  const args = { pa: describeRef(refOf(pa)), senders: senders.join('; '), fields: fields.join(', ') };
  const r = {
    resource: refOf(pa),
    related: relatedOf(hits, refOf(pa)),
    fix: {
      patches: [
        {
          target: refOf(pa),
          patch: fields.flatMap((f): PatchOperation[] => [
            { op: 'test', path: f, value: 'DISABLE' },
            { op: 'replace', path: f, value: 'PERMISSIVE' },
          ]),
        },
      ],
      create: [],
    },
    claim: claimOf(hits, ctx),
  };
  return hits.some((h) => h.target.svc)
    ? [report(MM101.messages.DisabledReceivesMtls, args, r)]
    : [report(MM101.messages.DisabledReceivesMtlsAssumed, { ...args, assumed: MM101_ASSUMED }, r)];
}
