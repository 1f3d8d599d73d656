import { MM101, MM101_TO_NO_SIDECAR } from '../catalogue/rules/mm101.js';
import { fill } from '../catalogue/message-type.js';
import { pointer } from '../fix/json-pointer.js';
import { isWildcard, serviceFqdn } from '../model/hosts.js';
import { outboundCluster, type FindingClaim } from './claims.js';
import { describeRef, refKey, refOf } from '../model/kinds.js';
import type {
  ClientTlsSettings,
  DestinationRule,
  KubeObject,
  ObjectRef,
  PortTrafficPolicy,
  Service,
  TrafficPolicy,
} from '../model/types.js';
import { noFix, report } from './report.js';
import { sidecarStateOf } from './mm101-injection.js';
import { describeTarget, targetsOf, type Target } from './mm101-targets.js';
import { tlsLevels, type TlsLevel } from './tls-levels.js';
import type { Finding, Fix, PatchOperation, RuleContext } from './types.js';

interface Hit {
  level: TlsLevel;
  target: Target;
  certain: boolean;
  why: string;
}

function plain(tls: ClientTlsSettings | undefined): ClientTlsSettings | undefined {
  return tls?.mode === 'ISTIO_MUTUAL' ? { mode: 'DISABLE' } : tls;
}

function plainPolicy(tp: TrafficPolicy | undefined): TrafficPolicy | undefined {
  if (!tp) return tp;
  const out: TrafficPolicy = { ...tp };
  if (tp.tls) out.tls = plain(tp.tls);
  if (tp.portLevelSettings)
    out.portLevelSettings = tp.portLevelSettings.map((p: PortTrafficPolicy) =>
      p.tls ? { ...p, tls: plain(p.tls) } : p,
    );
  return out;
}

/** A DestinationRule of the one host beside the wildcard one: same settings, ISTIO_MUTUAL made DISABLE (exact hosts win within a namespace). */
function hostRule(dr: DestinationRule, svc: Service, host: string): DestinationRule {
  const spec = dr.spec ?? { host };
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: {
      name: `${svc.metadata.name}-${svc.metadata.namespace ?? 'default'}-no-sidecar`.slice(0, 63),
      namespace: dr.metadata.namespace ?? 'default',
      annotations: { 'meshmedic.io/generated-by': MM101.id },
    },
    spec: {
      ...spec,
      host,
      ...(spec.trafficPolicy ? { trafficPolicy: plainPolicy(spec.trafficPolicy) as TrafficPolicy } : {}),
      ...(spec.subsets
        ? {
            subsets: spec.subsets.map((s) =>
              s.trafficPolicy ? { ...s, trafficPolicy: plainPolicy(s.trafficPolicy) } : s,
            ),
          }
        : {}),
    },
  };
}

function fixFor(dr: DestinationRule, hits: Hit[], ctx: RuleContext): Fix {
  if (!isWildcard(ctx.index.drHost(dr))) {
    const paths = [...new Set(hits.map((h) => pointer(...h.level.path)))];
    return {
      patches: [
        {
          target: refOf(dr),
          patch: paths.flatMap((p): PatchOperation[] => [
            { op: 'test', path: `${p}/tls/mode`, value: 'ISTIO_MUTUAL' },
            { op: 'replace', path: `${p}/tls/mode`, value: 'DISABLE' },
          ]),
        },
      ],
      create: [],
    };
  }
  const create: KubeObject[] = [];
  const seen = new Set<string>();
  for (const { target } of hits) {
    if (!target.svc || seen.has(target.host)) continue;
    seen.add(target.host);
    const rule = hostRule(dr, target.svc, target.host);
    if (ctx.index.get(`DestinationRule/${rule.metadata.namespace ?? ''}/${rule.metadata.name}`))
      return noFix(`a DestinationRule ${rule.metadata.namespace ?? ''}/${rule.metadata.name} exists already`);
    create.push(rule);
  }
  return {
    patches: [],
    create,
    notes: [
      `each created DestinationRule copies the other settings of ${describeRef(refOf(dr))}: rules for one host do not merge with a wildcard one`,
    ],
  };
}

/** The client's cluster gives endpoints without a sidecar Istio mTLS (auto mTLS would give them plaintext). */
function claimOf(h: Hit | undefined, ctx: RuleContext): FindingClaim {
  const svc = h?.target.svc;
  const port = h?.target.port ?? svc?.spec?.ports?.[0]?.port;
  if (!h || !svc || port === undefined)
    return { kind: 'inexpressible', reason: 'the Service has no port: there is no cluster to inspect' };
  return {
    kind: 'plain-endpoint-mtls',
    client: { type: 'sidecar', namespace: h.target.client },
    cluster: outboundCluster(
      serviceFqdn(svc.metadata.name, svc.metadata.namespace ?? 'default', ctx.index.domain),
      port,
      h.level.subset,
    ),
  };
}

/** DestinationRule subject: ISTIO_MUTUAL reaching Services of the input whose pods run no sidecar (istio#36672). */
export function noSidecarFindings(dr: DestinationRule, ctx: RuleContext): Finding[] {
  const hits: Hit[] = [];
  const states = new Map<string, ReturnType<typeof sidecarStateOf>>();
  for (const level of tlsLevels(dr)) {
    if (level.inherits || level.tls?.mode !== 'ISTIO_MUTUAL') continue;
    for (const target of targetsOf(dr, level, ctx)) {
      // A DISABLE server is reported as such (MtlsToDisabled / DisabledReceivesMtls).
      if (!target.svc || target.mtls.mode === 'DISABLE') continue;
      const key = refKey(refOf(target.svc));
      const state = states.get(key) ?? sidecarStateOf(target.svc, ctx);
      states.set(key, state);
      if (state.state === 'none' && !hits.some((h) => h.level === level && h.target.host === target.host))
        hits.push({ level, target, certain: state.certain, why: state.why });
    }
  }
  if (hits.length === 0) return [];
  const offenders = hits
    .map((h) =>
      fill(MM101_TO_NO_SIDECAR, {
        level: h.level.label,
        where: describeTarget({ ...h.target, port: undefined }),
        why: h.why,
      }),
    )
    .join('; ');
  const related = new Map<string, ObjectRef>();
  for (const h of hits) if (h.target.svc) related.set(refKey(refOf(h.target.svc)), refOf(h.target.svc));
  const wildcard = isWildcard(ctx.index.drHost(dr));
  const fix = wildcard
    ? 'a DestinationRule of their own host beside this one, with tls.mode DISABLE (or inject the sidecar)'
    : `tls.mode DISABLE at ${[...new Set(hits.map((h) => h.level.label))].join(', ')} (or inject the sidecar)`;
  const args = { dr: describeRef(refOf(dr)), offenders, fix };
  const r = {
    resource: refOf(dr),
    related: [...related.values()],
    // Only a certain verdict is fixed: on a guess the fix (plaintext) would fight PlaintextToStrict's (mTLS) on
    // the same cluster, and it breaks the pods if they do run a sidecar.
    fix: hits.some((h) => h.certain)
      ? fixFor(dr, hits, ctx)
      : noFix(
          'no automatic fix on a guess about injection: inject the sidecar, or set tls.mode DISABLE once you know the pods run without one',
        ),
    claim: claimOf(hits[0], ctx),
  };
  return [
    report(
      hits.some((h) => h.certain) ? MM101.messages.MtlsToNoSidecar : MM101.messages.MtlsToNoSidecarLikely,
      args,
      r,
    ),
  ];
}
