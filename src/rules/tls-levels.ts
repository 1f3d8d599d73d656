import type { ClientTlsSettings, DestinationRule, PortTrafficPolicy, TrafficPolicy } from '../model/types.js';

/** One place in a DestinationRule where client TLS is decided. */
export interface TlsLevel {
  /** JSON pointer segments of the object holding `tls` (a trafficPolicy or a portLevelSettings entry). */
  path: (string | number)[];
  /** Human name, e.g. "trafficPolicy", "subset v1 portLevelSettings[port 8000]". */
  label: string;
  /** The port this level applies to; undefined = every port not taken by a port-level entry. */
  port: number | undefined;
  /** Ports taken by portLevelSettings at the same level (excluded from a top level). */
  excludedPorts: number[];
  subset: string | undefined;
  tls: ClientTlsSettings | undefined;
  /** Whether the holder object exists in the resource (false: it must be created by a fix). */
  holderExists: boolean;
  /** Subset level without its own tls: it inherits the top-level tls, so it is not a level of its own. */
  inherits: boolean;
}

function portLevels(
  tp: TrafficPolicy | undefined,
  base: (string | number)[],
  prefix: string,
  subset: string | undefined,
): TlsLevel[] {
  return (tp?.portLevelSettings ?? []).map((pls: PortTrafficPolicy, i) => ({
    path: [...base, 'portLevelSettings', i],
    label: `${prefix}portLevelSettings[port ${pls.port?.number ?? '?'}]`,
    port: pls.port?.number,
    excludedPorts: [],
    subset,
    tls: pls.tls,
    holderExists: true,
    inherits: false,
  }));
}

/**
 * Every level of a DestinationRule that decides client TLS: the top-level trafficPolicy, each
 * portLevelSettings entry (which REPLACES tls as a block: no tls there means auto mTLS, not the top-level
 * tls), each subset's trafficPolicy (whose tls overrides only when set) and its port-level entries.
 */
export function tlsLevels(dr: DestinationRule): TlsLevel[] {
  const tp = dr.spec?.trafficPolicy;
  const topPorts = (tp?.portLevelSettings ?? []).map((p) => p.port?.number).filter((n): n is number => n !== undefined);
  const levels: TlsLevel[] = [
    {
      path: ['spec', 'trafficPolicy'],
      label: 'trafficPolicy',
      port: undefined,
      excludedPorts: topPorts,
      subset: undefined,
      tls: tp?.tls,
      holderExists: tp !== undefined,
      inherits: false,
    },
    ...portLevels(tp, ['spec', 'trafficPolicy'], '', undefined),
  ];
  (dr.spec?.subsets ?? []).forEach((s, j) => {
    const stp = s.trafficPolicy;
    const base = ['spec', 'subsets', j, 'trafficPolicy'];
    const subsetPorts = (stp?.portLevelSettings ?? [])
      .map((p) => p.port?.number)
      .filter((n): n is number => n !== undefined);
    levels.push({
      path: base,
      label: `subset ${s.name} trafficPolicy`,
      port: undefined,
      excludedPorts: subsetPorts,
      subset: s.name,
      tls: stp?.tls,
      holderExists: stp !== undefined,
      inherits: stp?.tls === undefined,
    });
    levels.push(...portLevels(stp, base, `subset ${s.name} `, s.name));
  });
  return levels;
}

/** Where the client TLS of one (port, subset) cluster is decided, as util.MergeSubsetTrafficPolicy merges it. */
export interface EffectiveTls {
  tls: ClientTlsSettings | undefined;
  /** JSON pointer segments of the trafficPolicy (or portLevelSettings entry) holding that tls. */
  path: (string | number)[] | undefined;
}

/**
 * The client TLS Istio gives the cluster of `port` and `subset`: a matching top-level portLevelSettings
 * entry replaces tls as a block; a subset's matching port-level entry replaces it again (also when it
 * has no tls); otherwise a subset's tls overrides only when set.
 */
export function effectiveTls(dr: DestinationRule, port: number, subset?: string): EffectiveTls {
  const tp = dr.spec?.trafficPolicy;
  const top = levelTls(tp, port, ['spec', 'trafficPolicy']) ?? { tls: tp?.tls, path: undefined };
  if (subset === undefined) return top;
  const j = (dr.spec?.subsets ?? []).findIndex((s) => s.name === subset);
  const stp = dr.spec?.subsets?.[j]?.trafficPolicy;
  if (!stp) return top;
  return levelTls(stp, port, ['spec', 'subsets', j, 'trafficPolicy']) ?? top;
}

/**
 * The tls one trafficPolicy (at `base`) decides for the port: its matching portLevelSettings entry's
 * (also when that has none), else its own tls when set; undefined when it leaves tls to the level above.
 */
function levelTls(tp: TrafficPolicy | undefined, port: number, base: (string | number)[]): EffectiveTls | undefined {
  const i = (tp?.portLevelSettings ?? []).findIndex((p) => p.port?.number === port);
  if (i >= 0) return { tls: tp?.portLevelSettings?.[i]?.tls, path: [...base, 'portLevelSettings', i] };
  return tp?.tls ? { tls: tp.tls, path: base } : undefined;
}
