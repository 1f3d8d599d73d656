import { describe, expect, it } from 'vitest';
import { check } from '../helpers.js';

const mesh = `
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: public, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ['*']}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {selector: {app: web}, ports: [{name: http, port: 80}]}
`;
const vs = (matchGateways: string) => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec:
  hosts: ['*']
  gateways: [public, mesh]
  http:
  - match: [{uri: {prefix: /static}}]
    route: [{destination: {host: web}}]
  - match: [{uri: {prefix: /api}}, {gateways: ${matchGateways}}]
    route: [{destination: {host: web}}]
`;
const shape = (fs: ReturnType<typeof check>) =>
  fs.map((f) => [f.rule, f.messageType, f.severity, `${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`]);

describe('MM204 match gateways (Kiali KIA1102)', () => {
  it('a match that names only missing gateways never applies: an error when the snapshot is complete, a warning offline', () => {
    const complete = check('MM204', mesh + vs('[shop/private]'), { complete: true });
    expect(shape(complete)).toEqual([['MM204', 'MatchGatewayNotFound', 'error', 'VirtualService shop/web']]);
    expect(complete[0]?.message).toContain('http[1].match[1]');
    expect(complete[0]?.message).toContain('shop/private');
    expect(complete[0]?.fix).toMatchObject({ patches: [], create: [] });
    expect(shape(check('MM204', mesh + vs('[istio-system/private]')))).toEqual([
      ['MM204', 'MatchGatewayNotInInput', 'warning', 'VirtualService shop/web'],
    ]);
  });

  it('a missing name beside gateways that exist is a warning: the match still applies there', () => {
    const f = check('MM204', mesh + vs('[public, private]'), { complete: true });
    expect(shape(f)).toEqual([['MM204', 'MatchNamesMissingGateway', 'warning', 'VirtualService shop/web']]);
    expect(f[0]?.message).toContain('still applies on public');
  });

  it('match gateways that exist, mesh and legacy names are fine', () => {
    for (const g of ['[public]', '[mesh]', '[shop/public]', '[public.shop]', '[mesh, public]']) {
      expect(check('MM204', mesh + vs(g), { complete: true }), g).toEqual([]);
    }
  });
});
