/** Envoy response flags (%RESPONSE_FLAGS%, short form) and what they mean. */
export const RESPONSE_FLAGS: Readonly<Record<string, string>> = {
  UH: 'no healthy upstream host in the cluster',
  UF: 'upstream connection failure',
  UO: 'upstream overflow (circuit breaking)',
  NR: 'no route configured (or no matching filter chain)',
  URX: 'upstream retry limit or max connect attempts reached',
  NC: 'upstream cluster not found',
  DT: 'request or connection exceeded max duration',
  DC: 'downstream connection termination',
  LH: 'local service failed health check',
  UT: 'upstream request timeout',
  LR: 'connection local reset',
  UR: 'upstream remote reset',
  UC: 'upstream connection termination',
  DI: 'request delayed by fault injection',
  FI: 'request aborted by fault injection',
  RL: 'rate limited locally',
  UAEX: 'unauthorized by the external authorization service',
  RLSE: 'rate limit service error',
  IH: 'strict header check failed',
  SI: 'stream idle timeout',
  DPE: 'downstream protocol error',
  UPE: 'upstream protocol error',
  UMSDR: 'upstream max stream duration reached',
  RFCF: 'response from cache filter',
  NFCF: 'no filter config found',
  OM: 'overload manager terminated the request',
  DF: 'DNS resolution failed',
  DO: 'drop overload',
  DR: 'downstream remote reset',
  UDO: 'upstream drop overload',
};

export function describeFlags(flags: string): string {
  if (flags === '-' || flags === '') return 'no flag';
  return flags
    .split(',')
    .map((f) => `${f} (${RESPONSE_FLAGS[f] ?? 'unknown flag'})`)
    .join(', ');
}
