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
    expect(out).toBe(DR.replace('      maxEjectionPercent: 100\n', '      maxEjectionPercent: 100\n    tls:\n      mode: ISTIO_MUTUAL\n'));
  });

  it('replaces a scalar in place, keeping its quoting and the comment after it', () => {
    const out = edit([
      { op: 'test', path: '/spec/host', value: 'httpbin' },
      { op: 'replace', path: '/spec/host', value: 'httpbin.foo.svc.cluster.local' },
      { op: 'replace', path: '/spec/trafficPolicy/connectionPool/http/maxRequestsPerConnection', value: 10 },
    ]);
    expect(changedLines(DR, out)).toEqual({ added: ['  host: "httpbin.foo.svc.cluster.local"', '        maxRequestsPerConnection: 10  # one'], removed: ['  host: "httpbin"', '        maxRequestsPerConnection: 1  # one'] });
  });

  it('move within a mapping renames the key in place (its value and comment stay)', () => {
    const out = edit([{ op: 'move', from: '/spec/trafficPolicy/outlierDetection/consecutiveErrors', path: '/spec/trafficPolicy/outlierDetection/consecutive5xxErrors' }]);
    expect(changedLines(DR, out)).toEqual({ added: ['      consecutive5xxErrors: 1 # ignored since 1.7'], removed: ['      consecutiveErrors: 1 # ignored since 1.7'] });
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
    expect((parse(out) as { spec: { subsets: { labels: object }[] } }).spec.subsets[0]?.labels).toEqual({ version: 'v1', app: 'httpbin' });
    expect(changedLines(DR, out).removed).toEqual(['    labels: {version: v1}']);
  });

  it('removes an entry’s lines; a collection left empty becomes {}', () => {
    const out = edit([{ op: 'remove', path: '/spec/trafficPolicy/outlierDetection/maxEjectionPercent' }]);
    expect(changedLines(DR, out)).toEqual({ added: [], removed: ['      maxEjectionPercent: 100'] });
    const emptied = edit([{ op: 'remove', path: '/spec/trafficPolicy/connectionPool/http/maxRequestsPerConnection' }]);
    expect((parse(emptied) as { spec: { trafficPolicy: { connectionPool: object } } }).spec.trafficPolicy.connectionPool).toEqual({ http: {} });
  });

  it('a failing test stops the edit with what it found', () => {
    expect(() => edit([{ op: 'test', path: '/spec/host', value: 'other' }])).toThrow(YamlEditError);
    expect(() => edit([{ op: 'test', path: '/spec/host', value: 'other' }])).toThrow(/is "httpbin", the fix expected "other"/);
    expect(() => edit([{ op: 'replace', path: '/spec/nothere/x', value: 1 }])).toThrow(/not there/);
  });

  it('writes new content in the document’s own style: 4-space indent, indented lists, CRLF', () => {
    const four = 'spec:\n    host: a\n    ports:\n        - 80\n';
    expect(edit([{ op: 'add', path: '/spec/trafficPolicy', value: { tls: { mode: 'SIMPLE' }, subjectAltNames: ['x'] } }], four)).toBe(four + '    trafficPolicy:\n        tls:\n            mode: SIMPLE\n        subjectAltNames:\n            - x\n');
    const crlf = 'spec:\r\n  host: a # c\r\n';
    expect(edit([{ op: 'add', path: '/spec/addresses', value: ['10.0.0.1'] }], crlf)).toBe('spec:\r\n  host: a # c\r\n  addresses:\r\n  - 10.0.0.1\r\n');
  });

  it('quotes strings that YAML 1.1 readers would take for something else', () => {
    expect(edit([{ op: 'add', path: '/spec/x', value: 'yes' }], 'spec:\n  a: 1\n')).toBe('spec:\n  a: 1\n  x: "yes"\n');
  });

  it('edits an item of a List at its path', () => {
    const list = 'apiVersion: v1\nkind: List\nitems:\n- kind: A\n  spec:\n    a: 1\n- kind: B\n  spec:\n    b: 1 # keep\n';
    expect(applyOpsToDocumentText(list, ['items', 1], [{ op: 'add', path: '/spec/c', value: 2 }])).toBe(list + '    c: 2\n');
  });
});
