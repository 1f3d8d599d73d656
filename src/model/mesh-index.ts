import type { LoadedObject } from './decode.js';
import { hostsMatch, isVisibleFrom, isWildcard, resolveHost, serviceFqdn } from './hosts.js';
import { K8S_GATEWAY, kindKey, objectKey } from './kinds.js';
import { isHttpPortName } from './protocols.js';
import { routeDestinations } from './route-destinations.js';
import { meshConfigFrom, parseMeshConfig } from './mesh-config.js';
import { secretView } from './secrets.js';
import { selects, workloadOf, WORKLOAD_KINDS, type Workload } from './workloads.js';
import type {
  DestinationRule,
  Gateway,
  K8sGateway,
  KubeObject,
  MeshConfig,
  PeerAuthentication,
  Service,
  ServiceEntry,
  Sidecar,
  SourceLocation,
  VirtualService,
} from './types.js';
import { DEFAULT_MESH_CONFIG } from './types.js';

/**
 * A multimap of objects. The index adds an object and later removes that same instance (upsert unindexes
 * the stored one), so the values of a key are kept by identity: no key string is built per add.
 */
class KeyedMultiMap<V extends KubeObject> {
  private readonly map = new Map<string, Set<V>>();
  add(k: string, v: V): void {
    let inner = this.map.get(k);
    if (!inner) this.map.set(k, (inner = new Set()));
    inner.add(v);
  }
  remove(k: string, v: KubeObject): void {
    const inner = this.map.get(k);
    if (!inner) return;
    inner.delete(v as V);
    if (inner.size === 0) this.map.delete(k);
  }
  get(k: string): V[] {
    const inner = this.map.get(k);
    return inner ? [...inner] : [];
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
}

export interface IndexOptions {
  /** Overrides the mesh config from ConfigMap istio (e.g. --mesh-config). */
  meshConfig?: MeshConfig;
  domain?: string;
  /** Kubernetes Gateway API Gateways ("namespace/name"), which VirtualServices can bind to too. */
  gatewayApiGateways?: Iterable<string>;
}

/**
 * The indexed snapshot of a mesh. Built once from a list of objects and kept current with upsert/remove,
 * so rules look things up (host -> services, entries, rules; port -> entries without addresses) instead
 * of scanning every object.
 */
export class MeshIndex {
  readonly domain: string;
  private readonly explicitMeshConfig: MeshConfig | undefined;
  private configMapMeshConfig: MeshConfig | undefined;
  meshConfigError: string | undefined;

  private readonly objects = new Map<string, LoadedObject>();
  private readonly byKind = new Map<string, Map<string, KubeObject>>();
  private readonly servicesByHost = new Map<string, Service>();
  private readonly entriesByHost = new KeyedMultiMap<ServiceEntry>();
  private readonly wildcardEntries = new Map<string, ServiceEntry>();
  private readonly rulesByHost = new KeyedMultiMap<DestinationRule>();
  /** DR hosts that are wildcards, with how many rules use each (few in real meshes). */
  private readonly wildcardRuleHosts = new Map<string, number>();
  private readonly routesByDestination = new KeyedMultiMap<VirtualService>();
  private readonly virtualServicesByHost = new KeyedMultiMap<VirtualService>();
  private readonly byNamespace = new KeyedMultiMap<KubeObject>();
  private readonly portlessEntriesByPort = new KeyedMultiMap<ServiceEntry>();
  private readonly httpByPort = new KeyedMultiMap<KubeObject>();
  private readonly gatewayApiGateways: Set<string>;
  /** Pods and workloads with pod templates, by namespace. */
  private readonly workloadsByNamespace = new KeyedMultiMap<KubeObject>();

  constructor(objects: LoadedObject[] = [], options: IndexOptions = {}) {
    this.domain = options.domain ?? 'cluster.local';
    this.explicitMeshConfig = options.meshConfig;
    this.gatewayApiGateways = new Set(options.gatewayApiGateways ?? []);
    for (const o of objects) this.upsert(o);
  }

  get meshConfig(): MeshConfig {
    return this.explicitMeshConfig ?? this.configMapMeshConfig ?? DEFAULT_MESH_CONFIG;
  }

  get size(): number {
    return this.objects.size;
  }

  /** Adds or replaces one object, updating every lookup it takes part in. */
  upsert(loaded: LoadedObject): void {
    // A Secret's values never enter the index, whoever hands it one (the decoder already gives its view).
    if (loaded.object.kind === 'Secret') loaded = { ...loaded, object: secretView(loaded.object).view };
    const key = objectKey(loaded.object);
    const previous = this.objects.get(key);
    if (previous) this.unindex(previous.object);
    this.objects.set(key, loaded);
    this.index(loaded.object);
  }

  remove(key: string): LoadedObject | undefined {
    const previous = this.objects.get(key);
    if (!previous) return undefined;
    this.unindex(previous.object);
    this.objects.delete(key);
    return previous;
  }

  get(key: string): LoadedObject | undefined {
    return this.objects.get(key);
  }

  sourceOf(o: KubeObject): SourceLocation | undefined {
    return this.objects.get(objectKey(o))?.source;
  }

  all(): LoadedObject[] {
    return [...this.objects.values()];
  }

  ofKind<T extends KubeObject>(kind: string): T[] {
    const m = this.byKind.get(kind);
    return m ? ([...m.values()] as T[]) : [];
  }

  inNamespace<T extends KubeObject>(kind: string, namespace: string): T[] {
    return this.byNamespace.get(`${kind}/${namespace}`) as T[];
  }

  /** The Kubernetes Service behind an FQDN (name.ns.svc.cluster.local), if any. */
  serviceForHost(host: string): Service | undefined {
    return this.servicesByHost.get(host);
  }

  /** ServiceEntries declaring a host equal to, or a wildcard covering, `host`. */
  entriesForHost(host: string): ServiceEntry[] {
    const exact = this.entriesByHost.get(host);
    if (this.wildcardEntries.size === 0 && !isWildcard(host)) return exact;
    const out = new Set(exact);
    for (const se of this.wildcardEntries.values()) {
      if (se.spec?.hosts.some((h) => isWildcard(h) && hostsMatch(h, host))) out.add(se);
    }
    if (isWildcard(host)) {
      for (const h of this.entriesByHost.keys())
        if (hostsMatch(host, h)) for (const se of this.entriesByHost.get(h)) out.add(se);
    }
    return [...out];
  }

  /** Entries without addresses that declare `port`: each of them makes a 0.0.0.0:port listener. */
  portlessEntriesOnPort(port: number): ServiceEntry[] {
    return this.portlessEntriesByPort.get(String(port));
  }

  /** Services and entries that declare HTTP on `port` (HTTP listeners bind 0.0.0.0:port, shared by all of them). */
  httpDeclaredOnPort(port: number): KubeObject[] {
    return this.httpByPort.get(String(port));
  }

  /** DestinationRules whose (resolved) host is exactly `host`. */
  destinationRulesForExactHost(host: string): DestinationRule[] {
    return this.rulesByHost.get(host);
  }

  /** VirtualServices with a route to the (resolved) destination host. */
  virtualServicesRoutingTo(host: string): VirtualService[] {
    return this.routesByDestination.get(host);
  }

  /** VirtualServices that declare `host` in spec.hosts (resolved in their namespace, exact string). */
  virtualServicesForHost(host: string): VirtualService[] {
    return this.virtualServicesByHost.get(host);
  }

  /** Every DR host key (resolved), for wildcard matching. */
  destinationRuleHosts(): string[] {
    return [...this.rulesByHost.keys()];
  }

  /**
   * The DestinationRules a proxy in `clientNamespace` uses for `host`, with Istio's lookup: the client's
   * namespace first, then the service's namespace (when exported), then the root namespace; the first level
   * with a match wins and levels never merge. Within a level, exact host matches beat wildcards.
   * (DRs with a workloadSelector are included at the client-namespace level.)
   */
  destinationRulesFor(host: string, clientNamespace: string, serviceNamespace?: string): DestinationRule[] {
    const candidates = this.destinationRulesMatching(host);
    const levels = [clientNamespace, serviceNamespace, this.meshConfig.rootNamespace].filter((n): n is string => !!n);
    for (const ns of levels) {
      const atLevel = candidates.filter((dr) => {
        const drNs = dr.metadata.namespace ?? '';
        if (drNs !== ns) return false;
        if (ns === clientNamespace) return true;
        if (dr.spec?.workloadSelector) return false;
        return isVisibleFrom(dr.spec?.exportTo, drNs, clientNamespace);
      });
      if (atLevel.length > 0) {
        const exact = atLevel.filter((dr) => this.drHost(dr) === host);
        return exact.length > 0 ? exact : mostSpecificWildcard(atLevel, (dr) => this.drHost(dr));
      }
    }
    return [];
  }

  destinationRulesMatching(host: string): DestinationRule[] {
    const out = this.rulesByHost.get(host);
    // A wildcard host can match any rule host: only then scan them all; otherwise only wildcard rule hosts.
    const candidates = isWildcard(host) ? this.rulesByHost.keys() : this.wildcardRuleHosts.keys();
    for (const h of candidates) {
      if (h !== host && hostsMatch(h, host)) out.push(...this.rulesByHost.get(h));
    }
    return out;
  }

  drHost(dr: DestinationRule): string {
    return resolveHost(dr.spec?.host ?? '', dr.metadata.namespace, this.domain);
  }

  gateway(namespace: string, name: string): Gateway | undefined {
    return this.byKind.get('Gateway')?.get(`Gateway/${namespace}/${name}`) as Gateway | undefined;
  }

  /** The gateway.networking.k8s.io Gateway of this namespace and name, if read. */
  k8sGateway(namespace: string, name: string): K8sGateway | undefined {
    return this.byKind.get(K8S_GATEWAY)?.get(`${K8S_GATEWAY}/${namespace}/${name}`) as K8sGateway | undefined;
  }

  /** Whether a gateway.networking.k8s.io Gateway of this namespace and name was read. */
  hasGatewayApiGateway(namespace: string, name: string): boolean {
    return this.gatewayApiGateways.has(`${namespace}/${name}`) || this.k8sGateway(namespace, name) !== undefined;
  }

  /**
   * Pods and pod templates (Deployment, StatefulSet, DaemonSet, ReplicaSet) in `namespace` (every
   * namespace when undefined) whose pod labels `selector` selects. A workload and its own pods may both
   * be listed: read the answer as "some pod or template matches", not as a count.
   */
  workloadsMatching(selector: Readonly<Record<string, string>>, namespace?: string): Workload[] {
    const namespaces = namespace === undefined ? [...this.workloadsByNamespace.keys()] : [namespace];
    const out: Workload[] = [];
    for (const ns of namespaces) {
      for (const o of this.workloadsByNamespace.get(ns)) {
        const w = workloadOf(o);
        if (w && selects(selector, w.labels)) out.push(w);
      }
    }
    return out;
  }

  /** Whether the snapshot holds any pod or workload: without one, it says nothing about which pods exist. */
  hasWorkloads(): boolean {
    return this.workloadsByNamespace.keys().next().done !== true;
  }

  peerAuthentications(namespace: string): PeerAuthentication[] {
    return this.inNamespace<PeerAuthentication>('PeerAuthentication', namespace);
  }

  sidecars(namespace: string): Sidecar[] {
    return this.inNamespace<Sidecar>('Sidecar', namespace);
  }

  private index(o: KubeObject): void {
    const key = objectKey(o);
    const kind = kindKey(o);
    let kindMap = this.byKind.get(kind);
    if (!kindMap) this.byKind.set(kind, (kindMap = new Map<string, KubeObject>()));
    kindMap.set(key, o);
    const ns = o.metadata.namespace ?? '';
    this.byNamespace.add(`${kind}/${ns}`, o);
    if (WORKLOAD_KINDS.has(o.kind)) this.workloadsByNamespace.add(ns, o);
    this.forEachHostKey(o, {
      service: (h) => this.servicesByHost.set(h, o as Service),
      entry: (h) => this.entriesByHost.add(h, o as ServiceEntry),
      wildcardEntry: () => this.wildcardEntries.set(key, o as ServiceEntry),
      portless: (p) => this.portlessEntriesByPort.add(p, o as ServiceEntry),
      httpPort: (p) => this.httpByPort.add(p, o),
      rule: (h) => {
        this.rulesByHost.add(h, o as DestinationRule);
        if (isWildcard(h)) this.wildcardRuleHosts.set(h, (this.wildcardRuleHosts.get(h) ?? 0) + 1);
      },
      route: (h) => this.routesByDestination.add(h, o as VirtualService),
      vsHost: (h) => this.virtualServicesByHost.add(h, o as VirtualService),
      meshConfig: (c) => (this.configMapMeshConfig = c),
    });
  }

  private unindex(o: KubeObject): void {
    const key = objectKey(o);
    const kind = kindKey(o);
    this.byKind.get(kind)?.delete(key);
    this.byNamespace.remove(`${kind}/${o.metadata.namespace ?? ''}`, o);
    if (WORKLOAD_KINDS.has(o.kind)) this.workloadsByNamespace.remove(o.metadata.namespace ?? '', o);
    this.forEachHostKey(o, {
      service: (h) => {
        if (this.servicesByHost.get(h) && objectKey(this.servicesByHost.get(h) as Service) === key)
          this.servicesByHost.delete(h);
      },
      entry: (h) => this.entriesByHost.remove(h, o),
      wildcardEntry: () => this.wildcardEntries.delete(key),
      portless: (p) => this.portlessEntriesByPort.remove(p, o),
      httpPort: (p) => this.httpByPort.remove(p, o),
      rule: (h) => {
        this.rulesByHost.remove(h, o);
        const n = this.wildcardRuleHosts.get(h);
        if (n !== undefined) {
          if (n <= 1) this.wildcardRuleHosts.delete(h);
          else this.wildcardRuleHosts.set(h, n - 1);
        }
      },
      route: (h) => this.routesByDestination.remove(h, o),
      vsHost: (h) => this.virtualServicesByHost.remove(h, o),
      meshConfig: () => (this.configMapMeshConfig = undefined),
    });
  }

  private forEachHostKey(o: KubeObject, on: HostKeyCallbacks): void {
    switch (o.kind) {
      case 'Service':
        this.serviceKeys(o as Service, on);
        break;
      case 'ServiceEntry':
        this.serviceEntryKeys(o as ServiceEntry, on);
        break;
      case 'DestinationRule':
        on.rule(this.drHost(o as DestinationRule));
        break;
      case 'VirtualService':
        this.virtualServiceKeys(o as VirtualService, on);
        break;
      case 'ConfigMap':
        this.configMapKeys(o, on);
        break;
    }
  }

  private serviceKeys(svc: Service, on: HostKeyCallbacks): void {
    on.service(serviceFqdn(svc.metadata.name, svc.metadata.namespace ?? '', this.domain));
    for (const p of svc.spec?.ports ?? []) if (isHttpPortName(p.appProtocol ?? p.name)) on.httpPort(String(p.port));
  }

  private serviceEntryKeys(se: ServiceEntry, on: HostKeyCallbacks): void {
    const ns = se.metadata.namespace ?? '';
    for (const h of se.spec?.hosts ?? []) {
      const r = resolveHost(h, ns, this.domain);
      if (isWildcard(r)) on.wildcardEntry();
      else on.entry(r);
    }
    if (!se.spec?.addresses?.length) for (const p of se.spec?.ports ?? []) on.portless(String(p.number));
    for (const p of se.spec?.ports ?? []) if (isHttpPortName(p.protocol)) on.httpPort(String(p.number));
  }

  private virtualServiceKeys(vs: VirtualService, on: HostKeyCallbacks): void {
    const ns = vs.metadata.namespace ?? '';
    for (const h of new Set(routeDestinations(vs, this.domain).map((d) => d.host))) on.route(h);
    for (const h of new Set((vs.spec?.hosts ?? []).map((x) => resolveHost(x.toLowerCase(), ns, this.domain))))
      on.vsHost(h);
  }

  /** The mesh ConfigMap (istio in the root namespace) yields its MeshConfig, or undefined when unparseable. */
  private configMapKeys(o: KubeObject, on: HostKeyCallbacks): void {
    const ns = o.metadata.namespace ?? '';
    if (o.metadata.name !== 'istio' || ns !== (this.explicitMeshConfig?.rootNamespace ?? 'istio-system')) return;
    const data = (o as KubeObject & { data?: Record<string, string> }).data;
    try {
      on.meshConfig(
        data?.['mesh'] !== undefined
          ? parseMeshConfig(data['mesh'], `ConfigMap ${ns}/istio data.mesh`)
          : meshConfigFrom({}, ''),
      );
      this.meshConfigError = undefined;
    } catch (err) {
      this.meshConfigError = (err as Error).message;
      on.meshConfig(undefined);
    }
  }
}

/** What forEachHostKey reports for one object: each index key it files the object under. */
interface HostKeyCallbacks {
  service: (h: string) => void;
  entry: (h: string) => void;
  wildcardEntry: () => void;
  portless: (port: string) => void;
  httpPort: (port: string) => void;
  rule: (h: string) => void;
  route: (h: string) => void;
  vsHost: (h: string) => void;
  meshConfig: (c: MeshConfig | undefined) => void;
}

function mostSpecificWildcard<T>(items: T[], hostOf: (t: T) => string): T[] {
  const longest = Math.max(...items.map((i) => hostOf(i).length));
  return items.filter((i) => hostOf(i).length === longest);
}
