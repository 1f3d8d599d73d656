import { afterEach, describe, expect, it } from 'vitest';
import { parseDocuments, splitYaml } from '../../../src/input/parse-documents.js';
import { cutAtSeparators, defaultWorkers, ParsePool } from '../../../src/input/parse-pool.js';
import { readInputs } from '../../../src/input/read-inputs.js';
import { texts, write } from '../input-helpers.js';

const namespace = (i: number): string => `apiVersion: v1\nkind: Namespace\nmetadata: {name: ns-${i}}\n`;

/** Every kind of document the YAML path knows: plain, content on the `---` line, comments only, `...`, aliases, a syntax error, numbers JSON cannot carry. */
function mixed(count: number): string {
  const docs: string[] = [];
  for (let i = 0; i < count; i++) {
    if (i % 7 === 3) docs.push(`# only a comment ${i}\n`);
    else if (i % 11 === 5) docs.push(`apiVersion: v1\nkind: Namespace\nmetadata: {name: [broken ${i}}\n`);
    else if (i % 13 === 6)
      docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm-${i}, namespace: a}\ndata: {x: &v "1", y: *v}\n`);
    else if (i % 19 === 8)
      docs.push(
        `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: n-${i}, namespace: a}\nx: {inf: .inf, nan: .nan, zero: -0, big: 12345678901234567890}\n`,
      );
    else if (i % 23 === 10)
      docs.push(`apiVersion: v1\nkind: ConfigMap\nmetadata: {name: z-${i}, namespace: a}\nx: [-0, -.0]\n`);
    else docs.push(namespace(i));
  }
  return docs.map((d, i) => (i % 17 === 9 ? `--- ${d.replace(/\n/, '\n')}` : `---\n${d}`)).join('') + '...\n';
}

let pool: ParsePool | undefined;
afterEach(async () => {
  await pool?.close();
  pool = undefined;
});

describe('parse pool', () => {
  it('cuts a file at separator lines so that its parts split into the documents the whole does, on the same lines', () => {
    const text = mixed(200);
    const parts = cutAtSeparators(text, 500);
    expect(parts.length).toBeGreaterThan(10);
    expect(parts.flatMap((p) => splitYaml(p.text, p.firstLine)).filter((c) => c.body !== '')).toEqual(
      splitYaml(text).filter((c) => c.body !== ''),
    );
  });

  it('parsed across worker threads, a file gives exactly what parseDocuments gives: order, file, line, errors, write-back', async () => {
    const text = mixed(400).replace(/\n/g, '\r\n');
    pool = new ParsePool({ workers: 2, callerParses: false, minLength: 0, partLength: 1000 });
    const parsed = await pool.parse(Buffer.from(text), 'big.yaml');
    expect(pool.partsParsedInWorkers).toBeGreaterThan(4);
    expect(parsed).toEqual(parseDocuments(Buffer.from(text), 'big.yaml'));
    const names = parsed.documents.map((d) => (d.value as { metadata: { name: string } }).metadata.name);
    expect(names.slice(0, 4)).toEqual(['ns-0', 'ns-1', 'ns-2', 'ns-4']);
    expect(names.at(-1)).toBe('ns-399');
  });

  it("uses a worker per free core but the caller's: none on a busy machine or a single core", () => {
    expect([
      defaultWorkers(2, 0.3),
      defaultWorkers(2, 1.5),
      defaultWorkers(1, 0),
      defaultWorkers(8, 2.5),
      defaultWorkers(64, 0),
    ]).toEqual([1, 0, 0, 5, 8]);
  });

  it('with the calling thread parsing parts too, the result is the same', async () => {
    const text = mixed(400);
    pool = new ParsePool({ workers: 1, minLength: 0, partLength: 500 });
    expect(await pool.parse(text, 'big.yaml')).toEqual(parseDocuments(text, 'big.yaml'));
  });

  it('errors found in a worker name the file and their line in it', async () => {
    const docs = Array.from({ length: 300 }, (_, i) =>
      i === 250 ? 'apiVersion: v1\nkind: Namespace\nmetadata: {name: x\n' : namespace(i),
    );
    const text = docs.join('---\n');
    pool = new ParsePool({ workers: 2, callerParses: false, minLength: 0, partLength: 2000 });
    const parsed = await pool.parse(text, 'dir/big.yaml');
    expect(pool.partsParsedInWorkers).toBeGreaterThan(2);
    // document 250 starts on line 250 * 4 + 1; its flow mapping is left open on its third line
    expect(texts(parsed.diagnostics)).toEqual([
      expect.stringMatching(/^error: dir\/big\.yaml:100[3-4]: invalid YAML: /),
    ]);
    expect(parsed.documents[250]?.line).toBe(1005);
    expect(parsed.documents).toHaveLength(299);
  });

  it('invalid UTF-8 in a file parsed by workers is reported once, with its byte offset, and refuses write-back of the file', async () => {
    const head = Buffer.from(Array.from({ length: 100 }, (_, i) => namespace(i)).join('---\n'));
    const last = Buffer.from('---\napiVersion: v1\nkind: Namespace\nmetadata: {name: "b');
    const bytes = Buffer.concat([head, last, Buffer.from([0xc3]), Buffer.from('"}\n')]);
    pool = new ParsePool({ workers: 2, callerParses: false, minLength: 0, partLength: 500 });
    const parsed = await pool.parse(bytes, 'u.yaml');
    expect(pool.partsParsedInWorkers).toBeGreaterThan(2);
    expect(texts(parsed.diagnostics)).toEqual([
      expect.stringMatching(
        new RegExp(
          `^error: u\\.yaml:403: Namespace b\uFFFD field metadata\\.name: invalid UTF-8 at byte offset ${head.length + last.length} `,
        ),
      ),
    ]);
    expect(parsed.documents[0]?.writeBack).toEqual({
      kind: 'refused',
      reason: expect.stringMatching(/^u\.yaml holds invalid UTF-8/),
    });
  });

  it('readInputs keeps the order of files and of what could not be read, with large files parsed in workers', async () => {
    const n = 2000;
    const big = Array.from({ length: n }, (_, i) => namespace(i)).join('---\n');
    const dir = await write({
      'a.yaml': big,
      'b.yaml': namespace(-1),
      'c.yaml': 'kind: [\n',
      'd.json': '[' + JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'j' } }) + ']',
    });
    const read = await readInputs([dir, `${dir}/missing.yaml`, dir], undefined, {
      workers: 2,
      callerParses: false,
      minLength: 0,
      partLength: 2000,
    });
    const names = read.documents.map((d) => (d.value as { metadata: { name: string } }).metadata.name);
    expect(names.slice(n - 2, n + 2)).toEqual([`ns-${n - 2}`, `ns-${n - 1}`, 'ns--1', 'j']);
    expect(read.documents).toHaveLength(2 * (n + 2));
    expect(read.documents[2 * n + 1]?.line).toBe(4 * (n - 1) + 1);
    expect(texts(read.diagnostics).map((t) => t.replace(dir, 'D'))).toEqual([
      expect.stringMatching(/^error: D\/c\.yaml:2: invalid YAML/),
      expect.stringMatching(/^error: D\/missing\.yaml: cannot read: ENOENT/),
      expect.stringMatching(/^error: D\/c\.yaml:2: invalid YAML/),
    ]);
    expect(read.filesRead).toBe(8);
  });
});
