/** Istio host-name semantics (pilot/pkg/model ResolveShortnameToFQDN, pkg/config/host.Name.Matches). */

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** A short name (no dot) resolves in the namespace of the object that names it. */
export function resolveHost(host: string, namespace: string | undefined, domain = 'cluster.local'): string {
  if (host === '' || host === '*' || host.includes('.') || host.includes(':')) return host;
  return namespace ? `${host}.${namespace}.svc.${domain}` : host;
}

export function isWildcard(host: string): boolean {
  return host.startsWith('*');
}

/** True when the two hosts can name the same service (either side may be a wildcard). */
export function hostsMatch(a: string, b: string): boolean {
  if (a === b || a === '*' || b === '*') return true;
  if (isWildcard(a) && isWildcard(b)) return a.length > b.length ? a.endsWith(b.slice(1)) : b.endsWith(a.slice(1));
  if (isWildcard(a)) return b.endsWith(a.slice(1));
  if (isWildcard(b)) return a.endsWith(b.slice(1));
  return false;
}

/** True when `pattern` covers every name `host` can stand for (a subset relation). */
export function hostCovers(pattern: string, host: string): boolean {
  if (pattern === '*' || pattern === host) return true;
  if (!isWildcard(pattern)) return false;
  const suffix = pattern.slice(1);
  return isWildcard(host) ? host.slice(1).endsWith(suffix) : host.endsWith(suffix);
}

/** Kubernetes service FQDN: name.namespace.svc.domain */
export function serviceFqdn(name: string, namespace: string, domain = 'cluster.local'): string {
  return `${name}.${namespace}.svc.${domain}`;
}

/** Hosts inside the cluster domain (name.ns.svc.cluster.local) are not external. */
export function isClusterLocal(host: string, domain = 'cluster.local'): boolean {
  return host.endsWith(`.svc.${domain}`) || host === domain || host.endsWith(`.${domain}`);
}

export function isIpAddress(host: string): boolean {
  return IPV4.test(host) || (host.includes(':') && /^[0-9a-fA-F:]+$/.test(host));
}

/**
 * The namespaces an object is visible from, given its exportTo. `undefined` means every namespace.
 * "." is its own namespace, "~" none, "*" all.
 */
export function isVisibleFrom(exportTo: string[] | undefined, ownNamespace: string, clientNamespace: string): boolean {
  if (!exportTo || exportTo.length === 0) return true;
  for (const e of exportTo) {
    if (e === '*') return true;
    if (e === '.' && clientNamespace === ownNamespace) return true;
    if (e === clientNamespace) return true;
  }
  return false;
}

/** "dev.bar.org" -> "dev-bar-org", a valid Kubernetes object name. */
export function nameFromHost(host: string): string {
  return (
    host
      .replace(/^\*\./, 'wildcard.')
      .toLowerCase()
      .replace(/[^a-z0-9-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 63) || 'host'
  );
}
