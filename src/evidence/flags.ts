/**
 * Envoy response flags: the short form (%RESPONSE_FLAGS%, e.g. `UF,URX`), the long form
 * (%RESPONSE_FLAGS_LONG%, e.g. `UpstreamConnectionFailure,UpstreamRetryLimitExceeded`) and what they mean.
 * In the order Envoy writes them (source/common/stream_info/utility.h, CORE_RESPONSE_FLAGS), so that a
 * record whose flags come in another order (a JSON array) groups with the same flags as Envoy logs them.
 */
const FLAG_TABLE: readonly (readonly [short: string, long: string, meaning: string])[] = [
  ['LH', 'FailedLocalHealthCheck', 'local service failed health check'],
  ['UH', 'NoHealthyUpstream', 'no healthy upstream host in the cluster'],
  ['UT', 'UpstreamRequestTimeout', 'upstream request timeout'],
  ['LR', 'LocalReset', 'connection local reset'],
  ['UR', 'UpstreamRemoteReset', 'upstream remote reset'],
  ['UF', 'UpstreamConnectionFailure', 'upstream connection failure'],
  ['UC', 'UpstreamConnectionTermination', 'upstream connection termination'],
  ['UO', 'UpstreamOverflow', 'upstream overflow (circuit breaking)'],
  ['NR', 'NoRouteFound', 'no route configured (or no matching filter chain)'],
  ['DI', 'DelayInjected', 'request delayed by fault injection'],
  ['FI', 'FaultInjected', 'request aborted by fault injection'],
  ['RL', 'RateLimited', 'rate limited locally'],
  ['UAEX', 'UnauthorizedExternalService', 'unauthorized by the external authorization service'],
  ['RLSE', 'RateLimitServiceError', 'rate limit service error'],
  ['DC', 'DownstreamConnectionTermination', 'downstream connection termination'],
  ['URX', 'UpstreamRetryLimitExceeded', 'upstream retry limit or max connect attempts reached'],
  ['SI', 'StreamIdleTimeout', 'stream idle timeout'],
  ['IH', 'InvalidEnvoyRequestHeaders', 'strict header check failed'],
  ['DPE', 'DownstreamProtocolError', 'downstream protocol error'],
  ['UMSDR', 'UpstreamMaxStreamDurationReached', 'upstream max stream duration reached'],
  ['RFCF', 'ResponseFromCacheFilter', 'response from cache filter'],
  ['NFCF', 'NoFilterConfigFound', 'no filter config found'],
  ['DT', 'DurationTimeout', 'request or connection exceeded max duration'],
  ['UPE', 'UpstreamProtocolError', 'upstream protocol error'],
  ['NC', 'NoClusterFound', 'upstream cluster not found'],
  ['OM', 'OverloadManagerTerminated', 'overload manager terminated the request'],
  ['DF', 'DnsResolutionFailed', 'DNS resolution failed'],
  ['DO', 'DropOverload', 'drop overload'],
  ['DR', 'DownstreamRemoteReset', 'downstream remote reset'],
  ['UDO', 'UnconditionalDropOverload', 'upstream drop overload'],
];

/** Short flag -> what it means. */
export const RESPONSE_FLAGS: Readonly<Record<string, string>> = Object.fromEntries(
  FLAG_TABLE.map(([s, , m]) => [s, m]),
);

/** Long flag name (%RESPONSE_FLAGS_LONG%) -> short flag. */
export const LONG_RESPONSE_FLAGS: Readonly<Record<string, string>> = Object.fromEntries(
  FLAG_TABLE.map(([s, l]) => [l, s]),
);

const ORDER = new Map(FLAG_TABLE.map(([s], i) => [s, i]));

/** A short flag as Envoy writes one; unknown upper-case flags are kept (custom flags registered by filters). */
const SHORT_FLAG = /^[A-Z]+$/;

export type FlagsResult = { ok: true; flags: string[] } | { ok: false; reason: string };

function normalize(names: readonly string[]): FlagsResult {
  const flags: string[] = [];
  for (const name of names) {
    const short = SHORT_FLAG.test(name) ? name : LONG_RESPONSE_FLAGS[name];
    if (short === undefined) return { ok: false, reason: `${JSON.stringify(name)} is not an Envoy response flag` };
    if (!flags.includes(short)) flags.push(short);
  }
  const rank = (f: string): number => ORDER.get(f) ?? ORDER.size;
  return { ok: true, flags: flags.sort((a, b) => rank(a) - rank(b)) };
}

/**
 * The flags of a text field as Envoy writes %RESPONSE_FLAGS% or %RESPONSE_FLAGS_LONG%: `-` (none), or
 * names separated by commas, without spaces.
 */
export function parseFlagsText(text: string): FlagsResult {
  if (text === '-') return { ok: true, flags: [] };
  if (SHORT_FLAG.test(text)) return { ok: true, flags: [text] }; // the common case: one short flag
  if (!/^[A-Za-z]+(,[A-Za-z]+)*$/.test(text))
    return { ok: false, reason: `${JSON.stringify(text)} is not a list of Envoy response flags` };
  return normalize(text.split(','));
}

/**
 * The flags of a JSON `response_flags` value, in any shape a JSON access log carries them: the string Envoy's
 * JSON formatter writes for %RESPONSE_FLAGS% / %RESPONSE_FLAGS_LONG% (`"UF,URX"`, `"-"`, long names), an empty
 * string, an array of such names (a log pipeline that split them), or null / absent (none).
 */
export function parseFlagsJson(value: unknown): FlagsResult {
  if (value === undefined || value === null || value === '') return { ok: true, flags: [] };
  if (typeof value === 'string') return parseFlagsText(value.replace(/\s*,\s*/g, ',').trim());
  if (Array.isArray(value)) {
    const names: string[] = [];
    for (const v of value as unknown[]) {
      if (typeof v !== 'string') return { ok: false, reason: `array element ${JSON.stringify(v)} is not a flag name` };
      const parsed = parseFlagsJson(v);
      if (!parsed.ok) return parsed;
      names.push(...parsed.flags);
    }
    return normalize(names);
  }
  return { ok: false, reason: `${JSON.stringify(value)} is neither a string nor an array of flag names` };
}

export function describeFlags(flags: string): string {
  if (flags === '-' || flags === '') return 'no flag';
  return flags
    .split(',')
    .map((f) => `${f} (${RESPONSE_FLAGS[f] ?? 'unknown flag'})`)
    .join(', ');
}
