import { describe, expect, it } from 'vitest';
import { buildMesh, loadMesh } from '../../../src/analysis/load-mesh.js';
import { parseDocuments } from '../../../src/input/parse-documents.js';
import { cli } from '../run-cli-in-process.js';
import { service, texts, write } from '../input-helpers.js';

describe('no size or depth limit from recursion', () => {
  it('reads any number of documents per file: 130,000, all one name (130,000 duplicates reported)', async () => {
    const n = 130_000;
    // Each copy differs (an identical copy loses nothing and is not reported).
    const text = Array.from(
      { length: n },
      (_, i) => `---\napiVersion: v1\nkind: Namespace\nmetadata: {name: same, labels: {n: "${i}"}}\n`,
    ).join('');
    const read = parseDocuments(text, 'many.yaml');
    expect(read.documents).toHaveLength(n);
    const mesh = await buildMesh({ ...read, filesRead: 1 });
    expect(mesh.index.size).toBe(1);
    expect(mesh.diagnostics).toHaveLength(n - 1);
    expect(texts(mesh.diagnostics.slice(-1))).toEqual([
      expect.stringMatching(/^warning: many\.yaml:519994: Namespace same duplicate: many\.yaml:519998/),
    ]);
  }, 60_000);

  it('a deeply nested top-level JSON array is reported for that document only', async () => {
    const depth = 200_000;
    const dir = await write({ 'deep.json': '['.repeat(depth) + ']'.repeat(depth), 'ok.yaml': service('ok') });
    const mesh = await loadMesh([dir]);
    expect(mesh.index.get('Service/foo/ok')).toBeDefined();
    expect(texts(mesh.diagnostics)).toEqual([
      expect.stringMatching(
        /deep\.json:1: field \[0\]\[0\].*…\(88 levels\)….*: nested deeper than 100 levels; object skipped$/,
      ),
    ]);
  });

  it('deep JSON under --fix: that object is reported and skipped, the rest is written (exit 1, not 2)', async () => {
    const spec = JSON.parse('{"a":'.repeat(20_000) + '1' + '}'.repeat(20_000)) as unknown;
    const deep = JSON.stringify({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'x', namespace: 'foo' },
      spec,
    });
    const dir = await write({ 'deep.json': deep, 'ok.yaml': service('ok') });
    const r = await cli(['analyze', '--fix', dir]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /deep\.json:1: Deployment foo\/x field spec\.a\.a.*: nested deeper than 100 levels; object skipped/,
    );
    expect(r.out).toContain('name: ok');
  });

  it('gives each object of a JSON array or List its own line', () => {
    const svc = (name: string): object => ({
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name },
      spec: { ports: [{ port: 80 }] },
    });
    const pretty = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [svc('a'), svc('b')] }, null, 2);
    expect(parseDocuments(pretty, 'l.json').documents.map((d) => d.line)).toEqual([5, 19]);
    expect(
      parseDocuments(`\n\n${JSON.stringify([svc('a'), svc('b')], null, 1)}`, 'a.json').documents.map((d) => d.line),
    ).toEqual([4, 18]);
  });
});
