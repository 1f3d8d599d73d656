import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/rules/types.js';
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

const types = (fs: Finding[]): { rule: string; messageType: string; severity: string; resource: object }[] =>
  fs.map((f) => ({
    rule: f.rule,
    messageType: f.messageType,
    severity: f.severity,
    resource: { kind: f.resource.kind, namespace: f.resource.namespace, name: f.resource.name },
  }));
const entryRef = (name: string, namespace: string): object => ({ kind: 'ServiceEntry', namespace, name });
const on = (fs: Finding[], name: string): Finding[] => fs.filter((f) => f.resource.name === name);
const dnsCapture = { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true' } };

describe('MM103 serviceentry-wildcard-listener', () => {
  const tcpNoAddr = se(`  hosts: [mysql.demo]
  location: MESH_INTERNAL
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`);

  it('reports a catch-all listener for a TCP entry without addresses (seed 003) and fills addresses from the Service it names', () => {
    const yaml = mysqlService + tcpNoAddr;
    const f = check('MM103', yaml);
    expect(types(f)).toEqual([
      { rule: 'MM103', messageType: 'CatchAllListener', severity: 'error', resource: entryRef('mysql', 'demo') },
    ]);
    expect(f[0]?.message).toContain('ServiceEntry demo/mysql');
    expect(f[0]?.message).toContain('0.0.0.0:3306');
    expect(f[0]?.related.map((r) => `${r.kind}/${r.name}`)).toEqual(['Service/mysql']);
    const { objects, after } = fixAndRecheck('MM103', yaml);
    expect(after).toEqual([]);
    expect((find(objects, 'ServiceEntry', 'mysql').spec as { addresses: string[] }).addresses).toEqual([
      '10.68.120.14',
    ]);
  });

  it('does not flag an entry with addresses', () => {
    expect(
      check(
        'MM103',
        mysqlService +
          se(`  hosts: [mysql.demo]
  addresses: [10.68.120.14]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`),
      ),
    ).toEqual([]);
  });

  it('reports an unset protocol as a sniffed catch-all (a warning) but not an HTTP port', () => {
    const f = check(
      'MM103',
      se(
        `  hosts: [api.example.com]
  ports: [{name: p, number: 8080}]
  resolution: DNS`,
        'api',
      ),
    );
    expect(types(f)).toEqual([
      { rule: 'MM103', messageType: 'SniffedCatchAll', severity: 'warning', resource: entryRef('api', 'demo') },
    ]);
    expect(f[0]?.message).toContain('ServiceEntry demo/api');
    expect(f[0]?.message).toContain('non-HTTP');
    expect(
      check(
        'MM103',
        se(`  hosts: [api.example.com]
  ports: [{name: http, number: 80, protocol: HTTP}]
  resolution: DNS`),
      ),
    ).toEqual([]);
  });

  it('uses IP endpoints as /32 addresses', () => {
    const { objects, after } = fixAndRecheck(
      'MM103',
      se(
        `  hosts: [db.corp]
  ports: [{name: tcp, number: 5432, protocol: TCP}]
  resolution: STATIC
  endpoints: [{address: 10.20.0.15}, {address: 10.20.0.16}]`,
        'db',
      ),
    );
    expect(after).toEqual([]);
    expect((find(objects, 'ServiceEntry', 'db').spec as { addresses: string[] }).addresses).toEqual([
      '10.20.0.15/32',
      '10.20.0.16/32',
    ]);
  });

  it('does not flag entries that DNS auto-allocation covers', () => {
    expect(
      check('MM103', tcpNoAddr, {
        mesh: { proxyMetadata: { ISTIO_META_DNS_CAPTURE: 'true', ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } },
      }),
    ).toEqual([]);
    expect(
      check('MM103', tcpNoAddr, { mesh: { proxyMetadata: { ISTIO_META_DNS_AUTO_ALLOCATE: 'true' } } }),
    ).toHaveLength(1);
  });

  it('does not flag an entry exported to no namespace (exportTo "~"): no sidecar gets its listener', () => {
    expect(
      check(
        'MM103',
        se(`  hosts: [mysql.demo]
  exportTo: ["~"]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`),
      ),
    ).toEqual([]);
  });
});

describe('MM103 and entries that share a port', () => {
  const mysql = se(`  hosts: [mysql.demo]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`);
  const other = (exportTo = ''): string =>
    se(
      `  hosts: [redis.corp]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS${exportTo ? `\n  exportTo: ${exportTo}` : ''}`,
      'other',
      'ops',
    );

  it('reports the shadowing and names the other entries', () => {
    const f = check('MM103', mysql + other());
    expect(types(on(f, 'mysql'))).toEqual([
      { rule: 'MM103', messageType: 'CatchAllShared', severity: 'error', resource: entryRef('mysql', 'demo') },
    ]);
    expect(on(f, 'mysql')[0]?.message).toContain('ServiceEntry ops/other');
    expect(on(f, 'mysql')[0]?.related.map((r) => `${r.namespace}/${r.name}`)).toEqual(['ops/other']);
    expect(types(on(f, 'other')).map((t) => t.messageType)).toEqual(['CatchAllShared']);
  });

  it('does not count an entry no sidecar sees together with this one (each exported to its own namespace only)', () => {
    const own = se(`  hosts: [mysql.demo]
  exportTo: ["."]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`);
    const f = check('MM103', own + other('["."]'));
    expect(types(on(f, 'mysql')).map((t) => [t.messageType, t.severity])).toEqual([['CatchAllContained', 'warning']]);
    expect(on(f, 'mysql')[0]?.related).toEqual([]);
    expect(types(check('MM103', own + other('[demo]'))).map((t) => t.messageType)).toEqual([
      'CatchAllShared',
      'CatchAllShared',
    ]);
  });

  it('does not count an entry that gets an auto-allocated address', () => {
    const optOut = se(`  hosts: [mysql.demo]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`).replace(
      'namespace: demo}',
      'namespace: demo, labels: {networking.istio.io/enable-autoallocate-ip: "false"}}',
    );
    const f = check('MM103', optOut + other(), { mesh: dnsCapture, istioVersion: { major: 1, minor: 28 } });
    expect(types(f).map((t) => [t.resource, t.messageType])).toEqual([[entryRef('mysql', 'demo'), 'CatchAllListener']]);
    expect(f[0]?.message).toContain('networking.istio.io/enable-autoallocate-ip');
  });

  it('a sniffed entry sharing the port is a warning that names the other entries', () => {
    const sniffed = se(
      `  hosts: [api.example.com]
  ports: [{name: p, number: 3306}]
  resolution: DNS`,
      'api',
    );
    const f = on(check('MM103', sniffed + other()), 'api');
    expect(types(f)).toEqual([
      { rule: 'MM103', messageType: 'SniffedShared', severity: 'warning', resource: entryRef('api', 'demo') },
    ]);
    expect(f[0]?.message).toContain('ServiceEntry ops/other');
  });
});

describe('MM103 TLS aliases (seed 004)', () => {
  const alias = `
apiVersion: v1
kind: Service
metadata: {name: traefik, namespace: abc}
spec: {clusterIP: 10.68.33.21, ports: [{port: 443}]}
${se(
  `  hosts: [traefik.cutom-name]
  location: MESH_INTERNAL
  ports: [{name: https-443, number: 443, protocol: TLS}]
  resolution: DNS
  endpoints: [{address: traefik.abc}]`,
  'traefik-cutom-name',
  'abc',
)}`;

  it('does not flag a MESH_EXTERNAL TLS entry (SNI match)', () => {
    expect(
      check(
        'MM103',
        se(`  hosts: [www.baidu.com]
  location: MESH_EXTERNAL
  ports: [{name: https, number: 443, protocol: TLS}]
  resolution: DNS`),
      ),
    ).toEqual([]);
  });

  it('is an error on Istio 1.11, where the TLS port had a catch-all filter chain', () => {
    const f = check('MM103', alias, { istioVersion: { major: 1, minor: 11 } });
    expect(types(f)).toEqual([
      {
        rule: 'MM103',
        messageType: 'TlsAliasCatchAll',
        severity: 'error',
        resource: entryRef('traefik-cutom-name', 'abc'),
      },
    ]);
    expect(f[0]?.message).toContain('ServiceEntry abc/traefik-cutom-name');
    expect(f[0]?.message).toContain('0.0.0.0 443 ALL');
  });

  it('is info (hygiene), not a warning, from 1.12 on: the filter chain matches on SNI, and the fix still gives it an address', () => {
    const f = check('MM103', alias);
    expect(types(f)).toEqual([
      {
        rule: 'MM103',
        messageType: 'TlsAliasNoAddress',
        severity: 'info',
        resource: entryRef('traefik-cutom-name', 'abc'),
      },
    ]);
    expect(f[0]?.message).toContain('ServiceEntry abc/traefik-cutom-name');
    expect(f[0]?.related.map((r) => `${r.kind}/${r.namespace}/${r.name}`)).toEqual(['Service/abc/traefik']);
    const { objects, after } = fixAndRecheck('MM103', alias);
    expect(after).toEqual([]);
    expect((find(objects, 'ServiceEntry', 'traefik-cutom-name').spec as { addresses: string[] }).addresses).toEqual([
      '10.68.33.21',
    ]);
  });
});

describe('MM103 and what Istio really gives sidecars (checked against the generator)', () => {
  const entry = (extra = '', labels = ''): string =>
    se(`  hosts: [mysql.demo]
  location: MESH_INTERNAL
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: ${extra || 'DNS'}`).replace(
      'metadata: {name: mysql, namespace: demo}',
      `metadata: {name: mysql, namespace: demo${labels}}`,
    );

  it('with DNS capture on Istio >= 1.25 the entry gets an auto-allocated VIP: no catch-all', () => {
    expect(check('MM103', entry(), { mesh: dnsCapture, istioVersion: { major: 1, minor: 28 } })).toEqual([]);
  });

  it('with DNS capture before 1.25 (no IP auto-allocation by default) the catch-all is real, and the message says why', () => {
    const f = check('MM103', entry(), { mesh: dnsCapture, istioVersion: { major: 1, minor: 24 } });
    expect(types(f).map((t) => [t.messageType, t.severity])).toEqual([['CatchAllListener', 'error']]);
    expect(f[0]?.message).toContain('Istio 1.24 allocates one only with ISTIO_META_DNS_AUTO_ALLOCATE');
  });

  it('the opt-out label brings the catch-all back, and without DNS capture it is there whatever the version', () => {
    const optOut = entry('', ', labels: {networking.istio.io/enable-autoallocate-ip: "false"}');
    expect(
      types(check('MM103', optOut, { mesh: dnsCapture, istioVersion: { major: 1, minor: 28 } })).map(
        (t) => t.messageType,
      ),
    ).toEqual(['CatchAllListener']);
    const f = check('MM103', entry(), { istioVersion: { major: 1, minor: 28 } });
    expect(types(f).map((t) => t.messageType)).toEqual(['CatchAllListener']);
    expect(f[0]?.message).toContain('DNS capture is off');
  });

  it("resolution NONE keeps each connection's destination (ORIGINAL_DST): no finding alone, a warning when it shares the port", () => {
    expect(check('MM103', entry('NONE'))).toEqual([]);
    const other = se(
      `  hosts: [other.demo]
  ports: [{name: tcp, number: 3306, protocol: TCP}]
  resolution: DNS`,
      'other',
    );
    const shared = on(check('MM103', entry('NONE') + other), 'mysql');
    expect(types(shared)).toEqual([
      { rule: 'MM103', messageType: 'OriginalDstShared', severity: 'warning', resource: entryRef('mysql', 'demo') },
    ]);
    expect(shared[0]?.message).toContain('ServiceEntry demo/other');
    expect(shared[0]?.claim?.kind).toBe('inexpressible');
  });
});

describe('MM103 exportTo', () => {
  const noAddress = se(
    `  hosts: [cache.corp]
  ports: [{name: tcp, number: 6379, protocol: TCP}]
  resolution: DNS`,
    'cache',
    'ops',
  );
  const consumer = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: cache, namespace: shop}
spec: {host: cache.corp, trafficPolicy: {connectionPool: {tcp: {maxConnections: 10}}}}
`;

  it('proposes exportTo "." only (never applied automatically) when no other namespace names the entry; what remains is contained', () => {
    const f = check('MM103', noAddress);
    expect(f[0]?.fix.proposeOnly).toBe(true);
    expect(f[0]?.fix.patches[0]?.patch).toEqual([{ op: 'add', path: '/spec/exportTo', value: ['.'] }]);
    expect(f[0]?.fix.notes?.[0]).toContain('exportTo is restricted');
    const { objects, after } = fixAndRecheck('MM103', noAddress);
    expect((find(objects, 'ServiceEntry', 'cache').spec as { exportTo: string[] }).exportTo).toEqual(['.']);
    expect(types(after)).toEqual([
      { rule: 'MM103', messageType: 'CatchAllContained', severity: 'warning', resource: entryRef('cache', 'ops') },
    ]);
    expect(after[0]?.message).toContain('ServiceEntry ops/cache');
    expect(after[0]?.message).toContain('its own namespace ops only');
  });

  it('does not restrict exportTo when a consumer in another namespace would lose the entry, and names it', () => {
    const f = check('MM103', noAddress + consumer);
    expect(f[0]?.fix.patches).toEqual([]);
    expect(f[0]?.fix.notes?.join(' ')).toContain('DestinationRule shop/cache');
  });

  it('an entry exported to another named namespace is an error, checked from a sidecar there, and exportTo "." is proposed', () => {
    const toShop = se(
      `  hosts: [cache.corp]
  exportTo: [shop]
  ports: [{name: tcp, number: 6379, protocol: TCP}]
  resolution: DNS`,
      'cache',
      'ops',
    );
    const f = check('MM103', toShop);
    expect(types(f).map((t) => [t.messageType, t.severity])).toEqual([['CatchAllListener', 'error']]);
    expect(f[0]?.message).toContain('namespaces shop');
    expect(f[0]?.claim).toMatchObject({ kind: 'catch-all', client: { namespace: 'shop' } });
    expect(f[0]?.fix.patches[0]?.patch).toEqual([{ op: 'replace', path: '/spec/exportTo', value: ['.'] }]);
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
    const entry = se(
      `  hosts: [v2.example.com]
  location: MESH_EXTERNAL
  ports: [{name: http, number: 80}]
  resolution: STATIC
  endpoints: [{address: 1.2.3.4}]`,
      'external-service-http',
      'default',
    );
    expect(check('MM103', entry)).toHaveLength(1);
    expect(check('MM103', web + entry)).toEqual([]);
  });
});
