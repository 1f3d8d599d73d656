import { describe, expect, it } from 'vitest';
import { loadMesh } from '../../../src/analysis/load-mesh.js';
import { parseDocuments } from '../../../src/input/parse-documents.js';
import { decodeDocuments } from '../../../src/model/decode.js';
import { cli } from '../run-cli-in-process.js';
import { service, texts, write } from '../input-helpers.js';

const deployment = (name: string, replicas: string | number = 1): string =>
  `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}, namespace: foo}\nspec: {replicas: ${replicas}}\n`;
const svcJson = (name: string, extra = ''): string =>
  `{"apiVersion": "v1", "kind": "Service", "metadata": {"name": "${name}", "namespace": "foo"${extra}}, "spec": {"ports": [{"port": 80}]}}`;
const policy = (name: string, enabled: boolean): string =>
  `apiVersion: meshmedic.io/v1alpha1\nkind: MeshHealthPolicy\nmetadata: {name: ${name}}\nspec:\n  rules: [{id: MM101, enabled: ${enabled}}]\n`;

describe('duplicates', () => {
  it('are reported for every kind (a Deployment too), and an Istio Gateway is not a Gateway API Gateway', async () => {
    const gw = (api: string): string =>
      `apiVersion: ${api}\nkind: Gateway\nmetadata: {name: g, namespace: foo}\nspec: {}\n`;
    const dir = await write({
      'a.yaml': `${deployment('web')}---\n${deployment('web', 2)}---\n${gw('networking.istio.io/v1')}---\n${gw('gateway.networking.k8s.io/v1')}`,
    });
    const mesh = await loadMesh([dir]);
    expect(texts(mesh.diagnostics)).toEqual([
      expect.stringMatching(
        /^warning: .*a\.yaml:1: Deployment foo\/web duplicate: .*a\.yaml:6 has the same kind, namespace and name and replaces this one/,
      ),
    ]);
  });

  it('that are identical copies lose nothing and are not reported (two examples each creating their Namespace)', async () => {
    const ns = 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shared}\n';
    const mesh = await loadMesh([
      await write({ 'a.yaml': `${ns}---\n${deployment('web')}`, 'b.yaml': `${ns}---\n${deployment('web', 2)}` }),
    ]);
    expect(texts(mesh.diagnostics)).toEqual([
      expect.stringMatching(/a\.yaml:5: Deployment foo\/web duplicate: .*b\.yaml:5/),
    ]);
  });

  it('of a MeshHealthPolicy: the later one applies, as for any other kind, and the earlier is reported', async () => {
    const mesh = await loadMesh([await write({ 'p.yaml': `${policy('p', true)}---\n${policy('p', false)}` })]);
    expect((mesh.policy?.spec as { rules: { enabled: boolean }[] }).rules[0]?.enabled).toBe(false);
    expect(texts(mesh.diagnostics)).toEqual([
      expect.stringMatching(/p\.yaml:1: MeshHealthPolicy p duplicate: .*p\.yaml:7/),
    ]);
  });
});

describe('JSON duplicate keys', () => {
  it('skip the object they are in, with file, line, object and field; the other items of the List are read', async () => {
    const list = `{\n  "apiVersion": "v1",\n  "kind": "List",\n  "items": [\n    ${svcJson('a')},\n    ${svcJson('b', ', "labels": {"app": "x", "app": "y"}')},\n    ${svcJson('c')}\n  ]\n}\n`;
    const mesh = await loadMesh([await write({ 'l.json': list })]);
    expect(mesh.index.ofKind('Service').map((s) => s.metadata.name)).toEqual(['a', 'c']);
    expect(texts(mesh.diagnostics)).toEqual([
      expect.stringMatching(
        /^error: .*l\.json:6: Service foo\/b field metadata\.labels\.app: duplicate key "app" \(JSON\.parse keeps the last value.*; object skipped$/,
      ),
    ]);
    expect(mesh.inputs.map((i) => i.source.line)).toEqual([5, 7]);
  });

  it('are found however the key is escaped, in a single object too', () => {
    const r = parseDocuments(svcJson('a', ', "labels": {"x": "1", "\\u0078": "2"}'), 'one.json');
    expect(r.documents).toEqual([]);
    expect(texts(r.diagnostics)).toEqual([
      expect.stringMatching(/one\.json:1: Service foo\/a field metadata\.labels\.x: duplicate key "x"/),
    ]);
  });
});

describe('what used to be dropped silently', () => {
  it('a non-Istio object without a name, a *List whose items is not a list, a name that is not a string', async () => {
    const dir = await write({
      'n.yaml': `apiVersion: batch/v1\nkind: Job\nmetadata: {generateName: web-}\n---\napiVersion: v1\nkind: ConfigMapList\nitems: {a: 1}\n---\napiVersion: batch/v1\nkind: Job\nmetadata: {name: 7}\n---\n${service('ok')}`,
    });
    const mesh = await loadMesh([dir]);
    expect(texts(mesh.diagnostics)).toEqual([
      expect.stringMatching(
        /n\.yaml:1: Job <unnamed> field metadata\.name: missing \(generateName is for kubectl create; kubectl apply needs a name\): the object is not read/,
      ),
      expect.stringMatching(
        /n\.yaml:5: ConfigMapList <unnamed> field items: must be a list of objects \(got \{"a":1\}\); ConfigMapList not read/,
      ),
      expect.stringMatching(/n\.yaml:9: Job <unnamed> field metadata\.name: must be a non-empty string \(got 7\)/),
    ]);
  });
});

describe('invalid UTF-8', () => {
  const bytes = Buffer.concat([
    Buffer.from('apiVersion: v1\nkind: Service\nmetadata: {name: "caf\u00e9'),
    Buffer.from([0xff]),
    Buffer.from('", namespace: foo}\nspec: {ports: [{port: 80}]}\n'),
  ]);

  it('is reported with its byte offset, line, object and field; given bytes, a U+FFFD written in the file is not', () => {
    const r = parseDocuments(bytes, 'u.yaml');
    expect(texts(r.diagnostics)).toEqual([
      expect.stringMatching(
        /^error: u\.yaml:3: Service foo\/caf\u00e9\uFFFD field metadata\.name: invalid UTF-8 at byte offset 52 \(read as U\+FFFD\)/,
      ),
    ]);
    expect(r.documents[0]?.writeBack?.kind).toBe('refused');
    expect(
      parseDocuments(Buffer.from('apiVersion: v1\nkind: Namespace\nmetadata: {name: "a\uFFFD"}\n'), 'ok.yaml')
        .diagnostics,
    ).toEqual([]);
  });

  it('read from a file (as bytes), is reported at its byte offset, and --fix leaves the file out instead of writing U+FFFD back', async () => {
    const dir = await write({ 'u.yaml': bytes, 'ok.yaml': service('ok') });
    const r = await cli(['analyze', '--fix', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/u\.yaml:3: Service foo\/caf.* field metadata\.name: invalid UTF-8 at byte offset 52/);
    expect(r.err).toMatch(/--fix leaves this object out of its output/);
    expect(r.out).toContain('name: ok');
    expect(r.out).not.toContain('\uFFFD');
  });
});

describe('numbers JSON cannot carry', () => {
  it('.inf where an integer is expected, in a Deployment, and beyond 2^53: errors naming file, line, object and field', async () => {
    const dir = await write({
      'n.yaml': `apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: foo}\nspec: {ports: [{port: .inf}]}\n---\n${deployment('d', '.inf')}---\n${deployment('big', '12345678901234567890')}---\n${service('ok')}`,
    });
    const mesh = await loadMesh([dir]);
    expect(mesh.index.ofKind('Service').map((s) => s.metadata.name)).toEqual(['ok']);
    expect(mesh.inputs.map((i) => i.object.metadata.name)).toEqual(['ok']);
    expect(texts(mesh.diagnostics)).toEqual([
      expect.stringMatching(
        /n\.yaml:1: Service foo\/s field spec\.ports\[0\]\.port: not a finite number \(got Infinity.*object skipped/,
      ),
      expect.stringMatching(/n\.yaml:6: Deployment foo\/d field spec\.replicas: not a finite number/),
      expect.stringMatching(
        /n\.yaml:11: Deployment foo\/big field spec\.replicas: an integer beyond ±2\^53 cannot be read exactly/,
      ),
    ]);
  });

  it('1e400 in JSON is not written back by --fix as null', async () => {
    const list = JSON.stringify({
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'foo' }, spec: { replicas: 1 } },
      ],
    }).replace('"replicas":1', '"replicas":1e400');
    const dir = await write({ 'd.json': list, 'ok.yaml': service('ok') });
    const r = await cli(['analyze', '--fix', '-o', 'json', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/d\.json:1: Deployment foo\/d field spec\.replicas: not a finite number/);
    expect(r.out).not.toContain('null');
    expect((JSON.parse(r.out) as { items: unknown[] }).items).toHaveLength(1);
  });

  it('a hex integer beyond 2^53 in YAML is found too', () => {
    const r = parseDocuments(deployment('hex', '0x1fffffffffffffff'), 'h.yaml');
    const d = decodeDocuments(r.documents);
    expect(d.passthrough).toEqual([]);
    expect(texts(d.diagnostics)).toEqual([
      expect.stringMatching(
        /h\.yaml:1: Deployment foo\/hex field spec\.replicas: an integer beyond ±2\^53 cannot be read exactly/,
      ),
    ]);
  });

  it('NaN and Infinity fail an integer field even where the text check does not look (ajv strictNumbers)', () => {
    const value = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 's', namespace: 'foo' },
      spec: { ports: [{ port: Number.POSITIVE_INFINITY }] },
    };
    const d = decodeDocuments([{ value, file: 'x.json', line: 1 }]);
    expect(d.objects).toEqual([]);
    expect(texts(d.diagnostics)).toEqual([
      expect.stringMatching(
        /x\.json:1: Service foo\/s field spec\.ports\[0\]\.port: must be integer \(got Infinity\); object skipped/,
      ),
    ]);
  });
});
