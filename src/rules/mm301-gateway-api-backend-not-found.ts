import { MM301 } from '../catalogue/rules/mm301.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { GatewayRoute, KubeObject, Service } from '../model/types.js';
import {
  backendsOf,
  isHostnameBackend,
  isServiceBackend,
  programmedByIstio,
  referenceGranted,
  shareOf,
  type Backend,
} from './gateway-api.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const CLAIM = {
  kind: 'inexpressible',
  reason:
    "the oracle's simulated gateways receive no listener from a Gateway API Gateway (a call through its port finds none), so the route cannot be called",
} as const;

function describeBackend(b: Backend): string {
  return isHostnameBackend(b) ? `Hostname ${b.ref.name}` : `Service ${b.namespace}/${b.ref.name}`;
}

type Problem = { missing: true } | { missing: false; service: Service; ports: number[] };

/** What is wrong with a backend Istio resolves (conversion.go buildDestination), if anything. */
function problemOf(route: GatewayRoute, b: Backend, ctx: RuleContext): Problem | undefined {
  // No port, or a Service named by its hostname, are configuration errors Istio rejects the whole rule for: not judged here.
  if (b.ref.port === undefined) return undefined;
  if (isServiceBackend(b)) {
    if (b.ref.name.includes('.')) return undefined;
    // Istio checks the grant first: a reference no ReferenceGrant allows is MM303's.
    if (
      b.crossNamespace &&
      !referenceGranted(
        ctx.index,
        { kind: route.kind, namespace: route.metadata.namespace ?? 'default' },
        { group: '', kind: 'Service', name: b.ref.name, namespace: b.namespace },
      )
    )
      return undefined;
    const service = ctx.index.get(`Service/${b.namespace}/${b.ref.name}`)?.object as Service | undefined;
    if (!service) return { missing: true };
    if (service.spec?.type === 'ExternalName') return undefined;
    const ports = (service.spec?.ports ?? []).map((p) => p.port);
    return ports.includes(b.ref.port) ? undefined : { missing: false, service, ports };
  }
  if (isHostnameBackend(b) && b.ref.namespace === undefined) {
    // LookupHostname: any Service or ServiceEntry host.
    const known = ctx.index.serviceForHost(b.ref.name) !== undefined || ctx.index.entriesForHost(b.ref.name).length > 0;
    return known ? undefined : { missing: true };
  }
  return undefined;
}

/** Parity with Istio's Gateway API status (ResolvedRefs=False, BackendNotFound): a backendRef Envoy has no cluster for. */
export const mm301: Rule = {
  ...MM301,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const route = subject as GatewayRoute;
    if (!programmedByIstio(route, ctx.index)) return [];
    const findings: Finding[] = [];
    const seen = new Set<string>();
    for (const b of backendsOf(route)) {
      const problem = problemOf(route, b, ctx);
      if (!problem) continue;
      const key = `${b.rule}/${b.kind}/${b.namespace}/${b.ref.name}/${b.ref.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const args = { route: describeRef(refOf(route)), share: shareOf(route, b), backend: describeBackend(b) };
      const fix = noFix('no automatic fix: the intended backend is unknown');
      if (problem.missing) {
        findings.push(
          report(ctx.complete ? MM301.messages.BackendNotFound : MM301.messages.BackendNotInInput, args, {
            resource: refOf(route),
            fix,
            claim: CLAIM,
          }),
        );
      } else {
        findings.push(
          report(
            MM301.messages.PortNotFound,
            { ...args, port: b.ref.port ?? 0, ports: problem.ports.join(', ') || 'no ports' },
            { resource: refOf(route), related: [refOf(problem.service)], fix, claim: CLAIM },
          ),
        );
      }
    }
    return findings;
  },
};
