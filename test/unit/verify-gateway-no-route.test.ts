import { describe, expect, it } from 'vitest';
import type { EnvoyClaim } from '../../src/rules/claims.js';
import { claimQueries, judgeClaim } from '../../src/verify/claim-checks.js';
import type { QueryResult } from '../../src/verify/oracle-protocol.js';

const claim: EnvoyClaim = {
  kind: 'gateway-no-route',
  client: { type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
  call: { port: 80, host: 'shop.example.org' },
};
const judge = (call: QueryResult['call']) =>
  judgeClaim(claim, new Map([['f0/client', { id: 'f0/client', ...(call ? { call } : {}) }]]), 'f0');

describe('verify: the gateway-no-route claim (MM205)', () => {
  it('asks for the request at a gateway pod, in gateway mode', () => {
    expect(claimQueries(claim, 'f0')).toEqual([
      {
        id: 'f0/client',
        proxy: { type: 'router', namespace: 'istio-system', labels: { istio: 'ingressgateway' } },
        call: { port: 80, host: 'shop.example.org', protocol: 'http', mode: 'gateway' },
      },
    ]);
  });

  it('is confirmed when no listener, filter chain, virtual host or route takes the request', () => {
    for (const error of [
      'no listener matched',
      'no filter chains matched',
      'no virtual host matched',
      'no route matched',
    ]) {
      const j = judge({ listener: '0.0.0.0_80', error });
      expect(j.effect, error).toBe(true);
      expect(j.evidence).toContain(error);
    }
    expect(judge({ listener: '0.0.0.0_80', routeAction: { directResponseStatus: 404 } }).effect).toBe(true);
  });

  it('is refuted when the request reaches a cluster', () => {
    const j = judge({
      listener: '0.0.0.0_80',
      routeConfig: 'http.80',
      virtualHost: 'shop.example.org:80',
      cluster: 'outbound|80||web.shop.svc.cluster.local',
    });
    expect(j.effect).toBe(false);
    expect(j.evidence).toContain('outbound|80||web.shop.svc.cluster.local');
  });
});

describe('verify: the gateway-server-missing claim (MM206)', () => {
  const missing: EnvoyClaim = {
    kind: 'gateway-server-missing',
    client: { type: 'router', namespace: 'shop', labels: { istio: 'ingressgateway' } },
    call: { port: 443, host: 'a.example.com', tls: { sni: 'a.example.com' } },
    routeConfig: 'https.443.https-two.two.shop',
  };
  const judgeMissing = (call: QueryResult['call']) =>
    judgeClaim(missing, new Map([['f0/client', { id: 'f0/client', ...(call ? { call } : {}) }]]), 'f0');

  it('asks for the request with the server host as SNI, in gateway mode', () => {
    expect(claimQueries(missing, 'f0')[0]?.call).toEqual({
      port: 443,
      host: 'a.example.com',
      protocol: 'http',
      tls: 'tls',
      sni: 'a.example.com',
      mode: 'gateway',
    });
  });

  it("is confirmed when the request uses another server's route config or none, refuted when it uses the dropped one's", () => {
    expect(
      judgeMissing({
        listener: '0.0.0.0_443',
        routeConfig: 'https.443.https-one.one.shop',
        cluster: 'outbound|80||web.shop.svc.cluster.local',
      }).effect,
    ).toBe(true);
    expect(judgeMissing({ listener: '0.0.0.0_443', cluster: 'outbound|80||web.shop.svc.cluster.local' }).effect).toBe(
      true,
    );
    const refuted = judgeMissing({
      listener: '0.0.0.0_443',
      routeConfig: 'https.443.https-two.two.shop',
      cluster: 'outbound|80||web.shop.svc.cluster.local',
    });
    expect(refuted.effect).toBe(false);
    expect(refuted.evidence).toContain('route config https.443.https-two.two.shop');
  });
});
