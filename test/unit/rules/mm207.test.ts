import { describe, expect, it } from 'vitest';
import { check } from '../helpers.js';

const gw = (name: string, ns: string, selector: string, server: string) => `
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${ns}}
spec:
  selector: ${selector}
  servers: [${server}]
`;
const https = (host: string, tls: string, port = 443) =>
  `{port: {number: ${port}, name: https, protocol: HTTPS}, hosts: [${host}], tls: ${tls}}`;
const cred = (name: string) => `{mode: SIMPLE, credentialName: ${name}}`;
const ingress = '{istio: ingressgateway}';
const shape = (fs: ReturnType<typeof check>) =>
  fs.map((f) => [f.rule, f.messageType, f.severity, `${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`]);

describe('MM207 gateway-shared-certificate', () => {
  it('warns on each Gateway whose HTTPS server shares a certificate with another on the same pods and port', () => {
    const yaml =
      gw('a', 'istio-system', ingress, https('a.example.com', cred('wildcard'))) +
      gw('b', 'istio-system', ingress, https('b.example.com', cred('wildcard')));
    const f = check('MM207', yaml);
    expect(shape(f)).toEqual([
      ['MM207', 'SharedCertificate', 'warning', 'Gateway istio-system/a'],
      ['MM207', 'SharedCertificate', 'warning', 'Gateway istio-system/b'],
    ]);
    expect(f[0]?.message).toContain('credentialName wildcard');
    expect(f[0]?.related.map((r) => r.name)).toEqual(['b']);
    expect(f[0]?.fix).toMatchObject({ patches: [], create: [] });
    expect(f[0]?.claim?.kind).toBe('inexpressible');
  });

  it('compares certificate files when no credentialName is set', () => {
    const files = '{mode: SIMPLE, serverCertificate: /etc/certs/tls.crt, privateKey: /etc/certs/tls.key}';
    expect(
      check(
        'MM207',
        gw('a', 'istio-system', ingress, https('a.example.com', files)) +
          gw('b', 'istio-system', ingress, https('b.example.com', files)),
      ),
    ).toHaveLength(2);
  });

  it('different certificates, ports or pods, passthrough servers and repeated hosts (MM206) are not flagged', () => {
    const a = gw('a', 'istio-system', ingress, https('a.example.com', cred('one')));
    expect(check('MM207', a + gw('b', 'istio-system', ingress, https('b.example.com', cred('two'))))).toEqual([]);
    expect(check('MM207', a + gw('b', 'istio-system', ingress, https('b.example.com', cred('one'), 8443)))).toEqual([]);
    expect(
      check('MM207', a + gw('b', 'istio-system', '{istio: internal}', https('b.example.com', cred('one')))),
    ).toEqual([]);
    expect(check('MM207', a + gw('b', 'istio-system', ingress, https('b.example.com', '{mode: PASSTHROUGH}')))).toEqual(
      [],
    );
    expect(check('MM207', a + gw('b', 'istio-system', ingress, https('a.example.com', cred('one'))))).toEqual([]);
  });
});
