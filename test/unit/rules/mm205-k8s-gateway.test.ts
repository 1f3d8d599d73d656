import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/rules/types.js';
import { check } from '../helpers.js';

const shape = (fs: Finding[]) =>
  fs.map((f) => [f.rule, f.messageType, f.severity, `${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`]);

/** A gateway.networking.k8s.io Gateway; each listener is `name=hostname` or `name` (no hostname). */
const k8sGateway = (...listeners: string[]) => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: my-gateway, namespace: default}
spec:
  gatewayClassName: istio
  listeners:
${listeners
  .map((l, i) => {
    const [name, hostname] = l.split('=');
    return `  - {name: ${name}, port: ${80 + i}, protocol: HTTP${hostname ? `, hostname: '${hostname}'` : ''}}`;
  })
  .join('\n')}
`;
const vs = (name: string, hosts: string, gateways = '[default/my-gateway]') => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: default}
spec:
  hosts: ${hosts}
  gateways: ${gateways}
  http:
  - route: [{destination: {host: my-service}}]
`;

describe('MM205 with a Gateway API Gateway (istioctl IST0132 vsHostInKubernetesGateway)', () => {
  it('flags a VirtualService whose hosts match no listener hostname, and not one whose host matches', () => {
    const input = k8sGateway('http=example.com') + vs('my-vs', '[example.com]') + vs('mismatch', '[wrong.example.com]');
    const f = check('MM205', input);
    expect(shape(f)).toEqual([['MM205', 'HostNotOnGatewayApiListener', 'warning', 'VirtualService default/mismatch']]);
    expect(f[0]?.message).toContain('wrong.example.com');
    expect(f[0]?.message).toContain('(example.com)');
    expect(f[0]?.claim?.kind).toBe('inexpressible');
  });

  it('a wildcard listener hostname accepts the hosts it covers only', () => {
    const gw = k8sGateway('http=*.example.com');
    expect(check('MM205', gw + vs('in', '[shop.example.com]'))).toEqual([]);
    expect(shape(check('MM205', gw + vs('out', '[shop.example.org]')))).toEqual([
      ['MM205', 'HostNotOnGatewayApiListener', 'warning', 'VirtualService default/out'],
    ]);
  });

  it('a listener without a hostname matches every host', () => {
    expect(check('MM205', k8sGateway('a=example.com', 'any') + vs('x', '[other.example.org]'))).toEqual([]);
  });

  it('an Istio Gateway of the same name is what the reference resolves to, as istioctl does', () => {
    const istio = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: my-gateway, namespace: default}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [other.example.org]}]
`;
    expect(check('MM205', istio + k8sGateway('http=example.com') + vs('x', '[other.example.org]'))).toEqual([]);
  });
});

describe('MM204 with a Gateway API Gateway', () => {
  it('does not call an existing Gateway API Gateway missing', () => {
    const input = k8sGateway('http=example.com') + vs('mismatch', '[wrong.example.com]');
    expect(check('MM204', input, { complete: true })).toEqual([]);
  });

  it('still reports a reference that names neither kind of Gateway', () => {
    const input = k8sGateway('http=example.com') + vs('lost', '[example.com]', '[default/other]');
    expect(shape(check('MM204', input, { complete: true }))).toEqual([
      ['MM204', 'GatewayNotFound', 'error', 'VirtualService default/lost'],
    ]);
    expect(shape(check('MM204', input))).toEqual([
      ['MM204', 'GatewayNotInInput', 'warning', 'VirtualService default/lost'],
    ]);
    expect(check('MM205', input)).toEqual([]);
  });
});
