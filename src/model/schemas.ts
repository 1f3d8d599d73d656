/**
 * JSON Schemas (checked with ajv) for the fields meshmedic reads. They mirror the types and enums of
 * Istio's CRD schemas for those fields; unknown fields are allowed, as the API server would keep them.
 */
export type Schema = Record<string, unknown>;

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const strList: Schema = { type: 'array', items: str };
const labels: Schema = { type: 'object', additionalProperties: str };
const duration: Schema = { type: 'string', pattern: '^([0-9]+(\\.[0-9]+)?(h|m|s|ms|us|µs|ns))+$' };
const obj = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
});
const list = (items: Schema): Schema => ({ type: 'array', items });

const tls = obj({
  mode: { enum: ['DISABLE', 'SIMPLE', 'MUTUAL', 'ISTIO_MUTUAL'] },
  sni: str,
  subjectAltNames: strList,
  credentialName: str,
  clientCertificate: str,
  privateKey: str,
  caCertificates: str,
});
const outlier = obj({
  consecutiveErrors: int,
  consecutive5xxErrors: { type: ['integer', 'null'] },
  consecutiveGatewayErrors: { type: ['integer', 'null'] },
  maxEjectionPercent: int,
  interval: duration,
  baseEjectionTime: duration,
});
const connectionPool = obj({ tcp: { type: 'object' }, http: obj({ idleTimeout: duration }) });
const portPolicy = obj({
  port: obj({ number: int }),
  tls,
  outlierDetection: outlier,
  connectionPool,
  loadBalancer: { type: 'object' },
});
const trafficPolicy = obj({
  tls,
  outlierDetection: outlier,
  connectionPool,
  loadBalancer: { type: 'object' },
  portLevelSettings: list(portPolicy),
});
const destination = obj({ host: str, subset: str, port: obj({ number: int }) }, ['host']);
const routes = list(obj({ destination, weight: int }, ['destination']));

const parentRef = obj({ group: str, kind: str, namespace: str, name: str, sectionName: str, port: int }, ['name']);
const backendRef = obj({ group: str, kind: str, namespace: str, name: str, port: int, weight: int }, ['name']);
// security/v1beta1 AuthorizationPolicy Source and Operation: every field is a list of strings.
const AUTHZ_SOURCE = [
  'principals',
  'notPrincipals',
  'requestPrincipals',
  'notRequestPrincipals',
  'namespaces',
  'notNamespaces',
  'serviceAccounts',
  'notServiceAccounts',
  'ipBlocks',
  'notIpBlocks',
  'remoteIpBlocks',
  'notRemoteIpBlocks',
];
const AUTHZ_OPERATION = ['hosts', 'notHosts', 'ports', 'notPorts', 'methods', 'notMethods', 'paths', 'notPaths'];
const policyTargetRef = obj({ group: str, kind: str, name: str, namespace: str });
const routeSpec = obj({
  parentRefs: list(parentRef),
  hostnames: strList,
  rules: list(
    obj({ backendRefs: list(backendRef), filters: list(obj({ type: str, requestMirror: obj({ backendRef }) })) }),
  ),
});
const labelSelector = obj({
  matchLabels: labels,
  matchExpressions: list(obj({ key: str, operator: str, values: strList }, ['key', 'operator'])),
});
const listener = obj(
  {
    name: str,
    hostname: str,
    port: int,
    protocol: str,
    tls: obj({
      mode: str,
      certificateRefs: list(obj({ group: str, kind: str, name: str, namespace: str }, ['name'])),
      options: labels,
    }),
    allowedRoutes: obj({
      namespaces: obj({ from: { enum: ['All', 'Same', 'Selector', 'None'] }, selector: labelSelector }),
      kinds: list(obj({ group: str, kind: str }, ['kind'])),
    }),
  },
  ['name', 'port', 'protocol'],
);

/** The spec of each Istio and Kubernetes kind meshmedic analyzes (the kinds registry, model/kinds.ts, names them). */
export const SPECS = {
  DestinationRule: obj(
    {
      host: str,
      trafficPolicy,
      subsets: list(obj({ name: str, labels, trafficPolicy }, ['name'])),
      exportTo: strList,
      workloadSelector: obj({ matchLabels: labels }),
    },
    ['host'],
  ),
  VirtualService: obj({
    hosts: strList,
    gateways: strList,
    exportTo: strList,
    http: list(
      obj({
        name: str,
        route: routes,
        timeout: duration,
        retries: obj({ attempts: int, perTryTimeout: duration, retryOn: str }),
        rewrite: obj({ authority: str, uri: str }),
      }),
    ),
    tcp: list(obj({ route: routes })),
    tls: list(obj({ route: routes })),
  }),
  ServiceEntry: obj(
    {
      hosts: { type: 'array', items: str, minItems: 1 },
      addresses: strList,
      ports: list(obj({ number: int, protocol: str, name: str, targetPort: int }, ['number'])),
      location: { enum: ['MESH_EXTERNAL', 'MESH_INTERNAL'] },
      resolution: { enum: ['NONE', 'STATIC', 'DNS', 'DNS_ROUND_ROBIN'] },
      endpoints: list(obj({ address: str, ports: { type: 'object', additionalProperties: int }, labels })),
      exportTo: strList,
    },
    ['hosts'],
  ),
  Gateway: obj({
    selector: labels,
    servers: list(
      obj({
        port: obj({ number: int, protocol: str, name: str }),
        hosts: strList,
        tls: obj({ mode: str, credentialName: str }),
      }),
    ),
  }),
  Sidecar: obj({
    workloadSelector: obj({ labels }),
    egress: list(obj({ hosts: strList, port: obj({ number: int, protocol: str, name: str }) }, ['hosts'])),
    outboundTrafficPolicy: obj({ mode: { enum: ['ALLOW_ANY', 'REGISTRY_ONLY'] } }),
  }),
  PeerAuthentication: obj({
    selector: obj({ matchLabels: labels }),
    mtls: obj({ mode: { enum: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] } }),
    portLevelMtls: {
      type: 'object',
      additionalProperties: obj({ mode: { enum: ['UNSET', 'DISABLE', 'PERMISSIVE', 'STRICT'] } }),
    },
  }),
  // The fields MM222 reads (pilot/pkg/model/policyattachment.go ShouldAttachPolicy).
  RequestAuthentication: obj({
    selector: obj({ matchLabels: labels }),
    targetRef: policyTargetRef,
    targetRefs: list(policyTargetRef),
    jwtRules: list(obj({ issuer: str, jwksUri: str, jwks: str })),
  }),
  // The fields MM404 reads (pilot/pkg/serviceregistry/ambient/authorization.go convertAuthorizationPolicy).
  AuthorizationPolicy: obj({
    selector: obj({ matchLabels: labels }),
    targetRef: policyTargetRef,
    targetRefs: list(policyTargetRef),
    action: { enum: ['ALLOW', 'DENY', 'AUDIT', 'CUSTOM'] },
    rules: list(
      obj({
        from: list(obj({ source: obj(Object.fromEntries(AUTHZ_SOURCE.map((f) => [f, strList]))) })),
        to: list(obj({ operation: obj(Object.fromEntries(AUTHZ_OPERATION.map((f) => [f, strList]))) })),
        when: list(obj({ key: str, values: strList, notValues: strList }, ['key'])),
      }),
    ),
  }),
  Service: obj({
    type: str,
    clusterIP: str,
    clusterIPs: strList,
    selector: labels,
    externalName: str,
    ports: list(
      obj({ name: str, port: int, targetPort: { type: ['integer', 'string'] }, protocol: str, appProtocol: str }, [
        'port',
      ]),
    ),
  }),
  GatewayClass: obj({ controllerName: str }, ['controllerName']),
  K8sGateway: obj({
    gatewayClassName: str,
    listeners: list(listener),
    addresses: list(obj({ type: str, value: str })),
  }),
  HTTPRoute: routeSpec,
  GRPCRoute: routeSpec,
  TCPRoute: routeSpec,
  TLSRoute: routeSpec,
  ReferenceGrant: obj(
    {
      from: list(obj({ group: str, kind: str, namespace: str }, ['group', 'kind', 'namespace'])),
      to: list(obj({ group: str, kind: str, name: str }, ['group', 'kind'])),
    },
    ['from', 'to'],
  ),
} as const satisfies Record<string, Schema>;

/** The pod fields meshmedic reads (a Pod's spec, a workload's pod template spec): where it runs and its ports. */
const podSpec = obj({
  nodeName: str,
  containers: list(obj({ name: str, ports: list(obj({ containerPort: int, name: str, protocol: str })) })),
});
/** apps/v1 workloads: only the pod template's labels and pod spec are read (the pods they make). */
const workloadSpec = obj({
  template: obj({
    metadata: obj({
      labels: { ...labels, type: ['object', 'null'] },
      annotations: { ...labels, type: ['object', 'null'] },
    }),
    spec: podSpec,
  }),
});

/** Workload kinds (model/kinds.ts) and Pod: the fields of their pods that rules read. */
export const WORKLOAD_SPECS = { Pod: podSpec, Workload: workloadSpec } as const satisfies Record<string, Schema>;

/**
 * A Secret as meshmedic keeps it (model/secrets.ts): its type and the NAMES of its keys, never a value.
 * The decoder checks the input's shape itself (no value is ever shown in a diagnostic).
 */
export const SECRET_FIELDS: Readonly<Record<string, Schema>> = { type: str, keys: strList };

/** Top-level fields besides spec that meshmedic reads. */
export const SERVICE_ENTRY_STATUS: Schema = obj({ addresses: list(obj({ value: str, host: str })) });
export const CONFIG_MAP_DATA: Schema = labels;

const metadata = obj(
  {
    name: { type: 'string', minLength: 1 },
    namespace: str,
    // `annotations:` with no value (as in Istio's samples/addons) is a null map: the API server takes it as empty.
    labels: { ...labels, type: ['object', 'null'] },
    annotations: { ...labels, type: ['object', 'null'] },
  },
  ['name'],
);

/** The schema of a whole object whose top-level fields (spec, status, data, ...) are `fields`. */
export function objectSchema(fields: Readonly<Record<string, Schema>>): Schema {
  return obj({ apiVersion: str, kind: str, metadata, ...fields }, ['apiVersion', 'kind', 'metadata']);
}
