/**
 * The protocol Istio infers for a Kubernetes Service port from its appProtocol or name prefix
 * ("http", "http-web", "grpc-api", ...): HTTP ports are routed by Host, the rest as TCP.
 */
export function isHttpPortName(nameOrAppProtocol: string | undefined): boolean {
  return /^(http|http2|grpc|grpc-web)(-|$)/i.test(nameOrAppProtocol ?? '');
}

/** A ServiceEntry or Gateway port protocol that Envoy serves with an HTTP connection manager. */
export function isHttpProtocol(protocol: string | undefined): boolean {
  const p = (protocol ?? '').toUpperCase();
  return p === 'HTTP' || p === 'HTTP2' || p === 'GRPC';
}
