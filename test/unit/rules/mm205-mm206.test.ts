import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/rules/types.js';
import { check } from '../helpers.js';

const types = (fs: Finding[]) =>
  fs.map((f) => ({
    rule: f.rule,
    messageType: f.messageType,
    severity: f.severity,
    resource: `${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name}`,
  }));

const gateway = (name: string, hosts: string, extra = '') => `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: istio-system${extra}}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ${hosts}
`;
const vs = (name: string, ns: string, hosts: string, gateways: string) => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: ${hosts}
  gateways: ${gateways}
  http:
  - route: [{destination: {host: web.shop.svc.cluster.local}}]
`;

describe('MM205 virtualservice-host-not-on-gateway', () => {
  it('flags hosts that no server of the bound Gateway accepts, with a no-route claim at the gateway', () => {
    const f = check(
      'MM205',
      gateway('public', '[shop.example.com]') + vs('shop', 'shop', '[shop.example.org]', '[istio-system/public]'),
    );
    expect(types(f)).toEqual([
      { rule: 'MM205', messageType: 'HostNotOnAnyGateway', severity: 'error', resource: 'VirtualService shop/shop' },
    ]);
    expect(f[0]?.message).toContain('shop.example.org');
    expect(f[0]?.message).toContain('The servers accept shop.example.com');
    expect(f[0]?.fix).toMatchObject({ patches: [], create: [] });
    expect(f[0]?.claim).toEqual({
      kind: 'gateway-no-route',
      client: { type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
      call: { port: 80, host: 'shop.example.org' },
    });
  });

  it('accepts exact hosts, wildcards either way, */host and */*, and short names resolved as Istio does', () => {
    const cases: [string, string][] = [
      ['[shop.example.com]', '[shop.example.com]'],
      ["['*.example.com']", '[shop.example.com]'],
      ['[shop.example.com]', "['*.example.com']"],
      ["['*']", '[shop.example.com]'],
      ["['*/shop.example.com']", '[shop.example.com]'],
      ["['*/*']", '[shop.example.com]'],
      ["['shop/shop.example.com']", '[shop.example.com]'],
      ['[web.shop.svc.cluster.local]', '[web]'],
    ];
    for (const [server, host] of cases)
      expect(
        check('MM205', gateway('public', server) + vs('shop', 'shop', host, '[istio-system/public]')),
        `${server} / ${host}`,
      ).toEqual([]);
  });

  it('reads the namespace part of server hosts: ./host and ns/host bind only that namespace', () => {
    const own = gateway('public', "['./shop.example.com']");
    expect(
      types(check('MM205', own + vs('shop', 'shop', '[shop.example.com]', '[istio-system/public]'))).map(
        (t) => t.messageType,
      ),
    ).toEqual(['HostNotOnAnyGateway']);
    expect(check('MM205', own + vs('shop', 'istio-system', '[shop.example.com]', '[public]'))).toEqual([]);
    const other = gateway('public', "['billing/shop.example.com']");
    expect(
      types(check('MM205', other + vs('shop', 'shop', '[shop.example.com]', '[istio-system/public]'))).map(
        (t) => t.messageType,
      ),
    ).toEqual(['HostNotOnAnyGateway']);
  });

  it('says the routes are unused, not 404, when another VirtualService serves the host on the same gateway pods', () => {
    const yaml =
      gateway('public', "['./shop.example.com']") +
      gateway('open', '[shop.example.com]') +
      vs('shop', 'shop', '[shop.example.com]', '[istio-system/public]') +
      vs('owner', 'istio-system', '[shop.example.com]', '[open]');
    const f = check('MM205', yaml);
    expect(types(f)).toEqual([
      { rule: 'MM205', messageType: 'HostServedByOther', severity: 'warning', resource: 'VirtualService shop/shop' },
    ]);
    expect(f[0]?.message).toContain('VirtualService istio-system/owner');
    expect(f[0]?.claim?.kind).toBe('inexpressible');
  });

  it('warns about a bound Gateway that serves none of the hosts when another bound Gateway serves them', () => {
    const yaml =
      gateway('public', '[a.example.com]') +
      gateway('internal', '[b.example.com]') +
      vs('shop', 'shop', '[a.example.com]', '[istio-system/public, istio-system/internal]');
    const f = check('MM205', yaml);
    expect(types(f)).toEqual([
      { rule: 'MM205', messageType: 'GatewayServesNoHost', severity: 'warning', resource: 'VirtualService shop/shop' },
    ]);
    expect(f[0]?.related.map((r) => r.name)).toEqual(['internal']);
    expect(f[0]?.claim?.kind).toBe('inexpressible');
    // each Gateway serves one of the hosts: nothing to say
    expect(
      check(
        'MM205',
        gateway('public', '[a.example.com]') +
          gateway('internal', '[b.example.com]') +
          vs('shop', 'shop', '[a.example.com, b.example.com]', '[istio-system/public, istio-system/internal]'),
      ),
    ).toEqual([]);
  });

  it('leaves hosts alone that mesh, a missing Gateway (offline) or a Gateway API Gateway may serve; a Gateway without servers serves nothing', () => {
    const gw = gateway('public', '[a.example.com]');
    expect(
      check('MM205', gw + vs('shop', 'shop', '[reviews]', '[istio-system/public, mesh]')).map((f) => f.messageType),
    ).toEqual(['GatewayServesNoHost']);
    expect(
      check('MM205', gw + vs('shop', 'shop', '[b.example.com]', '[istio-system/public, istio-system/elsewhere]')).map(
        (f) => f.messageType,
      ),
    ).toEqual(['GatewayServesNoHost']);
    expect(
      check('MM205', gw + vs('shop', 'shop', '[b.example.com]', '[istio-system/public, istio-system/elsewhere]'), {
        complete: true,
      }).map((f) => f.messageType),
    ).toEqual(['HostNotOnAnyGateway']);
    // only a missing Gateway: MM204's finding, not this rule's
    expect(
      check('MM205', vs('shop', 'shop', '[b.example.com]', '[istio-system/elsewhere]'), { complete: true }),
    ).toEqual([]);
    const empty = `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: empty, namespace: shop}
spec: {selector: {istio: ingressgateway}}
`;
    const f = check('MM205', empty + vs('shop', 'shop', "['*']", '[empty]'));
    expect(types(f).map((t) => t.messageType)).toEqual(['HostNotOnAnyGateway']);
    expect(f[0]?.message).toContain('nothing (it has no server');
  });
});

const gw2 = (name: string, ns: string, selector: string, servers: string, created?: string) => `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}${created ? `, creationTimestamp: "${created}"` : ''}}
spec:
  selector: ${selector}
  servers: ${servers}
`;
const http80 = '[{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com]}]';
const tcp80 = '[{port: {number: 80, name: tcp, protocol: TCP}, hosts: [a.example.com]}]';
const https = (host: string, cred: string) =>
  `[{port: {number: 443, name: https-${cred}, protocol: HTTPS}, hosts: [${host}], tls: {mode: SIMPLE, credentialName: ${cred}}}]`;
const ingress = '{istio: ingressgateway}';

describe('MM206 conflicting-gateway-servers', () => {
  it('flags the younger Gateway whose server Istio drops, and warns the older one', () => {
    const yaml =
      gw2('web', 'shop', ingress, http80, '2025-01-01T00:00:00Z') +
      gw2('raw', 'shop', ingress, tcp80, '2025-02-01T00:00:00Z');
    const f = check('MM206', yaml);
    expect(types(f)).toEqual(
      [
        { rule: 'MM206', messageType: 'ServerWins', severity: 'warning', resource: 'Gateway shop/web' },
        { rule: 'MM206', messageType: 'ServerDropped', severity: 'error', resource: 'Gateway shop/raw' },
      ].sort((a, b) => (a.severity < b.severity ? -1 : 1)),
    );
    const dropped = f.find((x) => x.messageType === 'ServerDropped');
    expect(dropped?.message).toContain('port 80 (TCP, hosts a.example.com)');
    expect(dropped?.related.map((r) => r.name)).toEqual(['web']);
    expect(dropped?.fix).toMatchObject({ patches: [], create: [] });
    // a TCP server has no route config to tell it apart: the dropped HTTP server's http.80 is what the claim checks
    expect(dropped?.claim).toEqual({ kind: 'inexpressible', reason: expect.stringContaining('TCP') });
    const reversed = check(
      'MM206',
      gw2('web', 'shop', ingress, http80, '2025-02-01T00:00:00Z') +
        gw2('raw', 'shop', ingress, tcp80, '2025-01-01T00:00:00Z'),
    );
    expect(reversed.find((x) => x.messageType === 'ServerDropped')?.claim).toEqual({
      kind: 'gateway-server-missing',
      client: { type: 'router', namespace: 'shop', labels: { istio: 'ingressgateway' } },
      call: { port: 80, host: 'a.example.com' },
      routeConfig: 'http.80',
    });
  });

  it('with equal creation times Istio orders by name, then namespace', () => {
    const t = '2025-01-01T00:00:00Z';
    const f = check('MM206', gw2('b-web', 'shop', ingress, http80, t) + gw2('a-raw', 'shop', ingress, tcp80, t));
    expect(types(f).map((x) => [x.messageType, x.resource])).toEqual([
      ['ServerDropped', 'Gateway shop/b-web'],
      ['ServerWins', 'Gateway shop/a-raw'],
    ]);
  });

  it('without creation times, says one of the two is dropped', () => {
    const f = check('MM206', gw2('web', 'shop', ingress, http80) + gw2('raw', 'shop', ingress, tcp80));
    expect(types(f).map((t) => [t.messageType, t.severity, t.resource])).toEqual([
      ['ServersConflict', 'error', 'Gateway shop/raw'],
      ['ServersConflict', 'error', 'Gateway shop/web'],
    ]);
  });

  it('two TCP servers cannot share a port whatever their hosts; two HTTP servers merge', () => {
    const other = '[{port: {number: 80, name: tcp, protocol: TCP}, hosts: [b.example.com]}]';
    expect(
      check('MM206', gw2('a', 'shop', ingress, tcp80) + gw2('b', 'shop', ingress, other)).map((f) => f.messageType),
    ).toEqual(['ServersConflict', 'ServersConflict']);
    const http80b = '[{port: {number: 80, name: http, protocol: HTTP2}, hosts: [a.example.com]}]';
    expect(check('MM206', gw2('a', 'shop', ingress, http80) + gw2('b', 'shop', ingress, http80b))).toEqual([]);
  });

  it('TLS servers conflict only on a repeated host', () => {
    expect(
      check(
        'MM206',
        gw2('a', 'shop', ingress, https('a.example.com', 'a')) + gw2('b', 'shop', ingress, https('a.example.com', 'b')),
      ).map((f) => f.messageType),
    ).toEqual(['ServersConflict', 'ServersConflict']);
    expect(
      check(
        'MM206',
        gw2('a', 'shop', ingress, https('a.example.com', 'a')) + gw2('b', 'shop', ingress, https('b.example.com', 'b')),
      ),
    ).toEqual([]);
  });

  it('different ports, different gateway pods and servers without a port do not conflict', () => {
    const tcp443 = '[{port: {number: 443, name: tcp, protocol: TCP}, hosts: [a.example.com]}]';
    expect(check('MM206', gw2('a', 'shop', ingress, http80) + gw2('b', 'shop', ingress, tcp443))).toEqual([]);
    expect(check('MM206', gw2('a', 'shop', ingress, http80) + gw2('b', 'shop', '{istio: internal}', tcp80))).toEqual(
      [],
    );
    expect(
      check(
        'MM206',
        gw2('a', 'shop', ingress, '[{hosts: [a.example.com]}]') +
          gw2('b', 'shop', ingress, '[{hosts: [a.example.com]}]'),
      ),
    ).toEqual([]);
  });

  it('nested selectors conflict for sure when a pod carries both, possibly otherwise', () => {
    const nested =
      gw2('web', 'shop', ingress, http80) + gw2('raw', 'shop', '{istio: ingressgateway, type: internal}', tcp80);
    expect(check('MM206', nested).map((f) => [f.messageType, f.severity])).toEqual([
      ['MayConflict', 'warning'],
      ['MayConflict', 'warning'],
    ]);
    const pod = `
---
apiVersion: v1
kind: Pod
metadata: {name: internal-gw, namespace: istio-system, labels: {istio: ingressgateway, type: internal}}
spec: {containers: [{name: istio-proxy}]}
`;
    expect(check('MM206', nested + pod).map((f) => f.messageType)).toEqual(['ServersConflict', 'ServersConflict']);
  });
});
