import { describe, expect, it } from 'vitest';
import { loadMesh } from '../../src/analysis/load-mesh.js';
import { formatDiagnostic } from '../../src/model/diagnostics.js';
import { write } from './input-helpers.js';

const goodDr = `apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: good, namespace: foo}
spec: {host: good}
`;

describe('reading manifests', () => {
  it('reports malformed YAML with its file and line, and still reads the other documents', async () => {
    const dir = await write({
      'a.yaml': `${goodDr}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n---\n${goodDr.replace('good', 'other')}`,
    });
    const mesh = await loadMesh([dir]);
    expect(
      mesh.index
        .ofKind('DestinationRule')
        .map((o) => o.metadata.name)
        .sort(),
    ).toEqual(['good', 'other']);
    expect(mesh.diagnostics).toHaveLength(1);
    expect(formatDiagnostic(mesh.diagnostics[0]!)).toMatch(/a\.yaml:(9|10): invalid YAML/);
  });

  it('names the object and field of a wrong type, and skips only that object', async () => {
    const bad = `${goodDr.replace('name: good', 'name: bad')}  trafficPolicy: {tls: {mode: 42}}\n`.replace(
      'spec: {host: good}\n',
      'spec:\n  host: good\n',
    );
    const dir = await write({ 'b.yaml': `${goodDr}---\n${bad}` });
    const mesh = await loadMesh([dir]);
    expect(mesh.index.ofKind('DestinationRule').map((o) => o.metadata.name)).toEqual(['good']);
    const text = formatDiagnostic(mesh.diagnostics[0]!);
    expect(text).toContain('b.yaml:6');
    expect(text).toContain('DestinationRule foo/bad');
    expect(text).toContain('field spec.trafficPolicy.tls.mode');
    expect(text).toContain('must be one of DISABLE, SIMPLE, MUTUAL, ISTIO_MUTUAL (got 42)');
  });

  it('reports an object without a name, an unknown Istio kind, and a wrong apiVersion', async () => {
    const dir = await write({
      'c.yaml': `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {namespace: foo}\nspec: {host: x}\n---\napiVersion: networking.istio.io/v1\nkind: DestinatonRule\nmetadata: {name: typo}\n---\napiVersion: networking.istio.io/v9\nkind: VirtualService\nmetadata: {name: v}\n---\n${goodDr}`,
    });
    const mesh = await loadMesh([dir]);
    const texts = mesh.diagnostics.map(formatDiagnostic);
    expect(texts.some((t) => t.includes('field metadata.name: is required'))).toBe(true);
    expect(texts.some((t) => t.includes('unknown kind DestinatonRule'))).toBe(true);
    expect(texts.some((t) => t.includes('field apiVersion') && t.includes('networking.istio.io/v1beta1'))).toBe(true);
    expect(mesh.index.size).toBe(1);
  });

  it('reads JSON, kind: List, nested directories, and defaults the namespace', async () => {
    const dir = await write({
      'list.json': JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' }, spec: { ports: [{ port: 80 }] } }],
      }),
    });
    const mesh = await loadMesh([dir]);
    expect(mesh.index.get('Service/default/s')).toBeDefined();
  });

  it('reads a bare JSON array of objects, and reports a JSON syntax error with its line', async () => {
    const svc = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'a', namespace: 'x' },
      spec: { ports: [{ port: 80 }] },
    };
    const dir = await write({
      'array.json': JSON.stringify([svc, { ...svc, metadata: { name: 'b', namespace: 'x' } }]),
      'broken.json': '{\n  "apiVersion": "v1",\n  "kind": "Service",,\n}\n',
    });
    const mesh = await loadMesh([dir]);
    expect(mesh.index.get('Service/x/a')).toBeDefined();
    expect(mesh.index.get('Service/x/b')).toBeDefined();
    expect(formatDiagnostic(mesh.diagnostics[0]!)).toMatch(/broken\.json:3: invalid YAML/);
  });

  it('takes the mesh config from ConfigMap istio in istio-system, and reports a bad one', async () => {
    const cm = (mesh: string): string =>
      `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: istio, namespace: istio-system}\ndata:\n  mesh: |-\n    ${mesh}\n`;
    expect(
      (await loadMesh([await write({ 'm.yaml': cm('enableAutoMtls: false') })])).index.meshConfig.enableAutoMtls,
    ).toBe(false);
    const bad = await loadMesh([await write({ 'm.yaml': cm('enableAutoMtls: "nope"') })]);
    expect(bad.index.meshConfig.enableAutoMtls).toBe(true);
    expect(bad.diagnostics[0]?.message).toContain('enableAutoMtls must be a boolean');
  });
});

describe('valid input that used to be refused', () => {
  const gatewayApi = `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: public, namespace: edge}
spec:
  gatewayClassName: istio
  listeners: [{name: http, port: 80, protocol: HTTP}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: edge}
spec:
  parentRefs: [{name: public}]
  rules: [{backendRefs: [{name: web, port: 80}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow, namespace: edge}
spec: {from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: edge}], to: [{group: '', kind: Service}]}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: legacy, namespace: edge}
spec:
  hosts: [web.example.com]
  gateways: [edge/public]
  http: [{route: [{destination: {host: web.edge.svc.cluster.local}}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: edge}
spec: {ports: [{port: 80}]}
`;

  it('reads the Kubernetes Gateway API as valid input, carried through, and a VirtualService bound to its Gateway is not missing one', async () => {
    const mesh = await loadMesh([await write({ 'gw.yaml': gatewayApi })]);
    expect(mesh.diagnostics).toEqual([]);
    expect(mesh.inputs.map((i) => i.object.kind)).toEqual([
      'Gateway',
      'HTTPRoute',
      'ReferenceGrant',
      'VirtualService',
      'Service',
    ]);
    const { analyze } = await import('../../src/analysis/analyze.js');
    expect(analyze(mesh.index).findings.filter((f) => f.rule === 'MM204')).toEqual([]);
  });

  it("reads a null map (annotations: with no value, as in Istio's samples/addons) as empty", async () => {
    const svc = `apiVersion: v1
kind: Service
metadata:
  name: kiali
  namespace: istio-system
  annotations:
spec: {ports: [{port: 20001}]}
`;
    const mesh = await loadMesh([await write({ 'kiali.yaml': svc })]);
    expect(mesh.diagnostics).toEqual([]);
    expect(mesh.index.ofKind('Service').map((s) => s.metadata.name)).toEqual(['kiali']);
  });
});

describe('kustomize files beside the manifests', () => {
  it('are build input: a warning that says how to analyze what they build, never an unreadable object', async () => {
    const dir = await write({
      'kustomization.yaml': 'apiVersion: kustomize.config.k8s.io/v1alpha1\nkind: Component\nresources: [dr.yaml]\n',
      'dr.yaml': goodDr,
    });
    const mesh = await loadMesh([dir]);
    expect(mesh.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
    const warning = mesh.diagnostics.find((d) => d.file.endsWith('kustomization.yaml'));
    expect(warning?.severity).toBe('warning');
    expect(warning?.message).toContain('kustomize build');
    expect(mesh.index.size).toBe(1);
  });
});

describe('duplicates', () => {
  it('says when a later object with the same kind, namespace and name replaces an earlier one', async () => {
    const dir = await write({
      'a.yaml': `${goodDr}---\n${goodDr.replace('spec: {host: good}', 'spec: {host: other}')}`,
    });
    const mesh = await loadMesh([dir]);
    expect(mesh.diagnostics.map((d) => formatDiagnostic(d))).toEqual([
      expect.stringMatching(/a\.yaml:1: DestinationRule foo\/good.*duplicate: .*a\.yaml:6 .*replaces this one/),
    ]);
    expect((mesh.index.ofKind('DestinationRule')[0]?.spec as { host: string }).host).toBe('other');
  });
});
