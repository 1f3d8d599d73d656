import { MM101, MM101_ASSUMED, MM101_OFFENDER } from '../catalogue/rules/mm101.js';
import { fill } from '../catalogue/message-type.js';
import { report } from './report.js';
import { pointer } from '../fix/json-pointer.js';
import { describeRef, refKey, refOf } from '../model/kinds.js';
import { autoMtlsOn } from '../model/mesh-config.js';
import type { DestinationRule, KubeObject, ObjectRef, PeerAuthentication, Service } from '../model/types.js';
import { noRuleFindings, strictPolicyFindings } from './mm101-no-destination-rule.js';
import { noSidecarFindings } from './mm101-no-sidecar.js';
import { surelyNoSidecar } from './mm101-injection.js';
import { tlsLevels, type TlsLevel } from './tls-levels.js';
import { describeTarget, policyName, targetsOf, type Target } from './mm101-targets.js';
import { disabledPolicyFindings, mtlsToDisabledFindings } from './mm101-mtls-to-disabled.js';
import { serverRejectsClaim } from './mm101-claim.js';
import type { Finding, PatchOperation, Rule, RuleContext } from './types.js';

/** Fields Istio's validation refuses next to ISTIO_MUTUAL (istio certificates are used instead). */
const NOT_WITH_ISTIO_MUTUAL = ['clientCertificate', 'privateKey', 'caCertificates', 'caCrl', 'credentialName'] as const;

type ClientSends = 'istio-mtls' | 'plaintext' | 'plaintext-auto' | 'non-istio-tls';

function clientSends(level: TlsLevel, autoMtls: boolean, autoMtlsMode: string): ClientSends {
  const mode = level.tls?.mode;
  if (mode === 'ISTIO_MUTUAL') return 'istio-mtls';
  if (mode === 'DISABLE') return 'plaintext';
  if (mode === 'SIMPLE' || mode === 'MUTUAL') return 'non-istio-tls';
  if (!autoMtls) return 'plaintext';
  return autoMtlsMode === 'DISABLE' ? 'plaintext-auto' : 'istio-mtls';
}

function describeSends(s: ClientSends, level: TlsLevel): string {
  switch (s) {
    case 'plaintext':
      return level.tls?.mode === 'DISABLE'
        ? 'plaintext (tls.mode DISABLE)'
        : 'plaintext (no tls while auto mTLS is off)';
    case 'plaintext-auto':
      return 'plaintext (auto mTLS follows the namespace/mesh PeerAuthentication DISABLE, not the workload STRICT)';
    case 'non-istio-tls':
      return `TLS with non-Istio certificates (tls.mode ${level.tls?.mode ?? ''})`;
    default:
      return 'Istio mTLS';
  }
}

export function istioMutualPatch(level: TlsLevel): PatchOperation[] {
  const holder = pointer(...level.path);
  if (!level.holderExists) return [{ op: 'add', path: holder, value: { tls: { mode: 'ISTIO_MUTUAL' } } }];
  if (!level.tls) return [{ op: 'add', path: `${holder}/tls`, value: { mode: 'ISTIO_MUTUAL' } }];
  const ops: PatchOperation[] = [];
  if (level.tls.mode !== undefined) {
    ops.push({ op: 'test', path: `${holder}/tls/mode`, value: level.tls.mode });
    ops.push({ op: 'replace', path: `${holder}/tls/mode`, value: 'ISTIO_MUTUAL' });
  } else {
    ops.push({ op: 'add', path: `${holder}/tls/mode`, value: 'ISTIO_MUTUAL' });
  }
  for (const f of NOT_WITH_ISTIO_MUTUAL)
    if (level.tls[f] !== undefined) ops.push({ op: 'remove', path: `${holder}/tls/${f}` });
  return ops;
}

/** Plaintext or non-Istio TLS to STRICT servers: the DestinationRule is what to change. */
function plaintextToStrict(dr: DestinationRule, ctx: RuleContext): Finding[] {
  const autoMtls = autoMtlsOn(ctx.index.meshConfig, ctx.istioVersion);
  const byVersion = !autoMtls && ctx.index.meshConfig.enableAutoMtls;
  const offending: { level: TlsLevel; sends: ClientSends; target: Target }[] = [];
  for (const level of tlsLevels(dr)) {
    if (level.inherits) continue;
    const target = targetsOf(dr, level, ctx).find(
      (t) =>
        t.mtls.mode === 'STRICT' &&
        clientSends(level, autoMtls, t.mtls.autoMtlsMode) !== 'istio-mtls' &&
        !(t.svc && surelyNoSidecar(t.svc, ctx)),
    );
    if (target) offending.push({ level, sends: clientSends(level, autoMtls, target.mtls.autoMtlsMode), target });
  }
  const first = offending[0];
  if (!first) return [];
  const related = new Map<string, ObjectRef>();
  for (const { target } of offending) {
    if (target.svc) related.set(refKey(refOf(target.svc)), refOf(target.svc));
    if (target.mtls.source) related.set(refKey(refOf(target.mtls.source)), refOf(target.mtls.source));
  }
  const offenders = offending
    .map((o) =>
      fill(MM101_OFFENDER, {
        level: o.level.label,
        sends: describeSends(o.sends, o.level),
        where: describeTarget(o.target),
        pa: policyName(o.target),
      }),
    )
    .join('; ');
  const common = {
    resource: refOf(dr),
    related: [...related.values()],
    ...(byVersion
      ? {
          versionNote: `judged for Istio ${ctx.istioVersion.major}.${ctx.istioVersion.minor}: auto mTLS is on by default only since 1.5`,
        }
      : {}),
    fix: { patches: [{ target: refOf(dr), patch: offending.flatMap((o) => istioMutualPatch(o.level)) }], create: [] },
  };
  const args = { dr: describeRef(refOf(dr)), offenders, levels: offending.map((o) => o.level.label).join(', ') };
  if (!first.target.svc) {
    return [
      report(
        MM101.messages.PlaintextToStrictAssumed,
        { ...args, assumed: MM101_ASSUMED },
        {
          ...common,
          claim: {
            kind: 'inexpressible',
            reason: 'no Service of the input is reached: there is no server pod to simulate',
          },
        },
      ),
    ];
  }
  return [
    report(MM101.messages.PlaintextToStrict, args, {
      ...common,
      claim: serverRejectsClaim(first.target, first.level.subset, ctx),
    }),
  ];
}

export const mm101: Rule = {
  ...MM101,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    if (subject.kind === 'PeerAuthentication')
      return [
        ...disabledPolicyFindings(subject as PeerAuthentication, ctx),
        ...strictPolicyFindings(subject as PeerAuthentication, ctx),
      ];
    if (subject.kind === 'Service') return noRuleFindings(subject as Service, ctx);
    const dr = subject as DestinationRule;
    return [...plaintextToStrict(dr, ctx), ...mtlsToDisabledFindings(dr, ctx), ...noSidecarFindings(dr, ctx)];
  },
};
