import { describe, expect, it } from 'vitest';
import { check } from '../helpers.js';

const ns = (name: string, labels: string): string => `
---
apiVersion: v1
kind: Namespace
metadata: {name: ${name}, labels: {${labels}}}
`;
const ambient = ns('app', 'istio.io/dataplane-mode: ambient');
const ambientWithWaypoint = ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint');
const waypoint = `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: waypoint, namespace: app}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;
const deployment = (name: string, labels = ''): string => `
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: ${name}, namespace: app}
spec:
  selector: {matchLabels: {app: ${name}}}
  template:
    metadata: {labels: {app: ${name}${labels ? `, ${labels}` : ''}}}
    spec: {containers: [{name: app, image: x}]}
`;
const policy = (name: string, spec: string, namespace = 'app'): string => `
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ${name}, namespace: ${namespace}}
spec:
${spec
  .trim()
  .split('\n')
  .map((l) => `  ${l}`)
  .join('\n')}
`;
const allowGet = policy(
  'allow-get',
  `
selector: {matchLabels: {app: reviews}}
action: ALLOW
rules:
- from: [{source: {principals: [cluster.local/ns/app/sa/productpage]}}]
  to: [{operation: {methods: [GET], paths: [/reviews/*]}}]
`,
);

const types = (yaml: string, opts = {}): string[] => check('MM404', yaml, opts).map((f) => f.messageType);

describe('MM404 AuthorizationPolicy with HTTP attributes enforced by ztunnel', () => {
  it('an ALLOW policy whose only rule uses HTTP attributes, on an ambient namespace without waypoint, allows nothing', () => {
    // Offline, another ALLOW policy may be applied from elsewhere: a warning; complete, an error.
    expect(types(`${ambient}${deployment('reviews')}${allowGet}`)).toEqual(['AllowsNothingInInput']);
    const findings = check('MM404', `${ambient}${deployment('reviews')}${allowGet}`, { complete: true });
    expect(findings.map((f) => f.messageType)).toEqual(['AllowsNothing']);
    const [f] = findings;
    expect(f?.severity).toBe('error');
    expect(f?.dataPlane).toBe('ambient (ztunnel, no waypoint)');
    expect(f?.message).toContain('methods, paths');
    expect(f?.message).toContain('Deployment app/reviews');
    expect(f?.fix.patches).toEqual([]);
    expect(f?.fix.notes?.[0]).toContain('deploy a waypoint');
    expect(f?.claim).toMatchObject({ kind: 'inexpressible' });
  });

  it('the same policy attached to the waypoint with targetRefs is not for ztunnel', () => {
    const attached = policy(
      'allow-get',
      `
targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]
action: ALLOW
rules:
- to: [{operation: {methods: [GET]}}]
`,
    );
    expect(types(`${ambientWithWaypoint}${waypoint}${deployment('reviews')}${attached}`)).toEqual([]);
    const toService = attached.replace(
      '{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}',
      '{kind: Service, name: reviews}',
    );
    expect(types(`${ambientWithWaypoint}${waypoint}${deployment('reviews')}${toService}`)).toEqual([]);
  });

  it('a waypoint does not take a selector policy: ztunnel still enforces it, and the fix names the waypoint', () => {
    const [f] = check('MM404', `${ambientWithWaypoint}${waypoint}${deployment('reviews')}${allowGet}`, {
      complete: true,
    });
    expect(f?.messageType).toBe('AllowsNothing');
    expect(f?.dataPlane).toBe('ambient (ztunnel; waypoint app/waypoint takes no selector policy)');
    expect(f?.fix.notes?.[0]).toContain('waypoint app/waypoint with targetRefs');
  });

  it('an L4-only policy (ports, principals, namespaces, L4 conditions) is fully enforced by ztunnel', () => {
    const l4 = policy(
      'l4',
      `
action: ALLOW
rules:
- from: [{source: {principals: [cluster.local/ns/app/sa/productpage], namespaces: [app]}}]
  to: [{operation: {ports: ["9080"]}}]
  when: [{key: source.ip, values: [10.0.0.0/8]}, {key: destination.port, values: ["9080"]}]
`,
    );
    expect(types(`${ambient}${deployment('reviews')}${l4}`)).toEqual([]);
  });

  it('a sidecar namespace enforces HTTP attributes: no finding', () => {
    expect(types(`${ns('app', 'istio-injection: enabled')}${deployment('reviews')}${allowGet}`)).toEqual([]);
  });

  it('selected workloads that opted out of ambient, or run a sidecar, are not judged', () => {
    expect(types(`${ambient}${deployment('reviews', 'istio.io/dataplane-mode: none')}${allowGet}`)).toEqual([]);
    const injected = `
---
apiVersion: v1
kind: Pod
metadata: {name: reviews-1, namespace: app, labels: {app: reviews}}
spec: {containers: [{name: app, image: x}, {name: istio-proxy, image: proxyv2}]}
`;
    expect(types(`${ambient}${injected}${allowGet}`)).toEqual([]);
  });

  it('a namespace of unknown data plane is not judged', () => {
    expect(types(`${ns('app', 'team: a')}${allowGet}`)).toEqual([]);
    expect(types(allowGet)).toEqual([]);
  });

  it('a DENY rule with a condition of only HTTP attributes denies nothing at ztunnel: a security gap (warning)', () => {
    const deny = policy(
      'deny-delete',
      `
action: DENY
rules:
- from: [{source: {namespaces: [legacy]}}]
  to: [{operation: {methods: [DELETE]}}]
- from: [{source: {notRequestPrincipals: ["*"]}}]
- to: [{operation: {ports: ["9080"]}}]
  when: [{key: 'request.headers[x-debug]', values: ["1"]}]
`,
    );
    const findings = check('MM404', `${ambient}${deny}`);
    expect(findings.map((f) => [f.messageType, f.severity, f.symptom])).toEqual([
      ['DenyRulesIgnored', 'warning', 'DENY rule not enforced'],
    ]);
    expect(findings[0]?.message).toContain('rules[0], rules[1], rules[2]');
    expect(findings[0]?.message).toContain('methods, notRequestPrincipals, request.headers[x-debug]');
    expect(findings[0]?.message).toContain('deny nothing');
  });

  it('a DENY rule whose conditions all keep an L4 attribute denies every connection those match (error)', () => {
    const deny = policy(
      'deny-admin',
      `
action: DENY
rules:
- from: [{source: {namespaces: [legacy], requestPrincipals: ["*"]}}]
  to: [{operation: {ports: ["9080"], paths: [/admin]}}]
- to: [{operation: {methods: [DELETE]}}]
`,
    );
    const findings = check('MM404', `${ambient}${deny}`);
    expect(findings.map((f) => [f.messageType, f.severity])).toEqual([
      ['DeniesMore', 'error'],
      ['DenyRulesIgnored', 'warning'],
    ]);
    expect(findings[0]?.message).toContain('(paths, requestPrincipals)');
    expect(findings[0]?.message).toContain('(rules[0])');
    expect(findings[1]?.message).toContain('(rules[1])');
  });

  it('an ALLOW policy that keeps an L4 rule, or another L4 ALLOW policy, makes the dropped rule a warning', () => {
    const mixed = policy(
      'mixed',
      `
action: ALLOW
rules:
- from: [{source: {namespaces: [app]}}]
- to: [{operation: {paths: [/admin]}}]
`,
    );
    const [f] = check('MM404', `${ambient}${mixed}`);
    expect([f?.messageType, f?.severity]).toEqual(['AllowRulesDropped', 'warning']);
    expect(f?.message).toContain('rules[1]');
    expect(f?.message).not.toContain('rules[0]');
    const otherL4 = policy('allow-ns', `action: ALLOW\nrules: [{from: [{source: {namespaces: [app]}}]}]`);
    const [g] = check('MM404', `${ambient}${deployment('reviews')}${allowGet}${otherL4}`);
    expect([g?.messageType, g?.severity]).toEqual(['AllowRulesDropped', 'warning']);
    expect(g?.message).toContain('unless AuthorizationPolicy app/allow-ns');
    expect(g?.related).toEqual([expect.objectContaining({ kind: 'AuthorizationPolicy', name: 'allow-ns' })]);
  });

  it('a root-namespace policy without selector reaches every ambient namespace', () => {
    const mesh = policy('mesh-get', `action: ALLOW\nrules: [{to: [{operation: {methods: [GET]}}]}]`, 'istio-system');
    const [f] = check('MM404', `${ambient}${ns('side', 'istio-injection: enabled')}${ns('istio-system', '')}${mesh}`, {
      complete: true,
    });
    expect(f?.messageType).toBe('AllowsNothing');
    expect(f?.message).toContain('namespace app');
    expect(f?.message).not.toContain('side');
  });

  it('dry-run, CUSTOM and AUDIT policies are not sent to ztunnel', () => {
    const dryRun = allowGet.replace('namespace: app}', 'namespace: app, annotations: {istio.io/dry-run: "true"}}');
    expect(types(`${ambient}${deployment('reviews')}${dryRun}`)).toEqual([]);
    const custom = allowGet.replace('action: ALLOW', 'action: CUSTOM\n  provider: {name: ext-authz}');
    expect(types(`${ambient}${deployment('reviews')}${custom}`)).toEqual([]);
  });
});
