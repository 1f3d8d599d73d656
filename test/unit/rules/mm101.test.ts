import { describe, expect, it } from 'vitest';
import { check, find, fixAndRecheck, httpbinService, strictMeshWide } from '../helpers.js';

const dr = (spec: string, ns = 'foo', name = 'httpbin'): string => `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec:
${spec}
`;
const mesh = (extra: string): string => `${strictMeshWide}\n---\n${httpbinService}\n${extra}`;

describe('MM101 dr-tls-disables-mtls', () => {
  const noTls = dr(`  host: httpbin
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 1}}`);

  it('flags a DestinationRule without tls when auto mTLS is off (seed 001), and the fix adds ISTIO_MUTUAL keeping the pool', () => {
    const findings = check('MM101', mesh(noTls), { mesh: { enableAutoMtls: false } });
    expect(findings).toHaveLength(1);
    expect(findings[0]?.severity).toBe('error');
    expect(findings[0]?.message).toContain('503 UC');
    expect(findings[0]?.related.map((r) => r.name)).toContain('default');
    const { objects, after } = fixAndRecheck('MM101', mesh(noTls), { mesh: { enableAutoMtls: false } });
    expect(after).toEqual([]);
    expect(find(objects, 'DestinationRule', 'httpbin').spec).toEqual({
      host: 'httpbin',
      trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 } }, tls: { mode: 'ISTIO_MUTUAL' } },
    });
  });

  it('does not flag a DestinationRule without tls while auto mTLS is on', () => {
    expect(check('MM101', mesh(noTls))).toEqual([]);
  });

  it('flags DISABLE at subset level and fixes only that subset', () => {
    const yaml = mesh(dr(`  host: httpbin
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {tls: {mode: DISABLE}}`));
    const findings = check('MM101', yaml);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain('subset v2');
    expect(findings[0]?.message).not.toContain('subset v1');
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    const spec = find(objects, 'DestinationRule', 'httpbin').spec as { subsets: { trafficPolicy?: { tls: { mode: string } } }[] };
    expect(spec.subsets[1]?.trafficPolicy?.tls.mode).toBe('ISTIO_MUTUAL');
    expect(spec.subsets[0]?.trafficPolicy).toBeUndefined();
  });

  it('flags SIMPLE at port level and removes the certificate fields Istio refuses with ISTIO_MUTUAL', () => {
    const yaml = mesh(dr(`  host: httpbin.foo.svc.cluster.local
  trafficPolicy:
    portLevelSettings:
    - port: {number: 9000}
      tls: {mode: SIMPLE, caCertificates: /etc/ca.pem, sni: httpbin}`));
    const findings = check('MM101', yaml);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain('portLevelSettings[port 9000]');
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    const pls = (find(objects, 'DestinationRule', 'httpbin').spec as { trafficPolicy: { portLevelSettings: { tls: object }[] } }).trafficPolicy.portLevelSettings[0];
    expect(pls?.tls).toEqual({ mode: 'ISTIO_MUTUAL', sni: 'httpbin' });
  });

  it('treats a port-level entry without tls as auto mTLS, not as the top-level DISABLE', () => {
    const yaml = mesh(dr(`  host: httpbin
  trafficPolicy:
    tls: {mode: DISABLE}
    portLevelSettings:
    - port: {number: 9000}
      connectionPool: {tcp: {maxConnections: 5}}`));
    const findings = check('MM101', yaml);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain('trafficPolicy sends plaintext (tls.mode DISABLE)');
    expect(findings[0]?.message).not.toContain('portLevelSettings');
  });

  it('does not flag a PERMISSIVE workload, flags a STRICT one', () => {
    const disable = dr(`  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}`);
    const permissive = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: istio-system}
spec: {mtls: {mode: PERMISSIVE}}
---
${httpbinService}${disable}`;
    expect(check('MM101', permissive)).toEqual([]);
    expect(check('MM101', mesh(disable))).toHaveLength(1);
  });

  it('lets a namespace PeerAuthentication override the mesh-wide one', () => {
    const disable = dr(`  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}`);
    const nsPermissive = `${strictMeshWide}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: PERMISSIVE}}
---
${httpbinService}${disable}`;
    expect(check('MM101', nsPermissive)).toEqual([]);
    const nsStrictOnly = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: STRICT}}
---
${httpbinService}${disable}`;
    const f = check('MM101', nsStrictOnly);
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('PeerAuthentication foo/default');
  });

  it('flags a workload STRICT under a namespace DISABLE: auto mTLS follows the namespace and sends plaintext', () => {
    const yaml = `apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: foo}
spec: {mtls: {mode: DISABLE}}
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: httpbin-strict, namespace: foo}
spec: {selector: {matchLabels: {app: httpbin}}, mtls: {mode: STRICT}}
---
${httpbinService}${dr(`  host: httpbin
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 10}}}`)}`;
    const f = check('MM101', yaml);
    expect(f).toHaveLength(1);
    expect(f[0]?.message).toContain('auto mTLS follows the namespace');
  });

  it('resolves short hosts in the DestinationRule namespace', () => {
    const disable = (ns: string): string => dr(`  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}`, ns);
    expect(check('MM101', mesh(disable('other')))).toEqual([]);
    expect(check('MM101', mesh(disable('foo')))).toHaveLength(1);
  });

  it('fixing twice changes nothing', () => {
    const yaml = mesh(dr(`  host: httpbin
  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}}`));
    const once = fixAndRecheck('MM101', yaml);
    expect(once.after).toEqual([]);
    expect(once.failures).toBe(0);
    expect((find(once.objects, 'DestinationRule', 'httpbin').spec as { trafficPolicy: object }).trafficPolicy).toEqual({ tls: { mode: 'ISTIO_MUTUAL' } });
  });
});

describe('MM101 and the Istio version judged', () => {
  const yaml = `${strictMeshWide}\n---\n${httpbinService}\n---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: httpbin, namespace: foo}
spec: {host: httpbin, trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}}}
`;
  it('before 1.5 auto mTLS is off unless the mesh config sets it: a DestinationRule without tls sends plaintext (seed 001, 2018)', () => {
    const f = check('MM101', yaml, { istioVersion: { major: 1, minor: 4 } });
    expect(f.map((x) => x.severity)).toEqual(['error']);
    expect(f[0]?.versionNote).toContain('1.5');
    expect(check('MM101', yaml, { istioVersion: { major: 1, minor: 28 } })).toEqual([]);
  });
});
