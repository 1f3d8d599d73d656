import { mm101 } from './mm101-dr-tls-disables-mtls.js';
import { mm102 } from './mm102-external-tls-missing-sni.js';
import { mm103 } from './mm103-serviceentry-wildcard-listener.js';
import { mm104 } from './mm104-external-host-passthrough.js';
import { mm105 } from './mm105-route-timeout-too-short.js';
import { mm106 } from './mm106-inbound-keepalive-race.js';
import { mm107 } from './mm107-outlier-ejects-all.js';
import { mm108 } from './mm108-sidecar-hides-serviceentry.js';
import { mm201 } from './mm201-route-unknown-host.js';
import { mm202 } from './mm202-route-unknown-subset.js';
import { mm203 } from './mm203-conflicting-destination-rules.js';
import { mm204 } from './mm204-virtualservice-missing-gateway.js';
import { mm205 } from './mm205-virtualservice-host-not-on-gateway.js';
import { mm206 } from './mm206-conflicting-gateway-servers.js';
import { mm207 } from './mm207-gateway-shared-certificate.js';
import { mm210 } from './mm210-dr-subset-selects-no-pod.js';
import { mm211 } from './mm211-gateway-selects-no-workload.js';
import { mm212 } from './mm212-gateway-port-not-on-service.js';
import { mm213 } from './mm213-gateway-credential-unusable.js';
import { mm214 } from './mm214-inbound-port-protocol-conflict.js';
import { mm217 } from './mm217-serviceentry-protocol-conflict.js';
import { mm218 } from './mm218-conflicting-sidecars.js';
import { mm219 } from './mm219-conflicting-mesh-virtualservices.js';
import { mm220 } from './mm220-route-destination-port.js';
import { mm221 } from './mm221-destination-rule-unknown-host.js';
import { mm222 } from './mm222-jwt-claim-route-without-request-authentication.js';
import { mm301 } from './mm301-gateway-api-backend-not-found.js';
import { mm302 } from './mm302-gateway-api-route-not-attached.js';
import { mm303 } from './mm303-gateway-api-reference-not-granted.js';
import { mm401 } from './mm401-use-waypoint-not-found.js';
import { mm402 } from './mm402-l7-config-without-waypoint.js';
import { mm403 } from './mm403-waypoint-serviceentry-without-address.js';
import { mm404 } from './mm404-l7-authorization-policy-on-ztunnel.js';
import type { Rule } from './types.js';

export const RULES: readonly Rule[] = [
  mm101,
  mm102,
  mm103,
  mm104,
  mm105,
  mm106,
  mm107,
  mm108,
  mm201,
  mm202,
  mm203,
  mm204,
  mm205,
  mm206,
  mm207,
  mm210,
  mm211,
  mm212,
  mm213,
  mm214,
  mm217,
  mm218,
  mm219,
  mm220,
  mm221,
  mm222,
  mm301,
  mm302,
  mm303,
  mm401,
  mm402,
  mm403,
  mm404,
];

export function ruleById(id: string): Rule | undefined {
  return RULES.find((r) => r.id === id);
}

/** Resolves a user's rule list ("MM101,MM103"); unknown ids are an error naming them. */
export function selectRules(ids: string[] | undefined): Rule[] {
  if (!ids || ids.length === 0) return [...RULES];
  const unknown = ids.filter((id) => !ruleById(id));
  if (unknown.length > 0)
    throw new Error(`unknown rule id ${unknown.join(', ')}; known: ${RULES.map((r) => r.id).join(', ')}`);
  return RULES.filter((r) => ids.includes(r.id));
}
