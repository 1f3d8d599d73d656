import { MM303 } from '../catalogue/rules/mm303.js';
import { describeRef, K8S_GATEWAY, kindKey, refOf } from '../model/kinds.js';
import type { GatewayRoute, K8sGateway, KubeObject } from '../model/types.js';
import {
  backendsOf,
  isIstioIngress,
  isServiceBackend,
  programmedByIstio,
  referenceGranted,
  shareOf,
} from './gateway-api.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const CLAIM = {
  kind: 'inexpressible',
  reason:
    "the oracle's simulated gateways receive no listener from a Gateway API Gateway (a call through its port finds none), so its routes and listeners cannot be called",
} as const;
const FIX = noFix(
  "no automatic fix: a ReferenceGrant is the consent of the target namespace's owner; the message names the grant to create",
);

function routeFindings(route: GatewayRoute, ctx: RuleContext): Finding[] {
  if (!programmedByIstio(route, ctx.index)) return [];
  const ns = route.metadata.namespace ?? 'default';
  const type = ctx.complete ? MM303.messages.BackendNotGranted : MM303.messages.BackendGrantNotInInput;
  const seen = new Set<string>();
  const out: Finding[] = [];
  for (const b of backendsOf(route)) {
    // Hostname backends may not set a namespace (a configuration error, not a grant question).
    if (!b.crossNamespace || !isServiceBackend(b)) continue;
    if (
      referenceGranted(
        ctx.index,
        { kind: route.kind, namespace: ns },
        { group: '', kind: 'Service', name: b.ref.name, namespace: b.namespace },
      )
    )
      continue;
    const key = `${b.rule}/${b.namespace}/${b.ref.name}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const args = {
      route: describeRef(refOf(route)),
      share: shareOf(route, b),
      backend: `Service ${b.namespace}/${b.ref.name}`,
      toNamespace: b.namespace,
      fromKind: route.kind,
      fromNamespace: ns,
      toKind: 'Service',
      toName: b.ref.name,
    };
    out.push(report(type, args, { resource: refOf(route), fix: FIX, claim: CLAIM }));
  }
  return out;
}

type CertificateRef = { group?: string; kind?: string; name: string; namespace?: string };

/** The namespace of a certificateRef to a core Secret in another namespace than the Gateway's; else undefined. */
function otherNamespaceSecret(c: CertificateRef, ns: string): string | undefined {
  const group = c.group ?? '';
  if ((group !== '' && group !== 'core') || (c.kind ?? 'Secret') !== 'Secret') return undefined;
  const toNs = c.namespace ?? ns;
  return toNs === ns ? undefined : toNs;
}

function gatewayFindings(gw: K8sGateway, ctx: RuleContext): Finding[] {
  if (!isIstioIngress(gw, ctx.index)) return [];
  const ns = gw.metadata.namespace ?? 'default';
  const type = ctx.complete ? MM303.messages.CertificateNotGranted : MM303.messages.CertificateGrantNotInInput;
  const out: Finding[] = [];
  for (const l of gw.spec?.listeners ?? []) {
    if ((l.tls?.mode ?? 'Terminate') !== 'Terminate') continue;
    for (const c of l.tls?.certificateRefs ?? []) {
      const toNs = otherNamespaceSecret(c, ns);
      if (toNs === undefined) continue;
      if (
        referenceGranted(
          ctx.index,
          { kind: 'Gateway', namespace: ns },
          { group: '', kind: 'Secret', name: c.name, namespace: toNs },
        )
      )
        continue;
      const args = {
        listener: l.name,
        gateway: describeRef(refOf(gw)),
        secret: `${toNs}/${c.name}`,
        toNamespace: toNs,
        fromKind: 'Gateway',
        fromNamespace: ns,
        toKind: 'Secret',
        toName: c.name,
      };
      out.push(report(type, args, { resource: refOf(gw), fix: FIX, claim: CLAIM }));
    }
  }
  return out;
}

/** Gateway API ReferenceGrant: a cross-namespace reference the target namespace has not consented to. */
export const mm303: Rule = {
  ...MM303,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    return kindKey(subject) === K8S_GATEWAY
      ? gatewayFindings(subject as K8sGateway, ctx)
      : routeFindings(subject as GatewayRoute, ctx);
  },
};
