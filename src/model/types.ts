/** Typed views of the Kubernetes and Istio objects meshmedic reads. Only the fields the rules use are typed. */

export interface ObjectMeta {
  name: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface KubeObject<Spec = unknown, Status = unknown> {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  spec?: Spec;
  status?: Status;
  [extra: string]: unknown;
}

/** Where an object came from, for messages that point at a file and line. */
export interface SourceLocation {
  file: string;
  line: number;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  namespace?: string;
  name: string;
}

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

// ---- networking.istio.io -------------------------------------------------

export type ClientTlsMode = 'DISABLE' | 'SIMPLE' | 'MUTUAL' | 'ISTIO_MUTUAL';

export interface ClientTlsSettings {
  mode?: ClientTlsMode;
  sni?: string;
  subjectAltNames?: string[];
  credentialName?: string;
  clientCertificate?: string;
  privateKey?: string;
  caCertificates?: string;
  caCrl?: string;
  insecureSkipVerify?: boolean;
}

export interface PortSelector {
  number?: number;
}

export interface OutlierDetection {
  consecutiveErrors?: number;
  consecutive5xxErrors?: number;
  consecutiveGatewayErrors?: number;
  interval?: string;
  baseEjectionTime?: string;
  maxEjectionPercent?: number;
  [extra: string]: unknown;
}

export interface ConnectionPoolSettings {
  tcp?: Record<string, unknown>;
  http?: { idleTimeout?: string; maxRetries?: number; [extra: string]: unknown };
}

export interface PortTrafficPolicy {
  port?: PortSelector;
  tls?: ClientTlsSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  loadBalancer?: Record<string, unknown>;
}

export interface TrafficPolicy {
  tls?: ClientTlsSettings;
  connectionPool?: ConnectionPoolSettings;
  outlierDetection?: OutlierDetection;
  loadBalancer?: Record<string, unknown>;
  portLevelSettings?: PortTrafficPolicy[];
}

export interface Subset {
  name: string;
  labels?: Record<string, string>;
  trafficPolicy?: TrafficPolicy;
}

export interface WorkloadSelector {
  matchLabels?: Record<string, string>;
}

export interface DestinationRuleSpec {
  host: string;
  trafficPolicy?: TrafficPolicy;
  subsets?: Subset[];
  exportTo?: string[];
  workloadSelector?: WorkloadSelector;
}

export interface Destination {
  host: string;
  subset?: string;
  port?: PortSelector;
}

export interface RouteDestination {
  destination: Destination;
  weight?: number;
}

export interface HttpRetry {
  attempts?: number;
  perTryTimeout?: string;
  retryOn?: string;
}

export interface HttpRoute {
  name?: string;
  route?: RouteDestination[];
  timeout?: string;
  retries?: HttpRetry;
  rewrite?: { authority?: string; uri?: string };
  [extra: string]: unknown;
}

export interface TcpRoute {
  route?: RouteDestination[];
  [extra: string]: unknown;
}

export interface TlsRoute {
  route?: RouteDestination[];
  [extra: string]: unknown;
}

export interface VirtualServiceSpec {
  hosts?: string[];
  gateways?: string[];
  http?: HttpRoute[];
  tcp?: TcpRoute[];
  tls?: TlsRoute[];
  exportTo?: string[];
}

export type ServiceEntryLocation = 'MESH_EXTERNAL' | 'MESH_INTERNAL';
export type ServiceEntryResolution = 'NONE' | 'STATIC' | 'DNS' | 'DNS_ROUND_ROBIN';

export interface ServicePort {
  number: number;
  protocol?: string;
  name?: string;
  targetPort?: number;
}

export interface WorkloadEntrySpec {
  address?: string;
  ports?: Record<string, number>;
  labels?: Record<string, string>;
}

export interface ServiceEntrySpec {
  hosts: string[];
  addresses?: string[];
  ports?: ServicePort[];
  location?: ServiceEntryLocation;
  resolution?: ServiceEntryResolution;
  endpoints?: WorkloadEntrySpec[];
  exportTo?: string[];
  workloadSelector?: { labels?: Record<string, string> };
}

export interface ServiceEntryStatus {
  addresses?: { value?: string; host?: string }[];
}

export interface GatewayServer {
  port?: { number?: number; protocol?: string; name?: string };
  hosts?: string[];
  tls?: Record<string, unknown>;
}

export interface GatewaySpec {
  selector?: Record<string, string>;
  servers?: GatewayServer[];
}

export interface IstioEgressListener {
  port?: { number?: number; protocol?: string; name?: string };
  hosts: string[];
}

export interface SidecarSpec {
  workloadSelector?: { labels?: Record<string, string> };
  egress?: IstioEgressListener[];
  outboundTrafficPolicy?: { mode?: 'ALLOW_ANY' | 'REGISTRY_ONLY' };
}

// ---- security.istio.io -----------------------------------------------------

export type MtlsMode = 'UNSET' | 'DISABLE' | 'PERMISSIVE' | 'STRICT';

export interface PeerAuthenticationSpec {
  selector?: { matchLabels?: Record<string, string> };
  mtls?: { mode?: MtlsMode };
  portLevelMtls?: Record<string, { mode?: MtlsMode }>;
}

/** security.istio.io PolicyTargetReference (istio.io/api type/v1beta1/selector.proto). */
export interface PolicyTargetReference {
  group?: string;
  kind?: string;
  name?: string;
  namespace?: string;
}

export interface RequestAuthenticationSpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  jwtRules?: { issuer?: string; jwksUri?: string; jwks?: string }[];
}

/** security.istio.io AuthorizationPolicy (istio.io/api security/v1beta1/authorization_policy.proto): the fields MM404 reads. */
export type AuthorizationAction = 'ALLOW' | 'DENY' | 'AUDIT' | 'CUSTOM';

export interface AuthorizationSource {
  principals?: string[];
  notPrincipals?: string[];
  requestPrincipals?: string[];
  notRequestPrincipals?: string[];
  namespaces?: string[];
  notNamespaces?: string[];
  serviceAccounts?: string[];
  notServiceAccounts?: string[];
  ipBlocks?: string[];
  notIpBlocks?: string[];
  remoteIpBlocks?: string[];
  notRemoteIpBlocks?: string[];
}

export interface AuthorizationOperation {
  hosts?: string[];
  notHosts?: string[];
  ports?: string[];
  notPorts?: string[];
  methods?: string[];
  notMethods?: string[];
  paths?: string[];
  notPaths?: string[];
}

export interface AuthorizationRule {
  from?: { source?: AuthorizationSource }[];
  to?: { operation?: AuthorizationOperation }[];
  when?: { key: string; values?: string[]; notValues?: string[] }[];
}

export interface AuthorizationPolicySpec {
  selector?: { matchLabels?: Record<string, string> };
  targetRef?: PolicyTargetReference;
  targetRefs?: PolicyTargetReference[];
  action?: AuthorizationAction;
  rules?: AuthorizationRule[];
}

// ---- core/v1 ---------------------------------------------------------------

export interface ServicePortK8s {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}

export interface ServiceSpecK8s {
  type?: string;
  clusterIP?: string;
  clusterIPs?: string[];
  selector?: Record<string, string>;
  ports?: ServicePortK8s[];
  externalName?: string;
}

// ---- gateway.networking.k8s.io ---------------------------------------------

/** A reference to a parent (Gateway, or a Service for GAMMA mesh routes). group/kind default to the Gateway's. */
export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

/** A reference to a backend. group/kind default to core Service. */
export interface BackendObjectReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  port?: number;
  weight?: number;
}

export interface RouteRule {
  backendRefs?: BackendObjectReference[];
  filters?: { type?: string; requestMirror?: { backendRef?: BackendObjectReference } }[];
  [extra: string]: unknown;
}

export interface RouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: RouteRule[];
}

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

export interface Listener {
  name: string;
  hostname?: string;
  port: number;
  protocol: string;
  tls?: {
    mode?: string;
    certificateRefs?: { group?: string; kind?: string; name: string; namespace?: string }[];
    options?: Record<string, string>;
  };
  allowedRoutes?: {
    namespaces?: { from?: 'All' | 'Same' | 'Selector' | 'None'; selector?: LabelSelector };
    kinds?: { group?: string; kind: string }[];
  };
}

export interface K8sGatewaySpec {
  gatewayClassName: string;
  listeners?: Listener[];
  addresses?: { type?: string; value: string }[];
}

export interface ReferenceGrantSpec {
  from: { group: string; kind: string; namespace: string }[];
  to: { group: string; kind: string; name?: string }[];
}

export type K8sGateway = KubeObject<K8sGatewaySpec>;
export type GatewayClass = KubeObject<{ controllerName: string }>;
export type GatewayRoute = KubeObject<RouteSpec>;
export type ReferenceGrant = KubeObject<ReferenceGrantSpec>;

export type DestinationRule = KubeObject<DestinationRuleSpec>;
export type VirtualService = KubeObject<VirtualServiceSpec>;
export type ServiceEntry = KubeObject<ServiceEntrySpec, ServiceEntryStatus>;
export type Gateway = KubeObject<GatewaySpec>;
export type Sidecar = KubeObject<SidecarSpec>;
export type PeerAuthentication = KubeObject<PeerAuthenticationSpec>;
export type RequestAuthentication = KubeObject<RequestAuthenticationSpec>;
export type AuthorizationPolicy = KubeObject<AuthorizationPolicySpec>;
export type Service = KubeObject<ServiceSpecK8s>;
export type Namespace = KubeObject;
export interface ContainerPortK8s {
  containerPort: number;
  name?: string;
  protocol?: string;
}

/** The pod fields meshmedic reads: the node it runs on and its containers' ports. */
export interface PodSpecK8s {
  nodeName?: string;
  containers?: { name?: string; ports?: ContainerPortK8s[] }[];
}

export type Pod = KubeObject<PodSpecK8s>;
/** apps/v1 Deployment, StatefulSet, DaemonSet, ReplicaSet: the pods their template makes. */
export type WorkloadObject = KubeObject<{
  template?: {
    metadata?: { labels?: Record<string, string> | null; annotations?: Record<string, string> | null };
    spec?: PodSpecK8s;
  };
}>;
/** A Secret as meshmedic keeps it (model/secrets.ts): type and key names only, never a value. */
export type Secret = KubeObject & { type?: string; keys?: string[] };

/** The mesh config fields meshmedic reads (istio ConfigMap key `mesh`, or --mesh-config). */
export interface MeshConfig {
  enableAutoMtls: boolean;
  /** enableAutoMtls was given (not Istio's default, which was off before 1.5). */
  enableAutoMtlsSet?: boolean;
  rootNamespace: string;
  trustDomain: string;
  outboundTrafficPolicy: 'ALLOW_ANY' | 'REGISTRY_ONLY';
  /** defaultConfig.proxyMetadata */
  proxyMetadata: Record<string, string>;
  /** defaultServiceExportTo: the exportTo of Services and ServiceEntries that set none (unset: all). */
  defaultServiceExportTo?: string[];
  /** defaultVirtualServiceExportTo (unset: all). */
  defaultVirtualServiceExportTo?: string[];
}

export const DEFAULT_MESH_CONFIG: MeshConfig = {
  enableAutoMtls: true,
  rootNamespace: 'istio-system',
  trustDomain: 'cluster.local',
  outboundTrafficPolicy: 'ALLOW_ANY',
  proxyMetadata: {},
};
