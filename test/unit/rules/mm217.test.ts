import { describe, expect, it } from 'vitest';
import { check, fixAndRecheck } from '../helpers.js';

const se = (name: string, ns: string, protocol: string, extra = '') => `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: [api.example.com]
  location: MESH_EXTERNAL
  resolution: DNS
  ports: [{number: 8443, name: p-${name}, protocol: ${protocol}}]
${extra}`;

describe('MM217 serviceentry-protocol-conflict', () => {
  it('flags both entries of one namespace declaring one host:port as HTTP and HTTPS', () => {
    const yaml = se('a', 'default', 'HTTP') + se('b', 'default', 'HTTPS');
    const f = check('MM217', yaml);
    expect(f.map((x) => [x.rule, x.messageType, x.severity, `${x.resource.namespace}/${x.resource.name}`])).toEqual([
      ['MM217', 'ProtocolConflict', 'warning', 'default/a'],
      ['MM217', 'ProtocolConflict', 'warning', 'default/b'],
    ]);
    expect(f[0]?.message).toContain(
      'port 8443 as HTTP and ServiceEntry default/b as HTTPS, and proxies in all namespaces see both',
    );
    expect(fixAndRecheck('MM217', yaml).after).toHaveLength(2); // no automatic fix
  });

  it('flags entries of two namespaces when one of them is exported everywhere', () => {
    expect(check('MM217', se('a', 'ns1', 'HTTP') + se('b', 'ns2', 'TLS'))).toHaveLength(2);
    expect(check('MM217', se('a', 'ns1', 'HTTP', '  exportTo: ["."]\n') + se('b', 'ns2', 'TLS'))).toHaveLength(2);
  });

  it('no finding: same protocol (any case), different ports, unset protocol, or no namespace sees both', () => {
    expect(check('MM217', se('a', 'default', 'HTTPS') + se('b', 'default', 'https'))).toEqual([]);
    expect(check('MM217', se('a', 'default', 'HTTP') + se('b', 'default', 'HTTPS').replace('8443', '9443'))).toEqual(
      [],
    );
    const unset = se('b', 'default', 'HTTPS').replace(', protocol: HTTPS', '');
    expect(check('MM217', se('a', 'default', 'HTTP') + unset)).toEqual([]);
    const local = '  exportTo: ["."]\n';
    expect(check('MM217', se('a', 'ns1', 'HTTP', local) + se('b', 'ns2', 'HTTPS', local))).toEqual([]);
    expect(
      check('MM217', se('a', 'ns1', 'HTTP', '  exportTo: [ns3]\n') + se('b', 'ns2', 'HTTPS', '  exportTo: [ns4]\n')),
    ).toEqual([]);
  });
});

describe('MM217 empty protocol', () => {
  it('an empty protocol string counts as unset', () => {
    const a = se('a', 'default', 'HTTP');
    const b = se('b', 'default', '""');
    expect(check('MM217', a + b)).toEqual([]);
  });
});
