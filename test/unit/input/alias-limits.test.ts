import { describe, expect, it } from 'vitest';
import { MAX_ALIAS_EXPANSION, MAX_ALIASES, parseDocuments } from '../../../src/input/parse-documents.js';
import { loadMesh } from '../../../src/analysis/load-mesh.js';
import { cli } from '../run-cli-in-process.js';
import { aliasTower, service, texts, write } from '../input-helpers.js';

/** A billion laughs: 9 levels of 9 aliases (9^9 copies), defined under an unknown field and used in `use`. */
function bomb(kind: 'DestinationRule' | 'Deployment' | 'Service', use: string): string {
  const head = {
    DestinationRule:
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: bomb, namespace: foo}',
    Deployment: 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: bomb, namespace: foo}',
    Service: 'apiVersion: v1\nkind: Service\nmetadata: {name: bomb, namespace: foo}',
  }[kind];
  return `${head}\nx-lol:\n${aliasTower(9, 9, 'lol')}${use}\n`;
}

describe('YAML alias bombs', () => {
  it('refuses a document whose aliases expand beyond the limit, naming file, line and field, before building it', async () => {
    const dir = await write({
      'a.yaml': `${bomb('DestinationRule', 'spec:\n  host: h\n  trafficPolicy: {tls: {mode: SIMPLE, sni: *l9}}')}---\n${service('ok')}`,
    });
    const started = Date.now();
    const mesh = await loadMesh([dir]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(mesh.index.get('Service/foo/ok')).toBeDefined();
    const t = texts(mesh.diagnostics);
    expect(t).toHaveLength(1);
    expect(t[0]).toMatch(
      /^error: .*a\.yaml:1[0-2]: DestinationRule foo\/bomb field x-lol\.l\d\[\d\]: YAML aliases expand this document by more than 10,000,000 characters .*document not read$/,
    );
    expect(t[0]!.length).toBeLessThan(400);
  });

  it('refuses more than MAX_ALIASES aliases in one document, and aliases that nest it deeper than the parser allows', () => {
    const many = `apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\na: &a x\nb: [${Array(MAX_ALIASES + 1)
      .fill('*a')
      .join(',')}]\n`;
    const deep = `apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\na: &a ${'['.repeat(60)}${']'.repeat(60)}\nb: ${'['.repeat(60)}*a${']'.repeat(60)}\n`;
    const r1 = parseDocuments(many, 'many.yaml');
    const r2 = parseDocuments(deep, 'deep.yaml');
    expect(r1.documents).toEqual([]);
    expect(texts(r1.diagnostics)).toEqual([
      expect.stringMatching(
        /^error: many\.yaml:5: Namespace n field b\[10000\]: more than 10,000 YAML aliases in one document/,
      ),
    ]);
    expect(r2.documents).toEqual([]);
    expect(texts(r2.diagnostics)).toEqual([
      expect.stringMatching(
        /^error: deep\.yaml:5: Namespace n field b\[0\].*: YAML alias \*a nests the document deeper than 100 levels/,
      ),
    ]);
    expect(MAX_ALIAS_EXPANSION).toBe(10_000_000);
  });

  it('reports a self-referencing alias with its file and line, and still analyzes the rest (exit 1, not 2)', async () => {
    const dir = await write({
      'self.yaml': `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: foo}\ndata: &x\n  k: *x\n---\n${service('s')}`,
    });
    for (const args of [
      ['analyze', dir],
      ['analyze', '--fix', dir],
    ]) {
      const r = await cli(args);
      expect(r.code).toBe(1);
      expect(r.out + r.err).toMatch(
        /self\.yaml:5: ConfigMap foo\/c field data\.k: YAML alias \*x refers to the node it is in \(a self-reference\); document not read/,
      );
    }
    expect((await cli(['analyze', '--fix', dir])).out).toContain('name: s');
  });

  it('shows at most 80 characters of a large value of the wrong type (never the expansion)', async () => {
    // 1,000 × 1,000 characters: within the limit, so the object is read, and its sni is a list.
    const dr = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: big, namespace: foo}\nx-big:\n${aliasTower(3, 10, 'x'.repeat(1000))}spec:\n  host: h\n  trafficPolicy: {tls: {mode: SIMPLE, sni: *l3}}\n`;
    const labels = `apiVersion: v1\nkind: Service\nmetadata:\n  name: lab\n  namespace: foo\n  labels:\n    app: &big [${Array(
      200,
    )
      .fill('"' + 'y'.repeat(1000) + '"')
      .join(', ')}]\nspec: {ports: [{port: 80}]}\n`;
    const mesh = await loadMesh([await write({ 'dr.yaml': dr, 'labels.yaml': labels + `---\n${service('ok')}` })]);
    const t = texts(mesh.diagnostics);
    expect(
      t.some((x) => x.includes('DestinationRule foo/big field spec.trafficPolicy.tls.sni: must be string (got [[')),
    ).toBe(true);
    expect(t.some((x) => x.includes('Service foo/lab field metadata.labels.app: must be string (got ["yyyy'))).toBe(
      true,
    );
    for (const x of t) expect(x.length).toBeLessThan(300);
  });

  it('--fix never serializes a bomb in an unknown field or a pass-through kind: refused, quickly', async () => {
    const dir = await write({
      'd.yaml': `${bomb('Deployment', 'spec: {template: *l9}')}---\n${bomb('Service', 'x-unknown: *l9\nspec: {ports: [{port: 80}]}')}---\n${service('ok')}`,
    });
    const started = Date.now();
    const r = await cli(['analyze', '--fix', dir]);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(r.code).toBe(1);
    expect(r.out.length).toBeLessThan(2000);
    expect(r.out).toContain('name: ok');
    expect(r.err.match(/alias bomb/g)).toHaveLength(2);
  });

  it('--fix writes a document with aliases back as its original text, and says a fix to it is not written', async () => {
    const svc = `apiVersion: v1\nkind: Service\nmetadata: {name: httpbin, namespace: foo, labels: &l {app: httpbin}}\nspec:\n  selector: *l\n  ports: [{name: http, port: 8000}]\n`;
    const dr = `apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: httpbin, namespace: foo, labels: &x {a: b}}\nspec:\n  host: httpbin.foo.svc.cluster.local\n  trafficPolicy: {tls: {mode: DISABLE}}\n  x: *x\n`;
    const pa = `apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: istio-system}\nspec: {mtls: {mode: STRICT}}\n`;
    const dir = await write({ 'm.yaml': `${svc}---\n${dr}---\n${pa}` });
    const yaml = await cli(['analyze', '--fix', dir]);
    expect(yaml.out.startsWith(`${svc}---\n${dr}---\n`)).toBe(true);
    expect(yaml.err).toMatch(/m\.yaml:8: DestinationRule foo\/httpbin fix not written: it uses YAML aliases/);
    expect(yaml.err).toContain('1 object(s) patched (1 not written: see above)');
    const json = await cli(['analyze', '--fix', '-o', 'json', dir]);
    const items = (JSON.parse(json.out) as { items: { kind: string }[] }).items;
    expect(items.map((i) => i.kind)).toEqual(['PeerAuthentication']);
    expect(json.err).toMatch(/m\.yaml:1: Service foo\/httpbin --fix -o json leaves this document out/);
  });
});
