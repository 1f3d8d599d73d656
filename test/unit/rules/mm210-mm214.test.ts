import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/rules/types.js';
import { check, fixAndRecheck } from '../helpers.js';

const types = (fs: Finding[]): [string, string, string, string][] =>
  fs.map((f) => [
    f.rule,
    f.messageType,
    f.severity,
    `${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name}`,
  ]);

/** Every finding of these rules has no automatic fix, says why, and fixing changes nothing. */
function expectNoFix(rule: string, yaml: string, opts: { complete?: boolean } = {}): void {
  const { after, failures } = fixAndRecheck(rule, yaml, opts);
  expect(failures).toBe(0);
  expect(after.length).toBeGreaterThan(0);
  for (const f of after) {
    expect(f.fix.patches).toEqual([]);
    expect(f.fix.create).toEqual([]);
    expect(f.fix.notes?.[0]).toMatch(/^no automatic fix: /);
    expect(f.claim?.kind).toBe('inexpressible');
  }
}

const reviews = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec: {template: {metadata: {labels: {app: reviews, version: v1}}}}
`;
const dr = (subsets: string): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: ${subsets}
`;

const routeTo = (subset: string): string => `---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews-${subset}, namespace: shop}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews, subset: ${subset}}}]}]
`;

describe('MM210 dr-subset-selects-no-pod', () => {
  it('flags a routed subset whose labels no pod template of the Service carries: warning offline, error when complete', () => {
    const yaml = reviews + dr('[{name: v1, labels: {version: v1}}, {name: v3, labels: {version: v3}}]') + routeTo('v3');
    expect(types(check('MM210', yaml))).toEqual([
      ['MM210', 'SubsetSelectsNoPodInInput', 'warning', 'DestinationRule shop/reviews'],
    ]);
    const complete = check('MM210', yaml, { complete: true });
    expect(types(complete)).toEqual([['MM210', 'SubsetSelectsNoPod', 'error', 'DestinationRule shop/reviews']]);
    expect(complete[0]?.message).toContain('subset v3 (version=v3)');
    expect(complete[0]?.message).toContain('Deployment shop/reviews-v1');
    expect(complete[0]?.message).toContain('VirtualService shop/reviews-v3 route to it');
    expect(complete[0]?.related.map((r) => r.kind)).toEqual(['Service', 'VirtualService']);
    expect(complete[0]?.symptom).toBe('503 UH');
    expectNoFix('MM210', yaml);
  });

  it('a pod label whose value is the word "unknown" is a value like any other', () => {
    const yaml =
      reviews.replace('version: v1', 'version: unknown') + dr('[{name: v3, labels: {version: v3}}]') + routeTo('v3');
    expect(types(check('MM210', yaml, { complete: true }))).toEqual([
      ['MM210', 'SubsetSelectsNoPod', 'error', 'DestinationRule shop/reviews'],
    ]);
  });

  it('a subset nothing routes to is latent: info, whatever the snapshot', () => {
    const yaml = reviews + dr('[{name: v3, labels: {version: v3}}]') + routeTo('v1');
    expect(types(check('MM210', yaml))).toEqual([
      ['MM210', 'UnroutedSubsetSelectsNoPod', 'info', 'DestinationRule shop/reviews'],
    ]);
    expect(types(check('MM210', yaml, { complete: true })).map((t) => t[2])).toEqual(['info']);
  });

  it("counts only the pods of the host's Service, in its namespace", () => {
    const other = `---
apiVersion: v1
kind: Pod
metadata: {name: ratings-v3, namespace: shop, labels: {app: ratings, version: v3}}
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-v3, namespace: elsewhere, labels: {app: reviews, version: v3}}
`;
    expect(
      check('MM210', reviews + other + dr('[{name: v3, labels: {version: v3}}]') + routeTo('v3')).map(
        (f) => f.messageType,
      ),
    ).toEqual(['SubsetSelectsNoPodInInput']);
  });

  it('does not flag a subset a pod or template matches, nor a host whose Service or workloads the input lacks', () => {
    expect(check('MM210', reviews + dr('[{name: v1, labels: {version: v1}}]'), { complete: true })).toEqual([]);
    // no workload at all: the input says nothing about pods
    expect(
      check('MM210', reviews.split('---')[0] + dr('[{name: v3, labels: {version: v3}}]'), { complete: true }),
    ).toEqual([]);
    // a Service without a selector has endpoints written by hand
    expect(
      check('MM210', reviews.replace('selector: {app: reviews}, ', '') + dr('[{name: v3, labels: {version: v3}}]'), {
        complete: true,
      }),
    ).toEqual([]);
    // a host that is no Service of the input
    expect(
      check('MM210', reviews + dr('[{name: v3, labels: {version: v3}}]').replace('host: reviews', 'host: details'), {
        complete: true,
      }),
    ).toEqual([]);
  });

  it('offline, a Service whose workloads are not in the input is not judged; complete, it has no endpoints at all', () => {
    const yaml =
      reviews.replace('app: reviews, version: v1', 'app: ratings') + dr('[{name: v1, labels: {version: v1}}]');
    expect(check('MM210', yaml)).toEqual([]);
    expect(types(check('MM210', yaml, { complete: true }))).toEqual([
      ['MM210', 'ServiceSelectsNoPod', 'error', 'DestinationRule shop/reviews'],
    ]);
  });

  const entry = (endpoints: string, extra = ''): string => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: legacy, namespace: shop}
spec:
  hosts: [legacy.example.com]
  ports: [{number: 80, name: http, protocol: HTTP}]
  resolution: STATIC
  endpoints: ${endpoints}${extra}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: legacy, namespace: shop}
spec:
  host: legacy.example.com
  subsets: [{name: v2, labels: {version: v2}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: legacy, namespace: shop}
spec:
  hosts: [legacy.example.com]
  http: [{route: [{destination: {host: legacy.example.com, subset: v2}}]}]
`;

  it('judges the endpoints a ServiceEntry lists inline, without needing pods', () => {
    const yaml = entry('[{address: 10.0.0.1, labels: {version: v1}}, {address: 10.0.0.2}]');
    expect(types(check('MM210', yaml))).toEqual([
      ['MM210', 'SubsetSelectsNoEndpointInInput', 'warning', 'DestinationRule shop/legacy'],
    ]);
    const complete = check('MM210', yaml, { complete: true });
    expect(types(complete).map((t) => [t[1], t[2]])).toEqual([['SubsetSelectsNoEndpoint', 'error']]);
    expect(complete[0]?.message).toContain('10.0.0.1 version=v1');
    expectNoFix('MM210', yaml);
    expect(check('MM210', entry('[{address: 10.0.0.1, labels: {version: v2}}]'), { complete: true })).toEqual([]);
    // a workloadSelector adds pods and WorkloadEntries; resolution NONE needs no endpoints
    expect(
      check('MM210', entry('[{address: 10.0.0.1}]', '\n  workloadSelector: {labels: {app: legacy}}'), {
        complete: true,
      }),
    ).toEqual([]);
    expect(check('MM210', entry('[{address: 10.0.0.1}]').replace('STATIC', 'NONE'), { complete: true })).toEqual([]);
    expect(check('MM210', entry('[]'), { complete: true })).toEqual([]);
  });

  const topology = (nodeLabels: string, subsetLabels: string, nodeName = 'node-1'): string => `
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: default}
spec: {selector: {app: httpbin}, ports: [{name: http, port: 8000}]}
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-1, namespace: default, labels: {app: httpbin, version: v1}}
spec: {nodeName: ${nodeName}, containers: [{name: httpbin}]}
---
apiVersion: v1
kind: Node
metadata: {name: node-1, labels: ${nodeLabels}}
${dr(`[{name: s, labels: ${subsetLabels}}]`)
  .replace(/reviews/g, 'httpbin')
  .replace('namespace: shop', 'namespace: default')}`;

  it("reads the topology labels Istio adds from the pod's node", () => {
    const node = '{topology.kubernetes.io/region: us-west-1, topology.kubernetes.io/zone: us-west-1a}';
    expect(check('MM210', topology(node, '{topology.kubernetes.io/region: us-west-1, version: v1}'))).toEqual([]);
    expect(check('MM210', topology(node, '{kubernetes.io/hostname: node-1}'))).toEqual([]);
    expect(
      check('MM210', topology(node, '{topology.kubernetes.io/zone: us-east-1b}')).map((f) => f.messageType),
    ).toEqual(['UnroutedSubsetSelectsNoPod']);
    expect(check('MM210', topology(node, '{kubernetes.io/hostname: node-2}')).map((f) => f.messageType)).toEqual([
      'UnroutedSubsetSelectsNoPod',
    ]);
    // the beta node labels are read when the GA ones are not set
    expect(
      check('MM210', topology('{failure-domain.beta.kubernetes.io/zone: z1}', '{topology.kubernetes.io/zone: z1}')),
    ).toEqual([]);
    // an empty region on the node is not added: a subset on region "" selects nothing
    expect(
      check('MM210', topology('{topology.kubernetes.io/region: ""}', '{topology.kubernetes.io/region: ""}')).map(
        (f) => f.messageType,
      ),
    ).toEqual(['UnroutedSubsetSelectsNoPod']);
  });

  it('a topology label it cannot know counts as matching: no node, an unlisted node, the cluster id', () => {
    expect(check('MM210', topology('{}', '{topology.kubernetes.io/zone: z}', 'node-9'))).toEqual([]);
    expect(check('MM210', topology('{}', '{topology.istio.io/cluster: Kubernetes}'))).toEqual([]);
    expect(check('MM210', reviews + dr('[{name: z, labels: {topology.kubernetes.io/zone: z}}]'))).toEqual([]);
  });
});

const gatewayPod = `
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy, ports: [{containerPort: 8443, name: https-alt}]}]}
---
apiVersion: v1
kind: Service
metadata: {name: istio-ingressgateway, namespace: istio-system}
spec:
  selector: {istio: ingressgateway}
  ports: [{name: http2, port: 80, targetPort: 8080}, {name: https, port: 443, targetPort: https-alt}, {name: h3, port: 8444, protocol: UDP}]
`;
const gateway = (selector: string, servers: string): string => `---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: web, namespace: shop}
spec:
  selector: ${selector}
  servers: ${servers}
`;
const http = (port: number): string =>
  `{port: {number: ${port}, name: http-${port}, protocol: HTTP}, hosts: [web.example.com]}`;

describe('MM211 gateway-selects-no-workload', () => {
  it('flags a Gateway whose selector matches no pod or template in any namespace', () => {
    const yaml = gatewayPod + gateway('{istio: ingresstypo}', `[${http(80)}]`);
    expect(types(check('MM211', yaml))).toEqual([['MM211', 'NoWorkloadInInput', 'warning', 'Gateway shop/web']]);
    const complete = check('MM211', yaml, { complete: true });
    expect(types(complete)).toEqual([['MM211', 'NoWorkload', 'error', 'Gateway shop/web']]);
    expect(complete[0]?.message).toContain('istio=ingresstypo');
    expect(complete[0]?.message).toContain('web.example.com');
    expectNoFix('MM211', yaml);
  });

  it('does not flag a selector that matches a pod (any namespace) or a Deployment template, an empty selector, or an input without workloads', () => {
    expect(
      check('MM211', gatewayPod + gateway('{istio: ingressgateway}', `[${http(80)}]`), { complete: true }),
    ).toEqual([]);
    const deployment = `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: gw, namespace: gateways}\nspec: {template: {metadata: {labels: {app: my-gw, istio: custom}}}}\n`;
    expect(check('MM211', deployment + gateway('{istio: custom}', `[${http(80)}]`), { complete: true })).toEqual([]);
    expect(check('MM211', gatewayPod + gateway('{}', `[${http(80)}]`), { complete: true })).toEqual([]);
    expect(check('MM211', gateway('{istio: ingresstypo}', `[${http(80)}]`).slice(4), { complete: true })).toEqual([]);
    // application workloads only (no proxy container): the gateways are installed elsewhere
    expect(
      check('MM211', deployment + gateway('{istio: ingressgateway}', `[${http(80)}]`), { complete: true }),
    ).toEqual([]);
  });
});

describe('MM212 gateway-port-not-on-service', () => {
  it('flags a server port that is neither a port nor a target port of the Services selecting the gateway pods', () => {
    const yaml = gatewayPod + gateway('{istio: ingressgateway}', `[${http(80)}, ${http(9090)}, ${http(8444)}]`);
    const f = check('MM212', yaml);
    expect(types(f)).toEqual([
      ['MM212', 'PortNotOnServiceInInput', 'warning', 'Gateway shop/web'],
      ['MM212', 'PortNotOnServiceInInput', 'warning', 'Gateway shop/web'],
    ]);
    expect(f.map((x) => x.message.match(/server port (\d+)/)?.[1]).sort()).toEqual(['8444', '9090']);
    expect(f[0]?.message).toContain('80->8080, 443->8443');
    expect(types(check('MM212', yaml, { complete: true })).map((t) => t[1])).toEqual([
      'PortNotOnService',
      'PortNotOnService',
    ]);
    expectNoFix('MM212', yaml);
  });

  it('takes a Service port, a numeric or named target port (the port Istio listens on), and the port when targetPort is unset', () => {
    expect(
      check(
        'MM212',
        gatewayPod + gateway('{istio: ingressgateway}', `[${http(80)}, ${http(8080)}, ${http(443)}, ${http(8443)}]`),
        { complete: true },
      ),
    ).toEqual([]);
    const noTarget = gatewayPod.replace(', targetPort: 8080', '');
    expect(check('MM212', noTarget + gateway('{istio: ingressgateway}', `[${http(80)}]`), { complete: true })).toEqual(
      [],
    );
    expect(
      check('MM212', noTarget + gateway('{istio: ingressgateway}', `[${http(8080)}]`), { complete: true }).map(
        (f) => f.messageType,
      ),
    ).toEqual(['PortNotOnService']);
  });

  it('does not judge without a Service selecting the gateway pods, without gateway pods, or with a target port name it cannot resolve', () => {
    const podOnly = gatewayPod.split('---')[0] as string;
    expect(check('MM212', podOnly + gateway('{istio: ingressgateway}', `[${http(9090)}]`), { complete: true })).toEqual(
      [],
    );
    expect(check('MM212', gatewayPod + gateway('{istio: other}', `[${http(9090)}]`), { complete: true })).toEqual([]);
    expect(
      check(
        'MM212',
        gatewayPod.replace('name: https-alt', 'name: other') + gateway('{istio: ingressgateway}', `[${http(9090)}]`),
        { complete: true },
      ),
    ).toEqual([]);
    // a Service in another namespace does not select the pods
    expect(
      check(
        'MM212',
        gatewayPod.replace('namespace: istio-system}\nspec:\n  selector', 'namespace: shop}\nspec:\n  selector') +
          gateway('{istio: ingressgateway}', `[${http(9090)}]`),
        { complete: true },
      ),
    ).toEqual([]);
  });
});

const secret = (name: string, keys: string[], type = 'kubernetes.io/tls', namespace = 'istio-system'): string => `---
apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: ${namespace}}
type: ${type}
data: {${keys.map((k) => `${k}: dmFsdWU=`).join(', ')}}
`;
const https = (credential: string, mode = 'SIMPLE'): string =>
  `[{port: {number: 443, name: https, protocol: HTTPS}, hosts: [web.example.com], tls: {mode: ${mode}, credentialName: ${credential}}}]`;
const ingress = gatewayPod + secret('other', ['tls.crt', 'tls.key']);

describe('MM213 gateway-credential-unusable', () => {
  it("flags a credentialName with no Secret in the gateway pods' namespace (its own namespace does not count)", () => {
    const yaml =
      ingress +
      secret('web-cert', ['tls.crt', 'tls.key'], 'kubernetes.io/tls', 'shop') +
      gateway('{istio: ingressgateway}', https('web-cert'));
    const f = check('MM213', yaml);
    expect(types(f)).toEqual([['MM213', 'SecretNotInInput', 'warning', 'Gateway shop/web']]);
    expect(f[0]?.message).toContain(
      'in istio-system, the namespace of its gateway pods (Secrets of that name elsewhere: shop)',
    );
    expect(types(check('MM213', yaml, { complete: true })).map((t) => [t[1], t[2]])).toEqual([
      ['SecretNotFound', 'error'],
    ]);
    expectNoFix('MM213', yaml);
  });

  it('flags a Secret without cert/key or tls.crt/tls.key, whatever its type, and names its keys only', () => {
    const yaml =
      ingress +
      secret('web-cert', ['tls.cert', 'tls.key']) +
      gateway('{istio: ingressgateway}', https('kubernetes://web-cert'));
    const f = check('MM213', yaml);
    expect(types(f)).toEqual([['MM213', 'NoCertificateKeys', 'error', 'Gateway shop/web']]);
    expect(f[0]?.message).toContain('keys (tls.cert, tls.key)');
    expect(JSON.stringify(f)).not.toContain('dmFsdWU=');
    expect(
      check(
        'MM213',
        ingress + secret('web-cert', ['cert', 'key'], 'Opaque') + gateway('{istio: ingressgateway}', https('web-cert')),
      ),
    ).toEqual([]);
    expect(
      check(
        'MM213',
        ingress + secret('web-cert', ['tls.crt', 'tls.key']) + gateway('{istio: ingressgateway}', https('web-cert')),
        { complete: true },
      ),
    ).toEqual([]);
  });

  it('MUTUAL needs a CA: NAME-cacert, or cacert / ca.crt in the Secret itself', () => {
    const mutual = (extra: string): string =>
      ingress + extra + gateway('{istio: ingressgateway}', https('web-cert', 'MUTUAL'));
    expect(check('MM213', mutual(secret('web-cert', ['tls.crt', 'tls.key', 'ca.crt'])), { complete: true })).toEqual(
      [],
    );
    expect(
      check(
        'MM213',
        mutual(secret('web-cert', ['tls.crt', 'tls.key']) + secret('web-cert-cacert', ['cacert'], 'Opaque')),
        { complete: true },
      ),
    ).toEqual([]);
    expect(types(check('MM213', mutual(secret('web-cert', ['tls.crt', 'tls.key'])))).map((t) => [t[1], t[2]])).toEqual([
      ['NoCaCertificateInInput', 'warning'],
    ]);
    expect(
      types(check('MM213', mutual(secret('web-cert', ['tls.crt', 'tls.key'])), { complete: true })).map((t) => [
        t[1],
        t[2],
      ]),
    ).toEqual([['NoCaCertificate', 'error']]);
    // a NAME-cacert Secret without a CA key is used as it is
    expect(
      types(
        check(
          'MM213',
          mutual(
            secret('web-cert', ['tls.crt', 'tls.key', 'ca.crt']) + secret('web-cert-cacert', ['tls.crt'], 'Opaque'),
          ),
        ),
      ).map((t) => [t[1], t[2]]),
    ).toEqual([['NoCaCertificate', 'error']]);
  });

  it('does not judge PASSTHROUGH servers, other credential forms, gateways without pods, or an input without Secrets', () => {
    const missing = (creds: string, extra = ingress): Finding[] =>
      check('MM213', extra + gateway('{istio: ingressgateway}', creds), { complete: true });
    expect(missing(https('absent', 'PASSTHROUGH'))).toEqual([]);
    expect(missing(https('"kubernetes-gateway://istio-system/absent"'))).toEqual([]);
    expect(missing(https('builtin://'))).toEqual([]);
    expect(missing(https('absent'), gatewayPod)).toEqual([]);
    expect(check('MM213', ingress + gateway('{istio: nothing}', https('absent')), { complete: true })).toEqual([]);
  });
});

const details = (nsLabels: string, extra = ''): string => `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: ${nsLabels}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: details, namespace: shop}
spec:
  template:
    metadata: {labels: {app: details}${extra}}
    spec: {containers: [{name: details, ports: [{containerPort: 9080, name: api}]}]}
`;
const svc = (name: string, port: string, created = ''): string => `---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop${created ? `, creationTimestamp: '${created}'` : ''}}
spec: {selector: {app: details}, ports: [${port}]}
`;

describe('MM214 inbound-port-protocol-conflict', () => {
  const injected = details('{istio-injection: enabled}');
  it('flags one pod port targeted as HTTP and as TCP: warning while creation order is unknown', () => {
    const yaml =
      injected +
      svc('details-http', '{name: http, port: 9080}') +
      svc('details-tcp', '{name: tcp-raw, port: 9090, targetPort: api}');
    const f = check('MM214', yaml);
    expect(types(f)).toEqual([['MM214', 'ProtocolConflict', 'warning', 'Deployment shop/details']]);
    expect(f[0]?.message).toContain(
      'port 9080 is targeted as HTTP by Service shop/details-http and as tcp by Service shop/details-tcp',
    );
    expectNoFix('MM214', yaml);
  });

  it('errors when the oldest Service is the HTTP one; nothing when a TCP one is', () => {
    const httpFirst =
      injected +
      svc('details-http', '{name: http, port: 9080}', '2026-01-01T00:00:00Z') +
      svc('details-tcp', '{name: tcp, port: 9090, targetPort: 9080}', '2026-02-01T00:00:00Z');
    expect(types(check('MM214', httpFirst))).toEqual([
      ['MM214', 'HttpWinsOverTcp', 'error', 'Deployment shop/details'],
    ]);
    const tcpFirst = httpFirst.replace('2026-01-01', '2026-03-01');
    expect(check('MM214', tcpFirst)).toEqual([]);
  });

  it('does not flag one protocol on several ports, a detected (unnamed) port, UDP, other namespaces, or workloads without a sidecar', () => {
    expect(
      check(
        'MM214',
        injected + svc('a', '{name: http, port: 9080}') + svc('b', '{name: http-alt, port: 9090, targetPort: 9080}'),
      ),
    ).toEqual([]);
    expect(
      check('MM214', injected + svc('a', '{name: http, port: 9080}') + svc('b', '{port: 9090, targetPort: 9080}')),
    ).toEqual([]);
    expect(
      check(
        'MM214',
        injected + svc('a', '{name: http, port: 9080}') + svc('b', '{name: tcp, port: 9080, protocol: UDP}'),
      ),
    ).toEqual([]);
    const pair = svc('a', '{name: http, port: 9080}') + svc('b', '{name: tcp, port: 9090, targetPort: 9080}');
    expect(check('MM214', details('{}') + pair)).toEqual([]);
    expect(
      check('MM214', details('{istio-injection: enabled}', ', annotations: {sidecar.istio.io/inject: "false"}') + pair),
    ).toEqual([]);
    expect(
      check('MM214', details('{}', ', annotations: {sidecar.istio.io/inject: "true"}') + pair).map(
        (f) => f.messageType,
      ),
    ).toEqual(['ProtocolConflict']);
    expect(check('MM214', details('{istio.io/rev: canary}') + pair).map((f) => f.messageType)).toEqual([
      'ProtocolConflict',
    ]);
    expect(check('MM214', injected + pair.replace(/namespace: shop/g, 'namespace: other'))).toEqual([]);
    const sidecar =
      '---\napiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata: {name: default, namespace: shop}\nspec:\n  ingress: [{port: {number: 9080, protocol: HTTP, name: http}, defaultEndpoint: "127.0.0.1:9080"}]\n';
    expect(check('MM214', injected + pair + sidecar)).toEqual([]);
  });
});
