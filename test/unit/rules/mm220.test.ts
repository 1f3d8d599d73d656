import { describe, expect, it } from 'vitest';
import { check, find, fixAndRecheck } from '../helpers.js';

const svc = (name: string, ports: string) => `
---
apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: shop}
spec:
  selector: {app: ${name}}
  ports: ${ports}
`;
const vs = (dest: string, extra = '', hosts = '[front]') => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-back, namespace: shop}
spec:
  hosts: ${hosts}
${extra}  http:
  - route: [{destination: ${dest}}]
`;
const front = svc('front', '[{name: http, port: 80}]');
const back1 = svc('back', '[{name: http, port: 8080}]');
const back2 = svc('back', '[{name: http, port: 8080}, {name: http-admin, port: 9090}]');
const summary = (fs: ReturnType<typeof check>) =>
  fs.map((f) => [f.messageType, f.severity, `${f.resource.namespace}/${f.resource.name}`]);

describe('MM220 route-destination-port', () => {
  it('a destination port the Service lacks: error; the fix takes the only port of a single-port Service', () => {
    const yaml = front + back1 + vs('{host: back, port: {number: 9999}}');
    const f = check('MM220', yaml);
    expect(summary(f)).toEqual([['PortNotOnService', 'error', 'shop/to-back']]);
    expect(f[0]?.message).toContain('outbound|9999||back.shop.svc.cluster.local');
    expect(f[0]?.claim).toMatchObject({ kind: 'no-cluster', cluster: 'outbound|9999||back.shop.svc.cluster.local' });
    const { objects, after } = fixAndRecheck('MM220', yaml);
    expect(after).toEqual([]);
    expect(JSON.stringify(find(objects, 'VirtualService', 'to-back').spec)).toContain('"number":8080');
  });

  it('a wrong port to a multi-port Service has no automatic fix', () => {
    const f = check('MM220', front + back2 + vs('{host: back, port: {number: 7000}}'));
    expect(summary(f)).toEqual([['PortNotOnService', 'error', 'shop/to-back']]);
    expect(f[0]?.fix.patches).toEqual([]);
  });

  it('no port to a multi-port Service: error when the route is served on a port the Service lacks (sidecar or Gateway)', () => {
    const f = check('MM220', front + back2 + vs('{host: back}'));
    expect(summary(f)).toEqual([['ListenerPortMissing', 'error', 'shop/to-back']]);
    expect(f[0]?.message).toContain('port 80 of front.shop.svc.cluster.local');
    expect(f[0]?.claim).toMatchObject({
      kind: 'no-cluster',
      cluster: 'outbound|80||back.shop.svc.cluster.local',
      call: { port: 80 },
    });
    const gw = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ingress, namespace: shop}
spec:
  selector: {istio: ingressgateway}
  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: ["*"]}]
`;
    const g = check('MM220', gw + back2 + vs('{host: back}', '  gateways: [ingress]\n', '[shop.example.com]'));
    expect(summary(g)).toEqual([['ListenerPortMissing', 'error', 'shop/to-back']]);
    expect(g[0]?.message).toContain('port 80 of Gateway shop/ingress');
  });

  it('no port to a multi-port Service whose ports the route is served on, or to a single-port one: no finding', () => {
    const back = svc('back', '[{name: http, port: 80}, {name: http-admin, port: 9090}]');
    expect(check('MM220', front + back + vs('{host: back}'))).toEqual([]);
    expect(check('MM220', front + back1 + vs('{host: back}'))).toEqual([]);
    expect(check('MM220', front + back2 + vs('{host: back, port: {number: 9090}}'))).toEqual([]);
    expect(check('MM220', front + vs('{host: unknown, port: {number: 1}}'))).toEqual([]);
    const alias = back1.replace('spec:', 'spec:\n  type: ExternalName\n  externalName: back.other.svc.cluster.local');
    expect(check('MM220', front + alias + vs('{host: back, port: {number: 9999}}'))).toEqual([]);
  });

  it('no port the route is served on is known (wildcard host): info, no claim to check', () => {
    const f = check('MM220', back2 + vs('{host: back}', '', '["*.example.com"]'));
    expect(summary(f)).toEqual([['PortSelectorRequired', 'info', 'shop/to-back']]);
    expect(f[0]?.claim?.kind).toBe('inexpressible');
  });
});
