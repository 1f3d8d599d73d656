import { describe, expect, it } from 'vitest';
import { check } from '../helpers.js';

const gatewayPods = `
apiVersion: v1
kind: Pod
metadata: {name: ingress-1, namespace: istio-system, labels: {istio: ingressgateway}}
spec: {containers: [{name: istio-proxy}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['shop.example.com']}]
`;
const vs = (gateways: string, match = `headers: {'@request.auth.claims.group': {exact: admin}}`) => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: ['shop.example.com']
  gateways: ${gateways}
  http:
  - match: [{uri: {prefix: /admin}, ${match}}]
    route: [{destination: {host: admin}}]
  - route: [{destination: {host: web}}]
`;
const ra = (namespace: string, rest: string) => `
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata: {name: jwt, namespace: ${namespace}}
spec:
  ${rest}
`;
const RULES = `jwtRules: [{issuer: 'https://issuer.example.com', jwksUri: 'https://issuer.example.com/jwks'}]`;
const shape = (fs: ReturnType<typeof check>) =>
  fs.map((f) => [f.rule, f.messageType, f.severity, `${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`]);

describe('MM222 JWT claim route without RequestAuthentication (istioctl IST0149)', () => {
  it('no RequestAuthentication: an error for a complete snapshot, a warning offline, no automatic fix', () => {
    const complete = check('MM222', gatewayPods + vs('[public]'), { complete: true });
    expect(shape(complete)).toEqual([['MM222', 'NoRequestAuthentication', 'error', 'VirtualService shop/web']]);
    expect(complete[0]?.message).toContain('@request.auth.claims.group');
    expect(complete[0]?.message).toContain('shop/public');
    expect(complete[0]?.message).toContain('ingress-1');
    expect(complete[0]?.fix).toMatchObject({ patches: [], create: [] });
    expect(complete[0]?.fix.notes?.[0]).toContain('security decision');
    expect(complete[0]?.claim).toMatchObject({ kind: 'inexpressible' });
    expect(shape(check('MM222', gatewayPods + vs('[public]')))).toEqual([
      ['MM222', 'NoRequestAuthenticationInInput', 'warning', 'VirtualService shop/web'],
    ]);
  });

  it("a RequestAuthentication in another namespace (not the pods' nor the root) does not apply", () => {
    const f = check('MM222', gatewayPods + vs('[public]') + ra('shop', RULES), { complete: true });
    expect(shape(f)).toEqual([['MM222', 'NoRequestAuthentication', 'error', 'VirtualService shop/web']]);
  });

  it('a RequestAuthentication whose selector the gateway pods do not match does not apply', () => {
    const f = check(
      'MM222',
      gatewayPods + vs('[public]') + ra('istio-system', `selector: {matchLabels: {app: other}}\n  ${RULES}`),
      {
        complete: true,
      },
    );
    expect(shape(f)).toEqual([['MM222', 'NoRequestAuthentication', 'error', 'VirtualService shop/web']]);
  });

  it('a RequestAuthentication without jwtRules adds no jwt_authn filter, nor one with a targetRef on an Istio gateway pod', () => {
    expect(
      shape(
        check(
          'MM222',
          gatewayPods + vs('[public]') + ra('istio-system', 'selector: {matchLabels: {istio: ingressgateway}}'),
          { complete: true },
        ),
      ),
    ).toHaveLength(1);
    const withRef = ra(
      'istio-system',
      `targetRef: {group: gateway.networking.k8s.io, kind: Gateway, name: public}\n  ${RULES}`,
    );
    expect(shape(check('MM222', gatewayPods + vs('[public]') + withRef, { complete: true }))).toHaveLength(1);
  });

  it('a RequestAuthentication with jwtRules that selects the gateway pods (pod or root namespace): no finding', () => {
    const selected = ra('istio-system', `selector: {matchLabels: {istio: ingressgateway}}\n  ${RULES}`);
    expect(check('MM222', gatewayPods + vs('[public]') + selected, { complete: true })).toEqual([]);
    // No selector: namespace-wide in the pods' namespace (here also the root namespace).
    expect(check('MM222', gatewayPods + vs('[shop/public]') + ra('istio-system', RULES), { complete: true })).toEqual(
      [],
    );
    // The root namespace from mesh config applies to pods of every namespace.
    const pods = gatewayPods.replace('namespace: istio-system', 'namespace: ingress');
    expect(
      check('MM222', pods + vs('[public]') + ra('istio-config', RULES), {
        complete: true,
        mesh: { rootNamespace: 'istio-config' },
      }),
    ).toEqual([]);
    expect(shape(check('MM222', pods + vs('[public]') + ra('istio-config', RULES), { complete: true }))).toHaveLength(
      1,
    );
  });

  it('a Gateway API gateway pod takes a targetRef to its Gateway in its namespace', () => {
    const pods = `
apiVersion: v1
kind: Pod
metadata: {name: gw-1, namespace: shop, labels: {gateway.networking.k8s.io/gateway-name: edge, app: edge}}
spec: {containers: [{name: istio-proxy}]}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {app: edge}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['shop.example.com']}]
`;
    const ref = (name: string) =>
      `targetRefs: [{group: gateway.networking.k8s.io, kind: Gateway, name: ${name}}]\n  ${RULES}`;
    expect(check('MM222', pods + vs('[public]') + ra('shop', ref('edge')), { complete: true })).toEqual([]);
    expect(shape(check('MM222', pods + vs('[public]') + ra('shop', ref('other')), { complete: true }))).toHaveLength(1);
  });

  it('offline input without gateway pods: judged against pods with the selector labels, never an error', () => {
    const gateway = gatewayPods.slice(gatewayPods.indexOf('apiVersion: networking.istio.io/v1'));
    const f = check('MM222', gateway + vs('[public]'));
    expect(shape(f)).toEqual([['MM222', 'NoRequestAuthenticationInInput', 'warning', 'VirtualService shop/web']]);
    expect(f[0]?.message).toContain('istio=ingressgateway');
    // A policy in the input that would select such pods, in whatever namespace: the pods may run there.
    const selected = ra('ingress', `selector: {matchLabels: {istio: ingressgateway}}\n  ${RULES}`);
    expect(check('MM222', gateway + vs('[public]') + selected)).toEqual([]);
    const other = ra('ingress', `selector: {matchLabels: {istio: eastwest}}\n  ${RULES}`);
    expect(shape(check('MM222', gateway + vs('[public]') + other))).toHaveLength(1);
    // A complete snapshot without the gateway's pods is MM211's finding.
    expect(check('MM222', gateway + vs('[public]'), { complete: true })).toEqual([]);
  });

  it('a withoutHeaders claim match is reported too, with its always-matching effect', () => {
    const f = check(
      'MM222',
      gatewayPods + vs('[public]', `withoutHeaders: {'@request.auth.claims[group]': {exact: admin}}`),
      { complete: true },
    );
    expect(shape(f)).toEqual([['MM222', 'NoRequestAuthentication', 'error', 'VirtualService shop/web']]);
    expect(f[0]?.message).toContain('always matches');
  });

  it('claim keys on mesh bindings, plain headers and malformed claim keys are not judged (as istioctl)', () => {
    // Istio validation refuses claim routes without a gateway; istioctl's analyzer skips `mesh`.
    expect(check('MM222', gatewayPods + vs('[mesh]'), { complete: true })).toEqual([]);
    expect(
      check('MM222', gatewayPods + vs('[public]', `headers: {x-group: {exact: admin}}`), { complete: true }),
    ).toEqual([]);
    for (const key of ['@request.auth.claims', '@request.auth.claims.', '@request.auth.claims[]']) {
      expect(
        check('MM222', gatewayPods + vs('[public]', `headers: {'${key}': {exact: a}}`), { complete: true }),
        key,
      ).toEqual([]);
    }
    // A missing Gateway is MM204's, one that selects no pod MM211's.
    expect(check('MM222', gatewayPods + vs('[private]'), { complete: true })).toEqual([]);
    const noPods = gatewayPods.replace('istio: ingressgateway}}', 'istio: other}}');
    expect(check('MM222', noPods + vs('[public]'), { complete: true })).toEqual([]);
  });
});
