import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { applyOpsToDocumentText, YamlEditError } from '../../../src/fix/yaml-edit.js';
import type { PatchOperation } from '../../../src/rules/types.js';

const DR = `# a comment before
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: httpbin   # the name
  namespace: foo
spec:
  host: "httpbin"
  trafficPolicy:
    connectionPool:
      http:
        maxRequestsPerConnection: 1  # one
    outlierDetection:
      consecutiveErrors: 1 # ignored since 1.7
      maxEjectionPercent: 100
  subsets:
  - name: v1
    labels: {version: v1}
  exportTo:
  - "."
`;

function edit(ops: PatchOperation[], text = DR): string {
  return applyOpsToDocumentText(text, [], ops);
}

/** The lines of `after` that are not in `before` (and the reverse), in order. */
function changedLines(before: string, after: string): { added: string[]; removed: string[] } {
  const b = before.split('\n');
  const a = after.split('\n');
  return { added: a.filter((l) => !b.includes(l)), removed: b.filter((l) => !a.includes(l)) };
}

describe('applyOpsToDocumentText', () => {
  it('adds a key after the mapping’s last entry, in the document’s indentation, everything else byte for byte', () => {
    const out = edit([{ op: 'add', path: '/spec/trafficPolicy/tls', value: { mode: 'ISTIO_MUTUAL' } }]);
    expect(out).toBe(
      DR.replace(
        '      maxEjectionPercent: 100\n',
        '      maxEjectionPercent: 100\n    tls:\n      mode: ISTIO_MUTUAL\n',
      ),
    );
  });

  it('replaces a scalar in place, keeping its quoting and the comment after it', () => {
    const out = edit([
      { op: 'test', path: '/spec/host', value: 'httpbin' },
      { op: 'replace', path: '/spec/host', value: 'httpbin.foo.svc.cluster.local' },
      { op: 'replace', path: '/spec/trafficPolicy/connectionPool/http/maxRequestsPerConnection', value: 10 },
    ]);
    expect(changedLines(DR, out)).toEqual({
      added: ['  host: "httpbin.foo.svc.cluster.local"', '        maxRequestsPerConnection: 10  # one'],
      removed: ['  host: "httpbin"', '        maxRequestsPerConnection: 1  # one'],
    });
  });

  it('move within a mapping renames the key in place (its value and comment stay)', () => {
    const out = edit([
      {
        op: 'move',
        from: '/spec/trafficPolicy/outlierDetection/consecutiveErrors',
        path: '/spec/trafficPolicy/outlierDetection/consecutive5xxErrors',
      },
    ]);
    expect(changedLines(DR, out)).toEqual({
      added: ['      consecutive5xxErrors: 1 # ignored since 1.7'],
      removed: ['      consecutiveErrors: 1 # ignored since 1.7'],
    });
  });

  it('add on a list inserts before the index; - appends', () => {
    const out = edit([
      { op: 'add', path: '/spec/exportTo/-', value: 'istio-system' },
      { op: 'add', path: '/spec/exportTo/0', value: 'first' },
      { op: 'add', path: '/spec/subsets/-', value: { name: 'v2', labels: { version: 'v2' } } },
    ]);
    expect((parse(out) as { spec: { exportTo: string[] } }).spec.exportTo).toEqual(['first', '.', 'istio-system']);
    expect(out).toContain('  exportTo:\n  - first\n  - "."\n  - istio-system\n');
    expect(out).toContain('    labels: {version: v1}\n  - name: v2\n    labels:\n      version: v2\n');
  });

  it('adds into a flow mapping in flow style', () => {
    const out = edit([{ op: 'add', path: '/spec/subsets/0/labels/app', value: 'httpbin' }]);
    expect((parse(out) as { spec: { subsets: { labels: object }[] } }).spec.subsets[0]?.labels).toEqual({
      version: 'v1',
      app: 'httpbin',
    });
    expect(changedLines(DR, out).removed).toEqual(['    labels: {version: v1}']);
  });

  it('removes an entry’s lines; a collection left empty becomes {}', () => {
    const out = edit([{ op: 'remove', path: '/spec/trafficPolicy/outlierDetection/maxEjectionPercent' }]);
    expect(changedLines(DR, out)).toEqual({ added: [], removed: ['      maxEjectionPercent: 100'] });
    const emptied = edit([{ op: 'remove', path: '/spec/trafficPolicy/connectionPool/http/maxRequestsPerConnection' }]);
    expect(
      (parse(emptied) as { spec: { trafficPolicy: { connectionPool: object } } }).spec.trafficPolicy.connectionPool,
    ).toEqual({ http: {} });
  });

  it('a failing test stops the edit with what it found', () => {
    expect(() => edit([{ op: 'test', path: '/spec/host', value: 'other' }])).toThrow(YamlEditError);
    expect(() => edit([{ op: 'test', path: '/spec/host', value: 'other' }])).toThrow(
      /is "httpbin", the fix expected "other"/,
    );
    expect(() => edit([{ op: 'replace', path: '/spec/nothere/x', value: 1 }])).toThrow(/not there/);
  });

  it('writes new content in the document’s own style: 4-space indent, indented lists, CRLF', () => {
    const four = 'spec:\n    host: a\n    ports:\n        - 80\n';
    expect(
      edit(
        [{ op: 'add', path: '/spec/trafficPolicy', value: { tls: { mode: 'SIMPLE' }, subjectAltNames: ['x'] } }],
        four,
      ),
    ).toBe(
      four + '    trafficPolicy:\n        tls:\n            mode: SIMPLE\n        subjectAltNames:\n            - x\n',
    );
    const crlf = 'spec:\r\n  host: a # c\r\n';
    expect(edit([{ op: 'add', path: '/spec/addresses', value: ['10.0.0.1'] }], crlf)).toBe(
      'spec:\r\n  host: a # c\r\n  addresses:\r\n  - 10.0.0.1\r\n',
    );
  });

  it('quotes strings that YAML 1.1 readers would take for something else', () => {
    expect(edit([{ op: 'add', path: '/spec/x', value: 'yes' }], 'spec:\n  a: 1\n')).toBe('spec:\n  a: 1\n  x: "yes"\n');
  });

  it('edits an item of a List at its path', () => {
    const list =
      'apiVersion: v1\nkind: List\nitems:\n- kind: A\n  spec:\n    a: 1\n- kind: B\n  spec:\n    b: 1 # keep\n';
    expect(applyOpsToDocumentText(list, ['items', 1], [{ op: 'add', path: '/spec/c', value: 2 }])).toBe(
      list + '    c: 2\n',
    );
  });
});

// ---- property: the text edit means what fast-json-patch means on the parsed value --------------------

const FIXTURES = [
  DR,
  // 4-space indent, lists at the key's column, a block scalar, comments between and after entries
  'apiVersion: v1\nkind: ConfigMap\nmetadata:\n    name: istio   # name\n    labels:\n        a: "1"\ndata:\n    mesh: |-\n        enableAutoMtls: false\n    # a comment line\n    list:\n    - one\n    - two: 2\n      three: [3, 4]\n# trailing comment\n',
  // flow collections, quoted keys, a document without a final newline
  'kind: X\nmetadata: {name: x, namespace: "ns"}\nspec:\n  "quoted key": \'single\'\n  hosts: ["a", b]\n  nested:\n    - {k: v}\n    - - inner\n      - inner2\n  last: end',
  // CRLF
  'kind: Y\r\nspec:\r\n  a: 1 # c\r\n  b:\r\n  - x\r\n  - y\r\n',
];

function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pointerOf(path: (string | number)[]): string {
  return path.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

/** Every path in a value, with the value there. */
function paths(v: unknown, at: (string | number)[] = []): { path: (string | number)[]; value: unknown }[] {
  const out = [{ path: at, value: v }];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

function randomOp(value: unknown, r: () => number): PatchOperation | undefined {
  const all = paths(value).filter((p) => p.path.length > 0 && p.path[0] !== 'kind');
  const pick = all[Math.floor(r() * all.length)];
  if (!pick) return undefined;
  const values = ['new', 42, true, { m: 'x', n: [1, 2] }, ['p', { q: 'r' }], 'yes', 'a: b', {}];
  const nv = values[Math.floor(r() * values.length)];
  const kind = Math.floor(r() * 5);
  const path = pointerOf(pick.path);
  if (kind === 0) return { op: 'replace', path, value: nv };
  if (kind === 1 && Array.isArray(pick.value))
    return {
      op: 'add',
      path: path + '/' + (r() < 0.5 ? '-' : String(Math.floor(r() * (pick.value.length + 1)))),
      value: nv,
    };
  if (kind === 1 && pick.value && typeof pick.value === 'object')
    return { op: 'add', path: path + '/added' + Math.floor(r() * 3), value: nv };
  if (kind === 2) return { op: 'remove', path };
  if (kind === 3 && pick.path.length > 0 && typeof pick.path[pick.path.length - 1] === 'string')
    return { op: 'move', from: path, path: pointerOf([...pick.path.slice(0, -1), 'moved']) };
  return { op: 'test', path, value: pick.value };
}

describe('applyOpsToDocumentText on random operations', () => {
  it('gives the value fast-json-patch gives, for each fixture and 400 random operation lists', async () => {
    const { applyPatch, deepClone } = (await import('fast-json-patch')).default;
    const r = rng(1);
    const refused: string[] = [];
    for (let n = 0; n < 400; n++) {
      const text = FIXTURES[n % FIXTURES.length] as string;
      const ops: PatchOperation[] = [];
      let expected: unknown = parse(text);
      for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
        const op = randomOp(expected, r);
        if (!op) break;
        const trial = deepClone(expected);
        try {
          applyPatch(trial, [op], true, true);
        } catch {
          continue; // not a valid operation here (e.g. a move into its own child)
        }
        ops.push(op);
        expected = trial;
      }
      let out: string;
      try {
        out = applyOpsToDocumentText(text, [], ops);
      } catch (err) {
        // refusing is allowed only with a clear reason, never for a plain edit of a block mapping entry
        expect(err, JSON.stringify(ops)).toBeInstanceOf(YamlEditError);
        refused.push(`${n % FIXTURES.length} ${JSON.stringify(ops)}: ${(err as Error).message}`);
        continue;
      }
      expect(parse(out), `${JSON.stringify(ops)}\n${out}`).toEqual(expected);
    }
    // only what cannot be spliced in place is refused (a compact nested list, `- - inner`)
    expect(refused.length, refused.join('\n')).toBeLessThan(400 / 20);
    expect(
      refused.filter((x) => !x.includes('does not start its line')),
      refused.join('\n'),
    ).toEqual([]);
  });
});
