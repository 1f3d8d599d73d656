import { describe, expect, it } from 'vitest';
import { check, find, fixAndRecheck } from '../helpers.js';

const se = (spec: string, name = 'mysql', ns = 'demo'): string => `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
`;
const mysqlService = `
apiVersion: v1
kind: Service
metadata: {name: mysql, namespace: demo}
spec: {clusterIP: 10.68.120.14, ports: [{port: 3306}]}
`;

describe('MM103 serviceentry-wildcard-listener', () => {
  const tcpNoAddr = se(`  hosts: [mysql.demo]
  location: MESH_INTERNAL
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`);

  it('flags a TCP entry without addresses (seed 003) and fills addresses from the Service it names', () => {
    const yaml = mysqlService + tcpNoAddr;
    const f = check('MM103', yaml);
    expect(f).toHaveLength(1);
    expect(f[0]?.severity).toBe('error');
    expect(f[0]?.message).toContain('0.0.0.0:3306');
    const { objects, after } = fixAndRecheck('MM103', yaml);
    expect(after).toEqual([]);
    expect((find(objects, 'ServiceEntry', 'mysql').spec as { addresses: string[] }).addresses).toEqual(['10.68.120.14']);
  });

  it('does not flag an entry with addresses', () => {
    expect(check('MM103', mysqlService + se(`  hosts: [mysql.demo]
  addresses: [10.68.120.14]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`))).toEqual([]);
  });

  it('flags an unset protocol (sniffing includes a TCP catch-all) but not an HTTP port', () => {
    expect(check('MM103', se(`  hosts: [api.example.com]
  ports: [{name: p, number: 8080}]
  resolution: DNS`))).toHaveLength(1);
    expect(check('MM103', se(`  hosts: [api.example.com]
  ports: [{name: http, number: 80, protocol: HTTP}]
  resolution: DNS`))).toEqual([]);
  });

  it('does not flag a MESH_EXTERNAL TLS entry (SNI match), but warns on a MESH_INTERNAL DNS alias (seed 004), an error on Istio 1.11', () => {
    expect(check('MM103', se(`  hosts: [www.baidu.com]
  location: MESH_EXTERNAL
  ports: [{name: https, number: 443, protocol: TLS}]
  resolution: DNS`))).toEqual([]);
    const alias = `
apiVersion: v1
kind: Service
metadata: {name: traefik, namespace: abc}
spec: {clusterIP: 10.68.33.21, ports: [{port: 443}]}
${se(`  hosts: [traefik.cutom-name]
  location: MESH_INTERNAL
  ports: [{name: https-443, number: 443, protocol: TLS}]
  resolution: DNS
  endpoints: [{address: traefik.abc}]`, 'traefik-cutom-name', 'abc')}`;
    const now = check('MM103', alias);
    expect(now).toHaveLength(1);
    expect(now[0]?.severity).toBe('warning');
    expect(check('MM103', alias, { istioVersion: { major: 1, minor: 11 } })[0]?.severity).toBe('error');
    const { objects, after } = fixAndRecheck('MM103', alias);
    expect(after).toEqual([]);
    expect((find(objects, 'ServiceEntry', 'traefik-cutom-name').spec as { addresses: string[] }).addresses).toEqual(['10.68.33.21']);
  });

  it('uses IP endpoints as /32 addresses', () => {
    const { objects, after } = fixAndRecheck('MM103', se(`  hosts: [db.corp]
  ports: [{name: tcp, number: 5432, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 10.20.0.15}, {address: 10.20.0.16}]`, 'db'));
    expect(after).toEqual([]);
    expect((find(objects, 'ServiceEntry', 'db').spec as { addresses: string[] }).addresses).toEqual(['10.20.0.15/32', '10.20.0.16/32']);
  });

  it('names the other entries sharing the port', () => {
    const f = check('MM103', tcpNoAddr + se(`  hosts: [redis.corp]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`, 'other', 'ops'));
    expect(f).toHaveLength(2);
    expect(f.find((x) => x.resource.name === 'mysql')?.message).toContain('ServiceEntry ops/other');
  });

  it('restricts exportTo to "." when no address can be derived, and says so', () => {
    const yaml = se(`  hosts: [legacy.corp]
  ports: [{name: tcp, number: 6379, protocol: TCP}]
  resolution: DNS`, 'legacy');
    const f = check('MM103', yaml);
    expect(f[0]?.fix.notes?.[0]).toContain('exportTo is restricted');
    const { objects, after } = fixAndRecheck('MM103', yaml);
    expect((find(objects, 'ServiceEntry', 'legacy').spec as { exportTo: string[] }).exportTo).toEqual(['.']);
    expect(after.map((x) => x.severity)).toEqual(['warning']);
  });

  it('does not flag entries that DNS auto-allocation covers', () => {
    expect(check('MM103', tcpNoAddr, { mesh: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } })).toEqual([]);
    expect(check('MM103', tcpNoAddr, { mesh: { proxyMetadata: { ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } })).toHaveLength(1);
  });
});

describe('MM103 and what Istio really gives sidecars (checked against the generator)', () => {
  const entry = (extra = '', labels = ''): string => se(`  hosts: [mysql.demo]
  location: MESH_INTERNAL
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: ${extra || 'DNS'}`).replace('metadata: {name: mysql, namespace: demo}', `metadata: {name: mysql, namespace: demo${labels}}`);
  const dnsCapture = { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } };

  it('with DNS capture on Istio >= 1.25 the entry gets an auto-allocated VIP: no catch-all', () => {
    expect(check('MM103', entry(), { mesh: dnsCapture, istioVersion: { major: 1, minor: 28 } })).toEqual([]);
  });

  it('with DNS capture before 1.25 (no IP auto-allocation by default) the catch-all is real', () => {
    expect(check('MM103', entry(), { mesh: dnsCapture, istioVersion: { major: 1, minor: 24 } })[0]?.severity).toBe('error');
  });

  it('the opt-out label brings the catch-all back, and without DNS capture it is there whatever the version', () => {
    const optOut = entry('', ', labels: {networking.istio.io/enable-autoallocate-ip: "false"}');
    expect(check('MM103', optOut, { mesh: dnsCapture, istioVersion: { major: 1, minor: 28 } })).toHaveLength(1);
    const f = check('MM103', entry(), { istioVersion: { major: 1, minor: 28 } });
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('Without DNS capture');
  });

  it('resolution NONE keeps each connection\'s destination (ORIGINAL_DST): no finding alone, a warning when it shares the port', () => {
    expect(check('MM103', entry('NONE'))).toEqual([]);
    const other = se(`  hosts: [other.demo]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`, 'other');
    const shared = check('MM103', entry('NONE') + other).filter((f) => f.resource.name === 'mysql');
    expect(shared.map((f) => f.severity)).toEqual(['warning']);
    expect(shared[0]?.message).toContain('ORIGINAL_DST');
  });

  it('an unset protocol is sniffed: HTTP still routed by Host, so a warning, not an error', () => {
    const f = check('MM103', se(`  hosts: [api.example.com]
  ports: [{name: p, number: 8080}]
  resolution: DNS`));
    expect(f.map((x) => x.severity)).toEqual(['warning']);
    expect(f[0]?.message).toContain('non-HTTP');
  });
});

describe('MM103 exportTo fallback', () => {
  const noAddress = se(`  hosts: [cache.corp]
  ports: [{name: tcp, number: 6379, protocol: TCP}]
  resolution: DNS`, 'cache', 'ops');
  const consumer = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cache, namespace: shop}
spec: {host: cache.corp, trafficPolicy: {connectionPool: {tcp: {maxConnections: 10}}}}
`;

  it('proposes exportTo "." only (never applied automatically) when no other namespace names the entry', () => {
    const f = check('MM103', noAddress);
    expect(f[0]?.fix.proposeOnly).toBe(true);
    expect(f[0]?.fix.patches[0]?.patch).toEqual([{ op: 'add', path: '/spec/exportTo', value: ['.'] }]);
  });

  it('does not restrict exportTo when a consumer in another namespace would lose the entry, and names it', () => {
    const f = check('MM103', noAddress + consumer);
    expect(f[0]?.fix.patches).toEqual([]);
    expect(f[0]?.fix.notes?.join(' ')).toContain('DestinationRule shop/cache');
  });
});

describe('MM103 and a sniffed port that HTTP services share', () => {
  it('does not flag an unset protocol on a port where a Service declares HTTP: non-HTTP bytes go to PassthroughCluster there', () => {
    const web = `
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {clusterIP: 10.96.0.9, ports: [{name: http, port: 80}]}
`;
    const entry = se(`  hosts: [v2.example.com]
  location: MESH_EXTERNAL
  ports: [{name: http, number: 80}]
  resolution: STATIC
  endpoints: [{address: 1.2.3.4}]`, 'external-service-http', 'default');
    expect(check('MM103', entry)).toHaveLength(1);
    expect(check('MM103', web + entry)).toEqual([]);
  });
});
