import { describe, expect, it } from 'vitest';
import { check, find, fixAndRecheck, httpbinService, strictMeshWide } from '../helpers.js';
import { claimQueries, judgeClaim } from '../../../src/verify/claim-checks.js';
import type { ClusterInfo } from '../../../src/verify/oracle-protocol.js';

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
    const yaml = mesh(
      dr(`  host: httpbin
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}
  subsets:
  - name: v1
    labels: {version: v1}
  - name: v2
    labels: {version: v2}
    trafficPolicy: {tls: {mode: DISABLE}}`),
    );
    const findings = check('MM101', yaml);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain('subset v2');
    expect(findings[0]?.message).not.toContain('subset v1');
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    const spec = find(objects, 'DestinationRule', 'httpbin').spec as {
      subsets: { trafficPolicy?: { tls: { mode: string } } }[];
    };
    expect(spec.subsets[1]?.trafficPolicy?.tls.mode).toBe('ISTIO_MUTUAL');
    expect(spec.subsets[0]?.trafficPolicy).toBeUndefined();
  });

  it('flags SIMPLE at port level and removes the certificate fields Istio refuses with ISTIO_MUTUAL', () => {
    const yaml = mesh(
      dr(`  host: httpbin.foo.svc.cluster.local
  trafficPolicy:
    portLevelSettings:
    - port: {number: 9000}
      tls: {mode: SIMPLE, caCertificates: /etc/ca.pem, sni: httpbin}`),
    );
    const findings = check('MM101', yaml);
    expect(findings).toHaveLength(1);
    expect(findings[0]?.message).toContain('portLevelSettings[port 9000]');
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    const pls = (
      find(objects, 'DestinationRule', 'httpbin').spec as { trafficPolicy: { portLevelSettings: { tls: object }[] } }
    ).trafficPolicy.portLevelSettings[0];
    expect(pls?.tls).toEqual({ mode: 'ISTIO_MUTUAL', sni: 'httpbin' });
  });

  it('treats a port-level entry without tls as auto mTLS, not as the top-level DISABLE', () => {
    const yaml = mesh(
      dr(`  host: httpbin
  trafficPolicy:
    tls: {mode: DISABLE}
    portLevelSettings:
    - port: {number: 9000}
      connectionPool: {tcp: {maxConnections: 5}}`),
    );
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
    const disable = (ns: string): string =>
      dr(
        `  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}`,
        ns,
      );
    // httpbin.other: no such Service in the input, so only a warning with the assumption, and nothing when complete.
    expect(check('MM101', mesh(disable('other'))).map((f) => `${f.severity} ${f.messageType}`)).toEqual([
      'warning PlaintextToStrictAssumed',
    ]);
    expect(check('MM101', mesh(disable('other')), { complete: true })).toEqual([]);
    expect(check('MM101', mesh(disable('foo'))).map((f) => `${f.severity} ${f.messageType}`)).toEqual([
      'error PlaintextToStrict',
    ]);
  });

  it('fixing twice changes nothing', () => {
    const yaml = mesh(
      dr(`  host: httpbin
  trafficPolicy: {tls: {mode: MUTUAL, clientCertificate: /c.pem, privateKey: /k.pem}}`),
    );
    const once = fixAndRecheck('MM101', yaml);
    expect(once.after).toEqual([]);
    expect(once.failures).toBe(0);
    expect((find(once.objects, 'DestinationRule', 'httpbin').spec as { trafficPolicy: object }).trafficPolicy).toEqual({
      tls: { mode: 'ISTIO_MUTUAL' },
    });
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

const pa = (name: string, ns: string, spec: string): string => `
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: ${name}, namespace: ${ns}}
spec: ${spec}
`;
const summary = (
  fs: { severity: string; messageType: string; resource: { kind: string; namespace?: string; name: string } }[],
): string[] =>
  fs.map((f) => `${f.severity} ${f.messageType} ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name}`);

describe('MM101 Istio mTLS to a server whose PeerAuthentication is DISABLE', () => {
  const nsDisable = pa('default', 'foo', '{mtls: {mode: DISABLE}}');
  const mutual = (host: string, ns = 'foo', name = 'httpbin'): string =>
    dr(
      `  host: "${host}"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}`,
      ns,
      name,
    );

  it('flags a DestinationRule naming the service: its tls is what to change, to DISABLE', () => {
    const yaml = `${httpbinService}${nsDisable}${mutual('httpbin')}`;
    const f = check('MM101', yaml);
    expect(summary(f)).toEqual(['error MtlsToDisabled DestinationRule foo/httpbin']);
    expect(f[0]?.message).toContain('httpbin.foo:8000 (HTTP)');
    expect(f[0]?.message).toContain('PeerAuthentication foo/default makes DISABLE');
    expect(f[0]?.related.map((r) => `${r.kind} ${r.name}`)).toEqual(['Service httpbin', 'PeerAuthentication default']);
    expect(f[0]?.claim).toMatchObject({
      kind: 'server-rejects',
      cluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
      server: { port: 80, protocol: 'http' },
    });
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    expect((find(objects, 'DestinationRule', 'httpbin').spec as { trafficPolicy: object }).trafficPolicy).toEqual({
      tls: { mode: 'DISABLE' },
    });
  });

  it('flags the PeerAuthentication when a namespace-wide DestinationRule sends ISTIO_MUTUAL, and makes it PERMISSIVE', () => {
    const yaml = `${httpbinService}${nsDisable}${mutual('*.foo.svc.cluster.local', 'foo', 'foo-mtls')}`;
    const f = check('MM101', yaml);
    expect(summary(f)).toEqual(['error DisabledReceivesMtls PeerAuthentication foo/default']);
    expect(f[0]?.message).toContain(
      'DestinationRule foo/foo-mtls trafficPolicy sends Istio mTLS (ISTIO_MUTUAL) to httpbin.foo:8000 (HTTP), httpbin.foo:9000 (HTTP)',
    );
    expect(f[0]?.related.map((r) => `${r.kind} ${r.name}`)).toEqual(['DestinationRule foo-mtls', 'Service httpbin']);
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    expect(find(objects, 'PeerAuthentication', 'default').spec).toEqual({ mtls: { mode: 'PERMISSIVE' } });
  });

  it('flags a mesh-wide DISABLE reached by a mesh-wide DestinationRule of another namespace', () => {
    const yaml = `${httpbinService}${pa('default', 'istio-system', '{mtls: {mode: DISABLE}}')}${mutual('*.local', 'bar', 'all-mtls')}`;
    expect(summary(check('MM101', yaml))).toEqual([
      'error DisabledReceivesMtls PeerAuthentication istio-system/default',
    ]);
  });

  it('follows a workload port-level DISABLE, and fixes that port only', () => {
    const yaml = `${httpbinService}${pa('httpbin', 'foo', '{selector: {matchLabels: {app: httpbin}}, portLevelMtls: {"80": {mode: DISABLE}}}')}${mutual('*.foo.svc.cluster.local', 'foo', 'foo-mtls')}`;
    const f = check('MM101', yaml);
    expect(summary(f)).toEqual(['error DisabledReceivesMtls PeerAuthentication foo/httpbin']);
    expect(f[0]?.message).toContain('to httpbin.foo:8000 (HTTP).');
    expect(f[0]?.message).toContain('at /spec/portLevelMtls/80/mode');
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    expect((find(objects, 'PeerAuthentication', 'httpbin').spec as { portLevelMtls: object }).portLevelMtls).toEqual({
      80: { mode: 'PERMISSIVE' },
    });
  });

  it('says the claim is inexpressible on a TCP port (the sidecar forwards the TLS bytes to the application)', () => {
    const db = `
apiVersion: v1
kind: Service
metadata: {name: httpbin, namespace: foo}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 80}, {name: tcp-db, port: 9000}]
`;
    const yaml = `${db}${nsDisable}${dr(`  host: httpbin
  trafficPolicy:
    portLevelSettings:
    - port: {number: 9000}
      tls: {mode: ISTIO_MUTUAL}`)}`;
    const f = check('MM101', yaml);
    expect(summary(f)).toEqual(['error MtlsToDisabled DestinationRule foo/httpbin']);
    expect(f[0]?.message).toContain(
      'portLevelSettings[port 9000] sends Istio mTLS (ISTIO_MUTUAL) to httpbin.foo:9000 (TCP)',
    );
    expect(f[0]?.claim?.kind).toBe('inexpressible');
    expect(fixAndRecheck('MM101', yaml).after).toEqual([]);
  });

  it('does not flag a DestinationRule another one shadows (client namespace first, then the service namespace)', () => {
    const yaml = `${httpbinService}${nsDisable}${mutual('*.local', 'istio-system', 'mesh-mtls')}${dr(
      `  host: "*.foo.svc.cluster.local"
  trafficPolicy: {tls: {mode: DISABLE}}`,
      'foo',
      'foo-plain',
    )}`;
    expect(check('MM101', yaml)).toEqual([]);
  });

  it('does not flag DISABLE to DISABLE, ISTIO_MUTUAL to PERMISSIVE, or auto mTLS to DISABLE', () => {
    const plain = dr(`  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}`);
    expect(check('MM101', `${httpbinService}${nsDisable}${plain}`)).toEqual([]);
    expect(
      check('MM101', `${httpbinService}${pa('default', 'foo', '{mtls: {mode: PERMISSIVE}}')}${mutual('httpbin')}`),
    ).toEqual([]);
    const pool = dr(`  host: httpbin
  trafficPolicy: {connectionPool: {tcp: {maxConnections: 1}}}`);
    expect(check('MM101', `${httpbinService}${nsDisable}${pool}`)).toEqual([]);
  });

  it('without a Service in the input: a warning that says what it assumed, nothing when the input is complete', () => {
    const yaml = `${nsDisable}${mutual('*.foo.svc.cluster.local', 'foo', 'foo-mtls')}${mutual('details')}`;
    const f = check('MM101', yaml);
    expect(summary(f).sort()).toEqual([
      'warning DisabledReceivesMtlsAssumed PeerAuthentication foo/default',
      'warning MtlsToDisabledAssumed DestinationRule foo/httpbin',
    ]);
    expect(f.find((x) => x.resource.kind === 'PeerAuthentication')?.message).toContain(
      'to the Services of namespace foo',
    );
    expect(f.find((x) => x.resource.kind === 'DestinationRule')?.message).toContain(
      'details.foo.svc.cluster.local (no Service in the input)',
    );
    expect(f.every((x) => x.message.includes('Assumption: no Service it reaches is in the input'))).toBe(true);
    expect(check('MM101', yaml, { complete: true })).toEqual([]);
  });
});

describe('MM101 plaintext to STRICT without a Service in the input', () => {
  it('a mesh-wide DISABLE DestinationRule under a mesh-wide STRICT is a warning with the assumption', () => {
    const yaml = `${strictMeshWide}${dr(
      `  host: "*.local"
  trafficPolicy: {tls: {mode: DISABLE}}`,
      'bar',
      'no-mtls',
    )}`;
    const f = check('MM101', yaml);
    expect(summary(f)).toEqual(['warning PlaintextToStrictAssumed DestinationRule bar/no-mtls']);
    expect(f[0]?.claim?.kind).toBe('inexpressible');
    expect(fixAndRecheck('MM101', yaml).after).toEqual([]);
  });

  it('is silent when no namespace it can reach is STRICT', () => {
    const yaml = `${pa('default', 'istio-system', '{mtls: {mode: PERMISSIVE}}')}${dr(
      `  host: "*.local"
  trafficPolicy: {tls: {mode: DISABLE}}`,
      'bar',
      'no-mtls',
    )}`;
    expect(check('MM101', yaml)).toEqual([]);
  });
});

describe('MM101 plaintext to STRICT when auto mTLS is off and no DestinationRule applies', () => {
  const off = { mesh: { enableAutoMtls: false } };
  it('flags the Service (error when the input is complete, a warning otherwise) and creates a DestinationRule', () => {
    const yaml = `${strictMeshWide}\n---\n${httpbinService}`;
    const f = check('MM101', yaml, { ...off, complete: true });
    expect(summary(f)).toEqual(['error NoRuleToStrict Service foo/httpbin']);
    expect(f[0]?.message).toContain(
      'clients in namespace foo (and every namespace without a DestinationRule for it) send plaintext to port 8000, port 9000',
    );
    expect(f[0]?.claim).toMatchObject({
      kind: 'server-rejects',
      client: { namespace: 'foo' },
      cluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
    });
    expect(summary(check('MM101', yaml, off))).toEqual(['warning NoRuleToStrictInInput Service foo/httpbin']);
    const { objects, after } = fixAndRecheck('MM101', yaml, { ...off, complete: true });
    expect(after).toEqual([]);
    expect(find(objects, 'DestinationRule', 'httpbin-istio-mutual').spec).toEqual({
      host: 'httpbin.foo.svc.cluster.local',
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
    });
  });

  it('gives ISTIO_MUTUAL to the STRICT ports only when a port-level policy keeps another port PERMISSIVE', () => {
    const yaml = `${strictMeshWide}\n---\n${httpbinService}${pa('httpbin', 'foo', '{selector: {matchLabels: {app: httpbin}}, portLevelMtls: {"9000": {mode: PERMISSIVE}}}')}`;
    const { objects, after } = fixAndRecheck('MM101', yaml, { ...off, complete: true });
    expect(after).toEqual([]);
    expect(find(objects, 'DestinationRule', 'httpbin-istio-mutual').spec).toEqual({
      host: 'httpbin.foo.svc.cluster.local',
      trafficPolicy: { portLevelSettings: [{ port: { number: 8000 }, tls: { mode: 'ISTIO_MUTUAL' } }] },
    });
  });

  it('does not flag it with auto mTLS on, with a DestinationRule that applies, or with a PERMISSIVE server', () => {
    const yaml = `${strictMeshWide}\n---\n${httpbinService}`;
    expect(check('MM101', yaml, { complete: true })).toEqual([]);
    const root = dr(
      `  host: "*.local"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}`,
      'istio-system',
      'mesh-mtls',
    );
    expect(check('MM101', `${yaml}${root}`, { ...off, complete: true })).toEqual([]);
    expect(
      check('MM101', `${httpbinService}${pa('default', 'istio-system', '{mtls: {mode: PERMISSIVE}}')}`, {
        ...off,
        complete: true,
      }),
    ).toEqual([]);
  });

  it('names the clients of other namespaces when the only DestinationRule is not exported', () => {
    const local = `${dr(`  host: httpbin
  exportTo: ["."]
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}`)}`;
    const f = check('MM101', `${strictMeshWide}\n---\n${httpbinService}${local}`, { ...off, complete: true });
    expect(summary(f)).toEqual(['error NoRuleToStrict Service foo/httpbin']);
    expect(f[0]?.message).toContain(': clients in every namespace without a DestinationRule for it send plaintext');
    expect(f[0]?.fix.patches).toEqual([]);
    expect(f[0]?.fix.notes?.[0]).toContain('not exported');
  });
});

describe('MM101 Istio mTLS to pods without a sidecar (istio#36672)', () => {
  const ns = (labels: string): string => `
---
apiVersion: v1
kind: Namespace
metadata: {name: foo, labels: {${labels}}}
`;
  const star = dr(
    `  host: "*"
  trafficPolicy:
    connectionPool: {tcp: {maxConnections: 10}}
    tls: {mode: ISTIO_MUTUAL}`,
    'foo',
    'all-mtls',
  );
  const pod = (annotations: string, containers = 'istio-proxy'): string => `
---
apiVersion: v1
kind: Pod
metadata: {name: httpbin-1, namespace: foo, labels: {app: httpbin}, annotations: {${annotations}}}
spec: {containers: [{name: httpbin}, {name: ${containers}}]}
`;

  it('flags a "*" DestinationRule reaching a namespace labelled istio-injection=disabled, and adds a DISABLE rule for that host', () => {
    const yaml = `${httpbinService}${ns('istio-injection: disabled')}${star}`;
    const f = check('MM101', yaml);
    expect(summary(f)).toEqual(['error MtlsToNoSidecar DestinationRule foo/all-mtls']);
    expect(f[0]?.message).toContain(
      'trafficPolicy sends Istio mTLS (ISTIO_MUTUAL) to httpbin.foo, whose pods run no sidecar (namespace foo is labelled istio-injection=disabled)',
    );
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    expect(find(objects, 'DestinationRule', 'httpbin-foo-no-sidecar').spec).toEqual({
      host: 'httpbin.foo.svc.cluster.local',
      trafficPolicy: { connectionPool: { tcp: { maxConnections: 10 } }, tls: { mode: 'DISABLE' } },
    });
  });

  it('a namespace without injection labels is a warning; a pod annotated inject=false an error', () => {
    expect(summary(check('MM101', `${httpbinService}${ns('team: a')}${star}`))).toEqual([
      'warning MtlsToNoSidecarLikely DestinationRule foo/all-mtls',
    ]);
    const annotated = `${httpbinService}${ns('istio-injection: enabled')}${pod('sidecar.istio.io/inject: "false"', 'other')}${star}`;
    const f = check('MM101', annotated);
    expect(summary(f)).toEqual(['error MtlsToNoSidecar DestinationRule foo/all-mtls']);
    expect(f[0]?.message).toContain('pods httpbin-1 set sidecar.istio.io/inject: "false"');
  });

  it('does not flag injected or unknown namespaces, pods running istio-proxy, or ambient namespaces', () => {
    expect(check('MM101', `${httpbinService}${star}`)).toEqual([]);
    expect(check('MM101', `${httpbinService}${ns('istio-injection: enabled')}${star}`)).toEqual([]);
    expect(check('MM101', `${httpbinService}${ns('istio.io/rev: canary')}${star}`)).toEqual([]);
    expect(check('MM101', `${httpbinService}${ns('team: a')}${pod('a: b')}${star}`)).toEqual([]);
    expect(check('MM101', `${httpbinService}${ns('istio.io/dataplane-mode: ambient')}${star}`)).toEqual([]);
  });

  it('patches a DestinationRule that names the host instead of creating one', () => {
    const yaml = `${httpbinService}${ns('istio-injection: disabled')}${dr(`  host: httpbin
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}`)}`;
    const { objects, after } = fixAndRecheck('MM101', yaml);
    expect(after).toEqual([]);
    expect((find(objects, 'DestinationRule', 'httpbin').spec as { trafficPolicy: object }).trafficPolicy).toEqual({
      tls: { mode: 'DISABLE' },
    });
  });
});

describe('MM101 and the ambient data plane', () => {
  const ambient = (name: string): string => `
---
apiVersion: v1
kind: Namespace
metadata: {name: ${name}, labels: {istio.io/dataplane-mode: ambient}}
`;
  const disable = dr(`  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}`);
  it('leaves out an ambient server namespace: ztunnel carries mTLS over HBONE', () => {
    expect(check('MM101', mesh(disable))).toHaveLength(1);
    expect(check('MM101', `${mesh(disable)}${ambient('foo')}`)).toEqual([]);
    expect(
      check('MM101', `${strictMeshWide}\n---\n${httpbinService}${ambient('foo')}`, {
        mesh: { enableAutoMtls: false },
        complete: true,
      }),
    ).toEqual([]);
  });

  it("leaves out ambient clients: a DestinationRule's TLS applies at their waypoints only", () => {
    const fromBar = dr(
      `  host: httpbin.foo.svc.cluster.local
  trafficPolicy: {tls: {mode: DISABLE}}`,
      'bar',
      'to-httpbin',
    );
    expect(summary(check('MM101', mesh(fromBar)))).toEqual(['error PlaintextToStrict DestinationRule bar/to-httpbin']);
    expect(check('MM101', `${mesh(fromBar)}${ambient('bar')}`)).toEqual([]);
  });

  it('says in an assumed finding that it assumed sidecars', () => {
    const f = check(
      'MM101',
      `${strictMeshWide}${dr(
        `  host: "*.local"
  trafficPolicy: {tls: {mode: DISABLE}}`,
        'bar',
        'no-mtls',
      )}`,
    );
    expect(f[0]?.message).toContain('the sidecar data plane');
  });
});

describe('MM101 claim plain-endpoint-mtls (verify)', () => {
  const claim = {
    kind: 'plain-endpoint-mtls' as const,
    client: { type: 'sidecar' as const, namespace: 'foo' },
    cluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
  };
  const judged = (info: ClusterInfo): boolean =>
    judgeClaim(claim, new Map([['p/client', { id: 'p/client', clusters: { [claim.cluster]: info } }]]), 'p').effect;
  it('asks for the client cluster, and confirms only an unconditional Istio mTLS transport', () => {
    expect(claimQueries(claim, 'p')).toEqual([
      { id: 'p/client', proxy: { type: 'sidecar', namespace: 'foo' }, clusters: [claim.cluster] },
    ]);
    expect(judged({ exists: true, transport: { kind: 'istio-mtls' } })).toBe(true);
    // auto mTLS: Istio mTLS only for endpoints labelled tlsMode istio, plaintext for the others.
    expect(
      judged({
        exists: true,
        transportMatches: [
          { name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport: { kind: 'istio-mtls' } },
          { name: 'tlsMode-disabled', match: {}, transport: { kind: 'plaintext' } },
        ],
      }),
    ).toBe(false);
    expect(
      judged({
        exists: true,
        transportMatches: [{ name: 'tlsMode-istio', match: { tlsMode: 'istio' }, transport: { kind: 'istio-mtls' } }],
      }),
    ).toBe(false);
    expect(judged({ exists: false })).toBe(false);
  });

  it('is the claim of an MtlsToNoSidecar finding', () => {
    const yaml = `${httpbinService}
---
apiVersion: v1
kind: Namespace
metadata: {name: foo, labels: {istio-injection: disabled}}
${dr(
  `  host: "*"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}`,
  'foo',
  'all-mtls',
)}`;
    expect(check('MM101', yaml)[0]?.claim).toEqual({
      ...claim,
      cluster: 'outbound|8000||httpbin.foo.svc.cluster.local',
    });
  });
});

describe('MM101 plaintext to a STRICT Service whose pods run no sidecar', () => {
  it('is not flagged: no sidecar enforces the PeerAuthentication', () => {
    const disabledNs = `
---
apiVersion: v1
kind: Namespace
metadata: {name: foo, labels: {istio-injection: disabled}}
`;
    const disable = dr(`  host: httpbin
  trafficPolicy: {tls: {mode: DISABLE}}`);
    expect(check('MM101', `${mesh(disable)}${disabledNs}`)).toEqual([]);
    expect(
      check('MM101', `${strictMeshWide}\n---\n${httpbinService}${disabledNs}`, {
        mesh: { enableAutoMtls: false },
        complete: true,
      }),
    ).toEqual([]);
  });
});

describe('MM101 STRICT PeerAuthentication, auto mTLS off, no Service in the input (Kiali KIA0401/KIA0501)', () => {
  const off = { mesh: { enableAutoMtls: false } };
  it('warns on a namespace-wide STRICT that no DestinationRule covers, and creates a namespace-wide ISTIO_MUTUAL rule', () => {
    const yaml = pa('default', 'foo', '{mtls: {mode: STRICT}}');
    const f = check('MM101', yaml, off);
    expect(summary(f)).toEqual(['warning NoRuleToStrictAssumed PeerAuthentication foo/default']);
    expect(f[0]?.message).toContain('makes namespace foo STRICT while auto mTLS is off');
    const { objects, after } = fixAndRecheck('MM101', yaml, off);
    expect(after).toEqual([]);
    expect(find(objects, 'DestinationRule', 'istio-mutual').spec).toEqual({
      host: '*.foo.svc.cluster.local',
      trafficPolicy: { tls: { mode: 'ISTIO_MUTUAL' } },
    });
  });

  it('warns on a mesh-wide STRICT; with a DISABLE policy in the input it proposes no wildcard rule', () => {
    const f = check('MM101', strictMeshWide, off);
    expect(summary(f)).toEqual(['warning NoRuleToStrictAssumed PeerAuthentication istio-system/default']);
    expect(fixAndRecheck('MM101', strictMeshWide, off).after).toEqual([]);
    const withDisable = `${strictMeshWide}${pa('default', 'legacy', '{mtls: {mode: DISABLE}}')}`;
    const g = check('MM101', withDisable, off);
    expect(summary(g)).toEqual(['warning NoRuleToStrictAssumed PeerAuthentication istio-system/default']);
    expect(g[0]?.fix.create).toEqual([]);
    expect(g[0]?.fix.notes?.[0]).toContain('DISABLE');
  });

  it('is silent with auto mTLS on, with a covering DestinationRule, when complete, or when Services are in the input', () => {
    const yaml = pa('default', 'foo', '{mtls: {mode: STRICT}}');
    expect(check('MM101', yaml)).toEqual([]);
    expect(check('MM101', yaml, { ...off, complete: true })).toEqual([]);
    expect(
      check(
        'MM101',
        `${yaml}${dr(
          `  host: "*.local"
  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}`,
          'istio-system',
          'mesh-mtls',
        )}`,
        off,
      ),
    ).toEqual([]);
    expect(summary(check('MM101', `${yaml}\n---\n${httpbinService}`, off))).toEqual([
      'warning NoRuleToStrictInInput Service foo/httpbin',
    ]);
  });
});
