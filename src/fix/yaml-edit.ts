import {
  Document,
  isMap,
  isPair,
  isScalar,
  isSeq,
  parseAllDocuments,
  Scalar,
  type Node,
  type Pair,
  type ParsedNode,
  type YAMLMap,
  type YAMLSeq,
} from 'yaml';
import type { PatchOperation } from '../rules/types.js';

/**
 * RFC 6902 operations applied to one YAML document's text, in place: the yaml package's Document API finds
 * the nodes and their source ranges, and each operation is spliced into the text at those ranges. What an
 * operation does not touch stays byte for byte as it was (comments, key order, indentation, quoting, blank
 * lines); the text is parsed again after each operation, so later operations and `test`s see earlier ones.
 *
 * - `add` on a mapping appends the key after the mapping's last entry (or replaces the value when the key is
 *   there, as RFC 6902 says); on a sequence it inserts before the index, `-` appends;
 * - `replace` of a scalar by a scalar keeps the scalar's quoting style; anything else rewrites that entry;
 * - `remove` deletes the entry's lines (a collection left empty becomes `{}` / `[]`);
 * - `move` renames the key when it stays in its block mapping (keeping its place and comments), else it is a
 *   `remove` then an `add`; `copy` is an `add`;
 * - `test` compares the value in the text now; a failing test stops the edit (the caller keeps the file).
 * New content is written in the document's own indentation and sequence style, strings quoted where
 * YAML 1.1 readers (kubectl, go-yaml) would read them as something else.
 */

export type Segment = string | number;

export class YamlEditError extends Error {}

/** Options the documents are parsed with here and by the caller (YAML 1.2, duplicate keys are errors). */
export const YAML_PARSE_OPTIONS = {
  version: '1.2',
  uniqueKeys: true,
  prettyErrors: false,
  keepSourceTokens: false,
} as const;

interface Style {
  indent: number;
  indentSeq: boolean;
  eol: string;
}

/** Parses one document's text; anything the parser reports is an error (the file is not edited). */
export function parseOneDocument(text: string): Document.Parsed {
  const docs = parseAllDocuments(text, YAML_PARSE_OPTIONS);
  if (!Array.isArray(docs) || docs.length !== 1)
    throw new YamlEditError('the edited document no longer parses as one document');
  const doc = docs[0] as Document.Parsed;
  const problem = doc.errors[0] ?? doc.warnings[0];
  if (problem) throw new YamlEditError(`the document does not parse cleanly: ${problem.message.split('\n')[0] ?? ''}`);
  return doc;
}

/** JSON pointer ("/spec/http/0/timeout") to segments, RFC 6901 unescaped. */
export function pointerSegments(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new YamlEditError(`not a JSON pointer: ${JSON.stringify(pointer)}`);
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/**
 * Applies `ops` to the object at `base` (its path in the document: [] for a document that is the object,
 * ['items', 3] for an item of a List) and returns the document's new text. Throws YamlEditError when an
 * operation cannot be applied as RFC 6902 says (a missing path, a failing `test`) or cannot be written in place.
 */
export function applyOpsToDocumentText(text: string, base: Segment[], ops: readonly PatchOperation[]): string {
  let current = text;
  for (const op of ops) current = applyOp(current, base, op);
  return current;
}

function applyOp(text: string, base: Segment[], op: PatchOperation): string {
  const doc = parseOneDocument(text);
  const ed = new Editor(text, doc);
  const path = [...base, ...pointerSegments(op.path)];
  switch (op.op) {
    case 'test': {
      const found = ed.valueAt(path);
      if (found === MISSING)
        throw new YamlEditError(`test failed: ${op.path} is not there (expected ${JSON.stringify(op.value)})`);
      if (!deepEqual(found, op.value))
        throw new YamlEditError(
          `test failed: ${op.path} is ${JSON.stringify(found)}, the fix expected ${JSON.stringify(op.value)} (the file changed since it was analyzed?)`,
        );
      return text;
    }
    case 'add':
      return ed.add(path, op.value);
    case 'replace':
      if (ed.valueAt(path) === MISSING) throw new YamlEditError(`replace: ${op.path} is not there`);
      return ed.replace(path, op.value);
    case 'remove':
      return ed.remove(path);
    case 'move': {
      const from = [...base, ...pointerSegments(op.from)];
      const value = ed.valueAt(from);
      if (value === MISSING) throw new YamlEditError(`move: ${op.from} is not there`);
      if (op.from === op.path) return text;
      const renamed = ed.renameKey(from, path);
      if (renamed !== undefined) return renamed;
      const removed = ed.remove(from);
      return new Editor(removed, parseOneDocument(removed)).add(path, value);
    }
    case 'copy': {
      const value = ed.valueAt([...base, ...pointerSegments(op.from)]);
      if (value === MISSING) throw new YamlEditError(`copy: ${op.from} is not there`);
      return ed.add(path, value);
    }
    default:
      throw new YamlEditError(`unsupported operation ${(op as { op: string }).op}`);
  }
}

const MISSING = Symbol('missing');

type Collection = YAMLMap<ParsedNode, ParsedNode | null> | YAMLSeq<ParsedNode | null>;

interface Located {
  node: ParsedNode | null;
  parent: Collection | undefined;
  /** The entry's index in its parent (a map's pair or a sequence's item). */
  index: number;
}

function isCollection(n: unknown): n is Collection {
  return isMap(n) || isSeq(n);
}

class Editor {
  private readonly style: Style;

  constructor(
    private readonly text: string,
    private readonly doc: Document.Parsed,
  ) {
    this.style = detectStyle(text, doc);
  }

  valueAt(path: Segment[]): unknown {
    const loc = this.locate(path);
    if (!loc) return MISSING;
    return loc.node === null ? null : (loc.node.toJS(this.doc) as unknown);
  }

  /** The node at `path` and where it sits (undefined: not there). */
  private locate(path: Segment[]): Located | undefined {
    let node: ParsedNode | null = this.doc.contents;
    let parent: Collection | undefined;
    let index = -1;
    for (const seg of path) {
      if (isMap(node)) {
        const map = node as YAMLMap<ParsedNode, ParsedNode | null>;
        index = map.items.findIndex((p) => keyText(p) === String(seg));
        if (index < 0) return undefined;
        parent = map;
        node = (map.items[index] as Pair<ParsedNode, ParsedNode | null>).value;
      } else if (isSeq(node)) {
        const seq = node as YAMLSeq<ParsedNode | null>;
        const i = arrayIndex(seg, seq.items.length, false);
        if (i === undefined) return undefined;
        parent = seq;
        index = i;
        node = seq.items[i] ?? null;
      } else {
        return undefined;
      }
    }
    return { node, parent, index };
  }

  private parentOf(path: Segment[]): { parent: Collection; key: Segment; loc: Located } {
    if (path.length === 0) throw new YamlEditError('an operation on the whole document');
    const loc = this.locate(path.slice(0, -1));
    if (!loc || !isCollection(loc.node))
      throw new YamlEditError(`${formatPath(path.slice(0, -1))} is not there (or not a mapping or list)`);
    return { parent: loc.node, key: path[path.length - 1] as Segment, loc };
  }

  add(path: Segment[], value: unknown): string {
    const { parent, key } = this.parentOf(path);
    if (isMap(parent)) {
      const i = parent.items.findIndex((p) => keyText(p) === String(key));
      if (i >= 0) return this.replaceEntry(parent, i, value);
      if (parent.flow)
        return this.rewriteFlow(parent, {
          ...(parent.toJS(this.doc) as Record<string, unknown>),
          [String(key)]: value,
        });
      return this.insertPair(parent, String(key), value);
    }
    const seq = parent;
    const i = arrayIndex(key, seq.items.length, true);
    if (i === undefined)
      throw new YamlEditError(`add: index ${String(key)} is out of range (the list has ${seq.items.length} items)`);
    if (seq.flow) {
      const items = seq.toJS(this.doc) as unknown[];
      items.splice(i, 0, value);
      return this.rewriteFlow(seq, items);
    }
    return this.insertItem(seq, i, value);
  }

  /** `replace` of a value that is there (the caller checked). */
  replace(path: Segment[], value: unknown): string {
    const { parent, key } = this.parentOf(path);
    const at = isMap(parent)
      ? parent.items.findIndex((p) => keyText(p) === String(key))
      : (arrayIndex(key, parent.items.length, false) ?? -1);
    if (at < 0) throw new YamlEditError(`replace: ${formatPath(path)} is not there`);
    return this.replaceEntry(parent, at, value);
  }

  remove(path: Segment[]): string {
    const { parent, key, loc } = this.parentOf(path);
    const at = isMap(parent)
      ? parent.items.findIndex((p) => keyText(p) === String(key))
      : (arrayIndex(key, parent.items.length, false) ?? -1);
    if (at < 0) throw new YamlEditError(`remove: ${formatPath(path)} is not there`);
    if (parent.flow || parent.items.length === 1) {
      const js = parent.toJS(this.doc) as Record<string, unknown> | unknown[];
      if (Array.isArray(js)) js.splice(at, 1);
      else delete js[String(key)];
      return parent.flow ? this.rewriteFlow(parent, js) : this.replaceLocated(loc, js);
    }
    const [start, end] = isMap(parent) ? this.pairSpan(parent, at) : this.itemSpan(parent, at);
    return this.text.slice(0, start) + this.text.slice(end);
  }

  /** A move within one block mapping to a key it does not have: the key's text is changed, nothing else. */
  renameKey(from: Segment[], to: Segment[]): string | undefined {
    if (from.length !== to.length || from.slice(0, -1).some((s, i) => String(s) !== String(to[i]))) return undefined;
    const loc = this.locate(from);
    if (!loc || !isMap(loc.parent) || loc.parent.flow) return undefined;
    const map = loc.parent;
    const newKey = String(to[to.length - 1]);
    if (map.items.some((p) => keyText(p) === newKey)) return undefined;
    const key = (map.items[loc.index] as Pair<ParsedNode, ParsedNode | null>).key;
    if (!isScalar(key) || !key.range) return undefined;
    return this.splice(key.range[0], key.range[1], renderScalar(newKey, key.type));
  }

  // ---- entries ---------------------------------------------------------------------------------------

  private replaceEntry(parent: Collection, index: number, value: unknown): string {
    if (parent.flow) {
      const js = parent.toJS(this.doc) as Record<string, unknown> | unknown[];
      if (Array.isArray(js)) js[index] = value;
      else js[keyText(parent.items[index] as Pair<ParsedNode, ParsedNode | null>)] = value;
      return this.rewriteFlow(parent, js);
    }
    const node = isMap(parent)
      ? (parent.items[index] as Pair<ParsedNode, ParsedNode | null>).value
      : (parent.items[index] ?? null);
    return this.replaceLocated({ node, parent, index }, value);
  }

  /** Replaces the value at a location: a scalar in its place and style; anything else rewrites the entry. */
  private replaceLocated(loc: Located, value: unknown): string {
    const { node, parent, index } = loc;
    if (isScalarValue(value) && isScalar(node) && node.range && !isBlockScalar(node) && node.source !== '') {
      return this.splice(
        node.range[0],
        node.range[1],
        renderScalar(value, typeof value === 'string' ? node.type : undefined),
      );
    }
    if (!parent) {
      if (!node?.range) throw new YamlEditError('cannot replace the document root in place');
      return this.splice(node.range[0], contentEnd(node, this.text), renderFlow(value));
    }
    if (parent.flow) {
      const js = parent.toJS(this.doc) as Record<string, unknown> | unknown[];
      if (Array.isArray(js)) js[index] = value;
      else js[keyText(parent.items[index] as Pair<ParsedNode, ParsedNode | null>)] = value;
      return this.rewriteFlow(parent, js);
    }
    if (isMap(parent)) {
      const pair = parent.items[index] as Pair<ParsedNode, ParsedNode | null>;
      const start = pair.key.range?.[0];
      if (start === undefined) throw new YamlEditError('a mapping key without a source position');
      const end = this.entryEnd(pair);
      const col = this.column(start);
      if (!this.onlySpaceBefore(start) && !this.afterDash(start))
        throw new YamlEditError('a mapping entry that does not start its line');
      return this.splice(start, end, this.indentRest(renderBlock({ [keyText(pair)]: value }, this.style), col));
    }
    const seq = parent;
    const dash = this.dashOf(seq, index);
    return this.splice(
      dash,
      this.entryEnd(seq.items[index] ?? null, dash + 1),
      this.indentRest(renderBlock([value], this.style), this.column(dash)),
    );
  }

  private insertPair(map: YAMLMap<ParsedNode, ParsedNode | null>, key: string, value: unknown): string {
    const first = map.items[0];
    const last = map.items[map.items.length - 1];
    if (!first || !last) throw new YamlEditError('an empty block mapping');
    const start = first.key.range?.[0];
    if (start === undefined) throw new YamlEditError('a mapping key without a source position');
    const col = this.column(start);
    const at = this.lineEnd(this.entryEnd(last));
    return this.splice(
      at,
      at,
      this.style.eol + ' '.repeat(col) + this.indentRest(renderBlock({ [key]: value }, this.style), col),
    );
  }

  private insertItem(seq: YAMLSeq<ParsedNode | null>, index: number, value: unknown): string {
    if (seq.items.length === 0) throw new YamlEditError('an empty block sequence');
    const col = this.column(this.dashOf(seq, 0));
    const rendered = ' '.repeat(col) + this.indentRest(renderBlock([value], this.style), col);
    if (index < seq.items.length) {
      const dash = this.dashOf(seq, index);
      if (!this.onlySpaceBefore(dash)) throw new YamlEditError('a list item that does not start its line');
      const at = this.lineStart(dash);
      return this.splice(at, at, rendered + this.style.eol);
    }
    const at = this.lineEnd(
      this.entryEnd(seq.items[seq.items.length - 1] ?? null, this.dashOf(seq, seq.items.length - 1) + 1),
    );
    return this.splice(at, at, this.style.eol + rendered);
  }

  /** From the start of a block mapping entry's line to the end of its last line (with the line break). */
  private pairSpan(map: YAMLMap<ParsedNode, ParsedNode | null>, index: number): [number, number] {
    const pair = map.items[index] as Pair<ParsedNode, ParsedNode | null>;
    const keyStart = pair.key.range?.[0];
    if (keyStart === undefined) throw new YamlEditError('a mapping key without a source position');
    const next = map.items[index + 1];
    if (!this.onlySpaceBefore(keyStart)) {
      // the first entry of a list item's mapping (`- name: x`): the next entry moves up onto the dash line
      const nextStart = next ? next.key.range?.[0] : undefined;
      if (nextStart === undefined || !this.afterDash(keyStart))
        throw new YamlEditError('a mapping entry that does not start its line');
      return [keyStart, nextStart];
    }
    return [this.lineStart(keyStart), this.afterLineEnd(this.entryEnd(pair))];
  }

  private itemSpan(seq: YAMLSeq<ParsedNode | null>, index: number): [number, number] {
    const dash = this.dashOf(seq, index);
    if (!this.onlySpaceBefore(dash)) throw new YamlEditError('a list item that does not start its line');
    return [this.lineStart(dash), this.afterLineEnd(this.entryEnd(seq.items[index] ?? null, dash + 1))];
  }

  /** The `-` of a block sequence's item. */
  private dashOf(seq: YAMLSeq<ParsedNode | null>, index: number): number {
    const item = seq.items[index];
    const from = item?.range?.[0];
    if (from === undefined) throw new YamlEditError('a list item without a source position');
    let q = from - 1;
    while (q >= 0 && (this.text[q] === ' ' || this.text[q] === '\t')) q--;
    if (this.text[q] !== '-') throw new YamlEditError('a list item whose dash is not on its line');
    return q;
  }

  /** Where an entry's content ends (its last character that is not a comment or blank). */
  private entryEnd(entry: Pair<ParsedNode, ParsedNode | null> | ParsedNode | null, fallback = 0): number {
    if (entry === null) return fallback;
    if (isPair(entry)) {
      const pair = entry;
      const keyEnd = pair.key.range?.[1] ?? fallback;
      const colon = this.text.indexOf(':', keyEnd);
      return pair.value ? Math.max(colon + 1, this.entryEnd(pair.value, colon + 1)) : colon + 1;
    }
    return contentEnd(entry, this.text) || fallback;
  }

  private rewriteFlow(node: Collection, value: unknown): string {
    if (!node.range) throw new YamlEditError('a flow collection without a source position');
    return this.splice(node.range[0], node.range[1], renderFlow(value));
  }

  // ---- text ------------------------------------------------------------------------------------------

  private splice(from: number, to: number, insert: string): string {
    return this.text.slice(0, from) + insert + this.text.slice(to);
  }

  private lineStart(offset: number): number {
    return this.text.lastIndexOf('\n', offset - 1) + 1;
  }

  /** The offset of the line break ending the line that holds `offset` (before a \r of \r\n). */
  private lineEnd(offset: number): number {
    const nl = this.text.indexOf('\n', offset);
    if (nl < 0) return this.text.length;
    return this.text[nl - 1] === '\r' ? nl - 1 : nl;
  }

  private afterLineEnd(offset: number): number {
    const nl = this.text.indexOf('\n', offset);
    return nl < 0 ? this.text.length : nl + 1;
  }

  private column(offset: number): number {
    return offset - this.lineStart(offset);
  }

  private onlySpaceBefore(offset: number): boolean {
    return /^[ \t]*$/.test(this.text.slice(this.lineStart(offset), offset));
  }

  /** `- key: ...`: only a dash (and spaces) before the offset on its line. */
  private afterDash(offset: number): boolean {
    return /^[ \t]*-[ \t]+$/.test(this.text.slice(this.lineStart(offset), offset));
  }

  /** Indents every line but the first by `col` spaces (the first goes where the old text started). */
  private indentRest(block: string, col: number): string {
    const lines = block.replace(/\n$/, '').split('\n');
    return lines.map((l, i) => (i === 0 || l === '' ? l : ' '.repeat(col) + l)).join(this.style.eol);
  }
}

/** The last offset of a node's content, past trailing blanks and comments. */
function contentEnd(node: Node, text: string): number {
  if (isCollection(node) && !node.flow) {
    const last = node.items[node.items.length - 1];
    if (last !== undefined && last !== null) {
      if (isPair(last)) {
        const pair = last;
        const keyEnd = pair.key.range?.[1] ?? 0;
        const colon = text.indexOf(':', keyEnd);
        return pair.value ? Math.max(colon + 1, contentEnd(pair.value, text)) : colon + 1;
      }
      return contentEnd(last, text);
    }
  }
  let end = node.range?.[1] ?? 0;
  while (end > 0 && /\s/.test(text[end - 1] ?? '')) end--;
  return end;
}

function isBlockScalar(n: Scalar): boolean {
  return n.type === 'BLOCK_LITERAL' || n.type === 'BLOCK_FOLDED';
}

function isScalarValue(v: unknown): boolean {
  return v === null || typeof v !== 'object';
}

function keyText(pair: Pair<unknown, unknown>): string {
  const k = pair.key;
  if (isScalar(k)) return String(k.value);
  return String(k);
}

function arrayIndex(seg: Segment, length: number, forAdd: boolean): number | undefined {
  if (forAdd && seg === '-') return length;
  const s = String(seg);
  if (!/^(0|[1-9]\d*)$/.test(s)) return undefined;
  const i = Number(s);
  return i < length || (forAdd && i === length) ? i : undefined;
}

function formatPath(path: Segment[]): string {
  return '/' + path.map((s) => String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join('/');
}

/** Where the first item of a block collection starts (its key for a map); undefined for anything else. */
function blockChildStart(value: ParsedNode | null): number | undefined {
  if (!value || !isCollection(value) || value.flow) return undefined;
  const first = value.items[0];
  return isPair(first)
    ? (first.key as ParsedNode | null)?.range?.[0]
    : (first as ParsedNode | null | undefined)?.range?.[0];
}

/** The offset of the "- " before a sequence item that starts at childStart, when there is one. */
function dashBefore(text: string, childStart: number): number | undefined {
  let dash = childStart - 1;
  while (dash > 0 && text[dash] === ' ') dash--;
  return text[dash] === '-' ? dash : undefined;
}

/** The indentation and sequence style of the document (what new content is written in). */
function detectStyle(text: string, doc: Document.Parsed): Style {
  const style: Style = { indent: 2, indentSeq: true, eol: text.includes('\r\n') ? '\r\n' : '\n' };
  let indentFound = false;
  let seqFound = false;
  const col = (offset: number): number => offset - (text.lastIndexOf('\n', offset - 1) + 1);
  const visit = (node: unknown, depth: number): void => {
    if (depth > 50 || (indentFound && seqFound) || !isMap(node) || node.flow) return;
    for (const pair of node.items) {
      const keyStart = (pair.key as ParsedNode | null)?.range?.[0];
      const value = pair.value as ParsedNode | null;
      if (keyStart === undefined) continue;
      const childStart = blockChildStart(value);
      if (childStart === undefined) continue;
      if (isMap(value) && !indentFound && col(childStart) > col(keyStart)) {
        style.indent = col(childStart) - col(keyStart);
        indentFound = true;
      }
      const dash = isSeq(value) && !seqFound ? dashBefore(text, childStart) : undefined;
      if (dash !== undefined) {
        style.indentSeq = col(dash) > col(keyStart);
        seqFound = true;
      }
      visit(value, depth + 1);
    }
  };
  visit(doc.contents, 0);
  if (!seqFound) style.indentSeq = false;
  return style;
}

/** Block YAML for new content, in the document's style; strings quoted where YAML 1.1 would misread them. */
function renderBlock(value: unknown, style: Style): string {
  return new Document(value, { version: '1.1' }).toString({
    indent: style.indent,
    indentSeq: style.indentSeq,
    lineWidth: 0,
    minContentWidth: 0,
  });
}

function renderFlow(value: unknown): string {
  const doc = new Document(value, { version: '1.1' });
  if (isCollection(doc.contents)) doc.contents.flow = true;
  return doc.toString({ lineWidth: 0 }).replace(/\n$/, '');
}

function renderScalar(value: unknown, type?: Scalar['type']): string {
  const s = new Scalar(value);
  if (type === 'QUOTE_DOUBLE' || type === 'QUOTE_SINGLE') s.type = type;
  return new Document(s, { version: '1.1' }).toString({ lineWidth: 0 }).replace(/\n$/, '');
}

/** Deep equality of JSON values, key order ignored. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  const ka = Object.keys(a);
  const kb = Object.keys(b);
  return (
    ka.length === kb.length &&
    ka.every(
      (k) => Object.hasOwn(b, k) && deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}
