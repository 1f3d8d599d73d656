import {
  constructFromEvents,
  EVENT_ID,
  getScalarValue,
  parseEvents,
  YAMLException,
  type Event,
  type ScalarEvent,
} from 'js-yaml';
import type { InputDiagnostic } from '../model/diagnostics.js';
import {
  formatPath,
  labelOf,
  MAX_DEPTH,
  preview,
  type DecodeInput,
  type PathSegment,
  type WriteBack,
} from '../model/decode.js';

/** A document as read: its value, where it starts, and how `--fix` may write it back (model/decode.ts). */
export type ParsedDocument = DecodeInput;

/**
 * Limits on YAML aliases, per document, checked on the parser's events before any value is built (a
 * "billion laughs" document is refused, with its file and line, before it is expanded):
 * - at most MAX_ALIASES alias nodes (`*name`);
 * - the aliases add at most MAX_ALIAS_EXPANSION characters of expanded content (each node counts as one,
 *   each scalar as its source length plus one);
 * - an alias never makes the document nested deeper than MAX_DEPTH (what the parser allows without aliases);
 * - an alias inside the node it names (a self-reference) is refused.
 */
export const MAX_ALIASES = 10_000;
export const MAX_ALIAS_EXPANSION = 10_000_000;

const SEPARATOR = /^---(\s.*)?$/;
const END_MARKER = /^\.\.\.\s*$/;
/**
 * YAML text that may hold a number JSON cannot carry exactly: `.inf`/`.nan`, or an integer of 16 digits or
 * more (decimal, hex, octal: beyond 2^53 it is rounded). js-yaml reads `1e400` as a string. (JSON numbers
 * are flagged by the JSON scan.)
 */
const NUMBER_HINT = /\.(?:inf|Inf|INF|nan|NaN|NAN)|\d{16}|0x[\da-fA-F]{13}|0o[0-7]{17}/;

export interface Parsed {
  documents: ParsedDocument[];
  diagnostics: InputDiagnostic[];
}

/**
 * Splits a multi-document YAML (or JSON) text into documents and parses each on its own, so that a syntax
 * error in one document is reported with its line and the other documents are still read. Given the
 * file's bytes, invalid UTF-8 is reported with its byte offset (given text, a U+FFFD is).
 */
export function parseDocuments(input: string | Uint8Array, file: string): Parsed {
  return parseDecoded(decodeInput(input), file);
}

/** parseDocuments on a text decodeInput gave. */
export function parseDecoded(decoded: DecodedInput, file: string): Parsed {
  return checkDecoded(parseText(decoded.text, file), decoded, file);
}

/** A file's text, and where it holds invalid UTF-8 (see checkDecoded). */
export interface DecodedInput {
  text: string;
  invalidAt?: { byte: number; index: number };
  /** Given as text, not bytes. */
  fromText: boolean;
}

export function decodeInput(input: string | Uint8Array): DecodedInput {
  if (typeof input !== 'string') return { ...decodeUtf8(input), fromText: false };
  const invalidAt = replacementInText(input);
  return { text: input, fromText: true, ...(invalidAt ? { invalidAt } : {}) };
}

/** Invalid UTF-8 in the text the documents were parsed from is reported, and their write-back refused. */
export function checkDecoded(parsed: Parsed, decoded: DecodedInput, file: string): Parsed {
  if (decoded.invalidAt !== undefined)
    refuseInvalidUtf8(parsed, decoded.text, file, decoded.invalidAt, decoded.fromText);
  return parsed;
}

/** Whether the text is read as JSON first (see parseText). */
export function looksLikeJson(text: string): boolean {
  const head = text.trimStart()[0];
  return head === '{' || head === '[';
}

function parseText(text: string, file: string): Parsed {
  // JSON (kubectl get -o json, a List, an array): JSON.parse is far faster than a YAML parser; on a
  // syntax error the YAML path below reports it with its line.
  if (looksLikeJson(text)) {
    let value: unknown;
    try {
      value = JSON.parse(text) as unknown;
    } catch {
      return parseYaml(text, file); // not plain JSON (e.g. several JSON documents separated by ---)
    }
    return splitJson(value, text, file);
  }
  return parseYaml(text, file);
}

// ---- UTF-8 ---------------------------------------------------------------------------------------------

interface Decoded {
  text: string;
  /** Where the first invalid UTF-8 sequence is: its byte offset, and its index in `text` (a U+FFFD). */
  invalidAt?: { byte: number; index: number };
}

const utf8 = new TextDecoder('utf-8');

function decodeUtf8(bytes: Uint8Array): Decoded {
  const text = utf8.decode(bytes);
  const bom = bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf ? 3 : 0;
  let index = text.indexOf('\uFFFD');
  let byte = bom;
  let from = 0;
  while (index >= 0) {
    byte += Buffer.byteLength(text.slice(from, index));
    // U+FFFD written in the file (EF BF BD) is valid; one the decoder put in for bad bytes is not.
    if (bytes[byte] !== 0xef || bytes[byte + 1] !== 0xbf || bytes[byte + 2] !== 0xbd)
      return { text, invalidAt: { byte, index } };
    from = index;
    index = text.indexOf('\uFFFD', index + 1);
  }
  return { text };
}

/** Text already decoded: a U+FFFD is where a reader replaced invalid UTF-8 (or the file holds one). */
function replacementInText(text: string): Decoded['invalidAt'] {
  const index = text.indexOf('\uFFFD');
  return index < 0 ? undefined : { byte: Buffer.byteLength(text.slice(0, index)), index };
}

/** The file's objects are still analyzed, but never written back by --fix (they would carry U+FFFD). */
function refuseInvalidUtf8(
  parsed: Parsed,
  text: string,
  file: string,
  at: { byte: number; index: number },
  fromText: boolean,
): void {
  const line = lineAt(text, at.index);
  const what = fromText
    ? `U+FFFD at byte offset ${at.byte} (invalid UTF-8 replaced when the file was read, or a U+FFFD in the file)`
    : `invalid UTF-8 at byte offset ${at.byte} (read as U+FFFD)`;
  const writeBack: WriteBack = { kind: 'refused', reason: `${file} holds ${what}` };
  for (const d of parsed.documents) d.writeBack = writeBack;
  const doc = parsed.documents.filter((d) => d.line <= line).at(-1);
  const object = doc ? labelOf(doc.value) : undefined;
  const field = doc ? pathOfReplacement(doc.value) : undefined;
  parsed.diagnostics.push({
    severity: 'error',
    file,
    line,
    ...(object ? { object } : {}),
    ...(field ? { field } : {}),
    message: `${what}: analyzed as read; --fix leaves this file's objects out of its output rather than write them back altered`,
  });
}

/** The field path of the first key or string value that holds U+FFFD (iterative: any depth). */
function pathOfReplacement(root: unknown): string | undefined {
  const stack: { value: unknown; path: PathSegment[] }[] = [{ value: root, path: [] }];
  while (stack.length > 0) {
    const { value, path } = stack.pop() as { value: unknown; path: PathSegment[] };
    if (typeof value === 'string') {
      if (value.includes('\uFFFD')) return formatPath(path);
    } else if (Array.isArray(value)) {
      for (let i = value.length - 1; i >= 0; i--) stack.push({ value: value[i], path: [...path, i] });
    } else if (typeof value === 'object' && value !== null) {
      const entries = Object.entries(value);
      for (let i = entries.length - 1; i >= 0; i--) {
        const [k, v] = entries[i] as [string, unknown];
        if (k.includes('\uFFFD')) return formatPath([...path, k]);
        stack.push({ value: v, path: [...path, k] });
      }
    }
  }
  return undefined;
}

// ---- lines ---------------------------------------------------------------------------------------------

/** 1-based line of an offset in text. */
function lineAt(text: string, offset: number): number {
  return lineCounter(text)(offset);
}

/** Lines of offsets, counting each newline once while the offsets increase. */
function lineCounter(text: string): (offset: number) => number {
  let line = 1;
  let next = text.indexOf('\n');
  let at = 0;
  return (offset) => {
    if (offset < at) {
      line = 1;
      next = text.indexOf('\n');
    }
    at = offset;
    while (next >= 0 && next < offset) {
      line++;
      next = text.indexOf('\n', next + 1);
    }
    return line;
  };
}

// ---- JSON ----------------------------------------------------------------------------------------------

/** Where a JSON text's objects are: the whole text, the elements of a top-level array, or a List's items. */
type JsonShape = 'single' | 'array' | 'items';

interface JsonProblem {
  /** The element or List item the problem is in; -1 outside any (the single document is item 0). */
  item: number;
  line: number;
  path: PathSegment[];
  message: string;
}

interface JsonScan {
  /** The line of each object of the list (of the document, for 'single'). */
  itemLines: number[];
  problems: JsonProblem[];
  /** Objects holding a number JSON.parse may have changed (an exponent, 16 digits or more); -1: outside any. */
  numberItems: Set<number>;
}

function shapeOf(value: unknown): JsonShape {
  if (Array.isArray(value)) return 'array';
  if (typeof value !== 'object' || value === null) return 'single';
  const v = value as Record<string, unknown>;
  const listLike = typeof v['kind'] === 'string' && v['kind'].endsWith('List') && typeof v['apiVersion'] === 'string';
  return listLike && Array.isArray(v['items']) ? 'items' : 'single';
}

/**
 * One document per object: each element of a top-level array and each item of a List is a document with
 * its own line. What JSON.parse hides is reported: a duplicate key (JSON.parse keeps the last value; YAML
 * and `kubectl apply` refuse it) and nesting deeper than MAX_DEPTH skip the object they are in.
 */
function splitJson(value: unknown, text: string, file: string): Parsed {
  const shape = shapeOf(value);
  const scan = scanJson(text, shape);
  const out: Parsed = { documents: [], diagnostics: [] };
  const items =
    shape === 'single'
      ? [value]
      : shape === 'array'
        ? (value as unknown[])
        : ((value as Record<string, unknown>)['items'] as unknown[]);
  const rejected = new Set<number>();
  for (const p of scan.problems) {
    const inItem = p.item >= 0;
    if (inItem) rejected.add(p.item);
    const object = labelOf(inItem ? items[p.item] : value);
    const path = shape === 'single' || !inItem ? p.path : p.path.slice(shape === 'array' ? 1 : 2);
    out.diagnostics.push({
      severity: 'error',
      file,
      line: p.line,
      ...(object ? { object } : {}),
      ...(path.length > 0 ? { field: formatPath(path) } : {}),
      message: p.message + (inItem ? '; object skipped' : ''),
    });
  }
  items.forEach((item, i) => {
    if (rejected.has(i)) return;
    const line = scan.itemLines[i] ?? scan.itemLines[0] ?? 1;
    if (shape === 'array' && Array.isArray(item)) {
      out.diagnostics.push({
        severity: 'error',
        file,
        line,
        message: 'a list inside a list is not a Kubernetes object (expected a mapping with apiVersion and kind)',
      });
      return;
    }
    const checkNumbers = scan.numberItems.has(i) || scan.numberItems.has(-1);
    out.documents.push({ value: item, file, line, ...(checkNumbers ? { checkNumbers } : {}) });
  });
  out.diagnostics.sort((a, b) => (a.line ?? 0) - (b.line ?? 0));
  return out;
}

const MAX_PROBLEMS_PER_ITEM = 5;
/** An object's keys are compared in place up to this many, then kept in a set. */
const KEY_LIST_MAX = 32;

/**
 * The state of one pass over a text JSON.parse accepted, one entry per open object or array (level). Keys
 * are kept as offsets in the text, in flat arrays: the pass runs over every character of large inputs and
 * allocates next to nothing.
 */
class JsonScanState {
  readonly scan: JsonScan = { itemLines: [], problems: [], numberItems: new Set() };
  readonly base: number;
  /** The line being read (JSON strings hold no newline: the scan counts them). */
  line = 1;
  depth = 0;
  expectKey = false;
  private readonly isObject: boolean[] = [];
  private readonly index: number[] = [];
  /** The current key of each object level: offsets of its text, between the quotes. */
  private readonly keyFrom: number[] = [];
  private readonly keyTo: number[] = [];
  /** The keys of the open objects, innermost last: (from, to, escaped) triples; levelKeys[level] is where a level's begin. */
  private readonly keys: number[] = [];
  private keyTop = 0;
  private readonly levelKeys: number[] = [];
  private readonly keySets: (Set<string> | undefined)[] = [];
  private readonly reported = new Map<number, number>();
  private readonly tooDeep = new Set<number>();

  constructor(
    private readonly strings: JsonStrings,
    readonly shape: JsonShape,
  ) {
    this.base = shape === 'single' ? 0 : shape === 'array' ? 1 : 2;
  }

  private inList(): boolean {
    return (
      this.shape === 'array' ||
      (this.isObject[0] === true &&
        this.isObject[1] === false &&
        this.strings.is(this.keyFrom[0] ?? 0, this.keyTo[0] ?? 0, 'items'))
    );
  }

  /** The object being read (an element or List item); -1 outside one. */
  item(): number {
    if (this.shape === 'single') return 0;
    return this.depth > this.base && this.inList() ? (this.index[this.base - 1] ?? -1) : -1;
  }

  /** A value starts: where the list's objects are. */
  value(): void {
    if (this.depth !== this.base) return;
    if (this.shape === 'single') {
      if (this.scan.itemLines.length === 0) this.scan.itemLines.push(this.line);
    } else if (this.inList()) {
      this.scan.itemLines[this.index[this.base - 1] ?? 0] = this.line;
    }
  }

  open(object: boolean): void {
    this.value();
    const d = this.depth++;
    this.isObject[d] = object;
    this.index[d] = 0;
    this.keyFrom[d] = 0;
    this.keyTo[d] = 0;
    this.levelKeys[d] = this.keyTop;
    this.keySets[d] = undefined;
    this.expectKey = object;
    if (this.depth > MAX_DEPTH) this.checkDepth();
  }

  private checkDepth(): void {
    const item = this.item();
    const levels = item < 0 ? this.depth : this.depth - this.base;
    if (levels <= MAX_DEPTH || this.tooDeep.has(item)) return;
    this.tooDeep.add(item);
    this.problem(this.path().slice(0, -1), `nested deeper than ${MAX_DEPTH} levels`);
  }

  close(): void {
    const d = --this.depth;
    this.keyTop = this.levelKeys[d] ?? 0;
    this.keySets[d] = undefined;
    this.expectKey = false;
  }

  comma(): void {
    const d = this.depth - 1;
    if (this.isObject[d]) this.expectKey = true;
    else this.index[d] = (this.index[d] ?? 0) + 1;
  }

  /** The key between the quotes at `from - 1` and `to`: a duplicate is a problem. */
  key(from: number, to: number): void {
    const d = this.depth - 1;
    this.keyFrom[d] = from;
    this.keyTo[d] = to;
    this.expectKey = false;
    if (this.isNewKey(d, from, to)) return;
    const key = this.strings.value(from, to);
    this.problem(
      this.path(),
      `duplicate key ${preview(key)} (JSON.parse keeps the last value; YAML and kubectl apply refuse it)`,
    );
  }

  private isNewKey(d: number, from: number, to: number): boolean {
    const set = this.keySets[d];
    if (set) return set.size !== set.add(this.strings.value(from, to)).size;
    const start = this.levelKeys[d] ?? 0;
    const escaped = this.strings.escaped(from, to);
    for (let k = start; k < this.keyTop; k += 3) {
      if (this.strings.same(this.keys[k] ?? 0, this.keys[k + 1] ?? 0, this.keys[k + 2] === 1 || escaped, from, to))
        return false;
    }
    this.keys[this.keyTop++] = from;
    this.keys[this.keyTop++] = to;
    this.keys[this.keyTop++] = escaped ? 1 : 0;
    if (this.keyTop - start > 3 * KEY_LIST_MAX) this.keySets[d] = this.keySet(start);
    return true;
  }

  private keySet(start: number): Set<string> {
    const set = new Set<string>();
    for (let k = start; k < this.keyTop; k += 3) set.add(this.strings.value(this.keys[k] ?? 0, this.keys[k + 1] ?? 0));
    return set;
  }

  /** A number token: an exponent or 16 digits or more may not have survived JSON.parse as written. */
  number(): void {
    this.scan.numberItems.add(this.item());
  }

  private problem(path: PathSegment[], message: string): void {
    const item = this.item();
    const n = this.reported.get(item) ?? 0;
    if (n < MAX_PROBLEMS_PER_ITEM) this.scan.problems.push({ item, line: this.line, path, message });
    this.reported.set(item, n + 1);
  }

  private path(): PathSegment[] {
    const path: PathSegment[] = [];
    for (let d = 0; d < this.depth; d++)
      path.push(this.isObject[d] ? this.strings.value(this.keyFrom[d] ?? 0, this.keyTo[d] ?? 0) : (this.index[d] ?? 0));
    return path;
  }
}

/** Where the list's objects start, duplicate keys, nesting deeper than MAX_DEPTH: one pass, no recursion. */
function scanJson(text: string, shape: JsonShape): JsonScan {
  const strings = new JsonStrings(text);
  const s = new JsonScanState(strings, shape);
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x3a) {
      if (c === 0x0a) s.line++;
      continue; // whitespace, ':'
    }
    if (c === 0x22) {
      const end = strings.end(i);
      if (s.expectKey) s.key(i + 1, end);
      else s.value();
      i = end;
    } else if (c === 0x2c) s.comma();
    else if (c === 0x7b || c === 0x5b) s.open(c === 0x7b);
    else if (c === 0x7d || c === 0x5d) s.close();
    else i = scalarEnd(text, i, s) - 1;
  }
  return s.scan;
}

/** A number, true, false or null at `start`: where it ends. */
function scalarEnd(text: string, start: number, s: JsonScanState): number {
  s.value();
  let end = start + 1;
  let exponent = false;
  for (let c = text.charCodeAt(end); end < text.length && !isJsonDelimiter(c); c = text.charCodeAt(++end))
    exponent ||= c === 0x65 || c === 0x45;
  const c0 = text.charCodeAt(start);
  if ((c0 === 0x2d || (c0 >= 0x30 && c0 <= 0x39)) && (exponent || end - start >= 16)) s.number();
  return end;
}

function isJsonDelimiter(c: number): boolean {
  return c <= 0x20 || c === 0x2c || c === 0x5d || c === 0x7d;
}

/** Strings of one JSON text: where each ends, its value, comparisons in place; backslashes looked up once. */
class JsonStrings {
  private nextBackslash = -1;

  constructor(private readonly text: string) {}

  /** The first backslash at or after `from` (Infinity: none). */
  private backslashFrom(from: number): number {
    if (this.nextBackslash < from && this.nextBackslash !== Infinity) {
      const b = this.text.indexOf('\\', from);
      this.nextBackslash = b < 0 ? Infinity : b;
    }
    return this.nextBackslash;
  }

  /** Index of the quote that closes the string opening at `start`. */
  end(start: number): number {
    let j = this.text.indexOf('"', start + 1);
    while (j > 0 && this.backslashFrom(start) < j && isEscaped(this.text, j)) j = this.text.indexOf('"', j + 1);
    return j < 0 ? this.text.length : j;
  }

  /** Whether the string being read, [from, to), holds an escape (offsets never go back). */
  escaped(from: number, to: number): boolean {
    return this.backslashFrom(from) < to;
  }

  /** The value of the string whose text is [from, to) (any offsets). */
  value(from: number, to: number): string {
    const raw = this.text.slice(from, to);
    return raw.includes('\\') ? (JSON.parse(`"${raw}"`) as string) : raw;
  }

  /** Whether two strings, [a, aEnd) and [b, bEnd), have one value (`escaped`: either holds an escape). */
  same(a: number, aEnd: number, escaped: boolean, b: number, bEnd: number): boolean {
    const length = aEnd - a;
    if (escaped) return this.value(a, aEnd) === this.value(b, bEnd);
    if (bEnd - b !== length) return false;
    for (let k = 0; k < length; k++) if (this.text.charCodeAt(a + k) !== this.text.charCodeAt(b + k)) return false;
    return true;
  }

  /** Whether the string [from, to) is `word` (no escapes). */
  is(from: number, to: number, word: string): boolean {
    return to - from === word.length && this.text.startsWith(word, from);
  }
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let k = quote - 1; text.charCodeAt(k) === 0x5c; k--) backslashes++;
  return backslashes % 2 === 1;
}

// ---- YAML ----------------------------------------------------------------------------------------------

/** One document's text as cut at the separators, and the line of the file it starts on. */
export interface YamlChunk {
  body: string;
  start: number;
}

function parseYaml(text: string, file: string): Parsed {
  return parseYamlChunks(splitYaml(text), file);
}

/** Parses chunks (from splitYaml) in order: what the parse pool's workers run on their share. */
export function parseYamlChunks(chunks: readonly YamlChunk[], file: string): Parsed {
  const out: Parsed = { documents: [], diagnostics: [] };
  for (const c of chunks) parseChunk(c.body, c.start, file, out);
  return out;
}

/** `\r\n` read as `\n` (a lone `\r` stays), as the lines of the text are. */
export function normalizeNewlines(text: string): string {
  return text.includes('\r\n') ? text.replace(/\r\n/g, '\n') : text;
}

/**
 * Cuts a YAML text into one chunk per document at its `---` and `...` lines (a `---` line that carries
 * content, `--- {a: 1}`, starts its chunk with that content). `firstLine`: the line of the file the text
 * starts on, for a part of a file cut at a separator line (see isSeparatorLine). One pass, no line array.
 */
export function splitYaml(source: string, firstLine = 1): YamlChunk[] {
  const text = normalizeNewlines(source);
  const chunks: YamlChunk[] = [];
  let from = 0; // where the current chunk's lines start
  let start = firstLine;
  let prefix: string | undefined; // content on the separator line that opened the chunk
  const cut = (to: number, hasLines: boolean): void => {
    const lines = hasLines ? text.slice(from, to) : '';
    chunks.push({ body: prefix === undefined ? lines : hasLines ? `${prefix}\n${lines}` : prefix, start });
  };
  for (let at = 0, line = firstLine; at <= text.length; line++) {
    const eol = text.indexOf('\n', at);
    const end = eol < 0 ? text.length : eol;
    if (isSeparatorLine(text, at, end)) {
      cut(at - 1, from < at);
      const rest = text.charCodeAt(at) === 0x2d ? text.slice(at + 3, end).trim() : '';
      prefix = rest !== '' && !rest.startsWith('#') ? rest : undefined;
      start = prefix === undefined ? line + 1 : line;
      from = end + 1;
    }
    at = end + 1;
  }
  cut(text.length, from <= text.length);
  return chunks;
}

/** Whether the line [at, end) of text is a document separator (`---`) or end marker (`...`). */
export function isSeparatorLine(text: string, at: number, end: number): boolean {
  const c = text.charCodeAt(at);
  if (c !== 0x2d && c !== 0x2e) return false;
  const line = text.slice(at, end);
  return SEPARATOR.test(line) || END_MARKER.test(line);
}

function parseChunk(body: string, chunkStart: number, file: string, out: Parsed): void {
  const leading = leadingBlankLines(body);
  if (leading.all && isBlank(body)) return;
  try {
    const events = parseEvents(body, { filename: file, maxDepth: MAX_DEPTH });
    const aliases = body.includes('*') ? checkAliases(events, body) : undefined;
    if (aliases?.problem) {
      const { offset, path, message } = aliases.problem;
      out.diagnostics.push({
        severity: 'error',
        file,
        line: chunkStart - 1 + lineAt(body, offset),
        ...(aliases.object ? { object: aliases.object } : {}),
        ...(path.length > 0 ? { field: formatPath(path) } : {}),
        message: `${message}; document not read`,
      });
      return;
    }
    const value = singleDocument(
      constructFromEvents(events, { source: body, filename: file, maxAliases: MAX_ALIASES }),
    );
    if (value === null || value === undefined) return;
    const doc: ParsedDocument = { value, file, line: chunkStart + leading.count };
    if (aliases && aliases.uses > 0)
      doc.writeBack = {
        kind: 'verbatim',
        text: body.endsWith('\n') ? body : body + '\n',
        reason: 'it uses YAML aliases (*name), which --fix does not write expanded',
      };
    if (NUMBER_HINT.test(body)) doc.checkNumbers = true;
    out.documents.push(doc);
  } catch (err) {
    out.diagnostics.push(yamlError(err, chunkStart, file));
  }
}

/** What js-yaml's load() checks: a chunk between separators is one document. */
function singleDocument(documents: unknown[]): unknown {
  if (documents.length === 0) throw new YAMLException('expected a document, but the input is empty');
  if (documents.length > 1) throw new YAMLException('expected a single document in the stream, but found more');
  return documents[0];
}

function yamlError(err: unknown, chunkStart: number, file: string): InputDiagnostic {
  if (err instanceof YAMLException) {
    const line = err.mark ? chunkStart + err.mark.line : chunkStart;
    return { severity: 'error', file, line, message: `invalid YAML: ${err.reason}` };
  }
  // Whatever else the parser throws stays with this document: the other documents are read.
  return {
    severity: 'error',
    file,
    line: chunkStart,
    message: `cannot read this document: ${err instanceof Error ? err.message : String(err)}`,
  };
}

/** Blank and comment lines before the first line of content: how many, and whether they are all the lines. */
function leadingBlankLines(body: string): { count: number; all: boolean } {
  let count = 0;
  for (let at = 0; at <= body.length; count++) {
    const eol = body.indexOf('\n', at);
    const end = eol < 0 ? body.length : eol;
    const line = body.slice(at, end).trimStart();
    if (line !== '' && !line.startsWith('#')) return { count, all: false };
    at = end + 1;
  }
  return { count, all: true };
}

/**
 * Lines that are all blank or comments: nothing to read. A lone `\r` also ends a line for the parser (and
 * for `$` below), not for the lines above: then the text decides.
 */
function isBlank(body: string): boolean {
  return !body.includes('\r') || /^(\s*#.*|\s*)$/s.test(body.replace(/^\s*#.*$/gm, ''));
}

// ---- YAML aliases --------------------------------------------------------------------------------------

interface AnchorInfo {
  /** The anchored collection is still being read: an alias to it now is a self-reference. */
  open: boolean;
  /** Expanded size: nodes, plus each scalar's source length. */
  size: number;
  /** Collection levels inside it (a scalar: 0). */
  height: number;
}

interface NodeFrame {
  anchor: AnchorInfo | undefined;
  size: number;
  height: number;
  isMapping: boolean;
  /** Children seen: in a mapping, even ones are keys. */
  children: number;
  key: string;
}

interface AliasCheck {
  uses: number;
  problem?: { offset: number; path: PathSegment[]; message: string };
  object?: InputDiagnostic['object'];
}

const KEY_PREVIEW = 80;

/**
 * Walks one document's events (no value is built) and measures what its aliases would expand to.
 * The first limit crossed (see MAX_ALIASES) is the problem; the walk goes on only to name the object.
 */
function checkAliases(events: Event[], body: string): AliasCheck {
  const walk = new AliasWalk(body);
  for (const e of events) walk.event(e);
  return walk.result();
}

class AliasWalk {
  private readonly anchors = new Map<string, AnchorInfo>();
  private readonly frames: NodeFrame[] = [];
  private readonly identity: Record<string, string> = {};
  private readonly check: AliasCheck = { uses: 0 };
  private expanded = 0;

  constructor(private readonly body: string) {}

  event(e: Event): void {
    if (e.type === EVENT_ID.DOCUMENT)
      this.frames.push({ anchor: undefined, size: 0, height: 0, isMapping: false, children: 0, key: '' });
    else if (e.type === EVENT_ID.SEQUENCE || e.type === EVENT_ID.MAPPING)
      this.open(e.anchorStart, e.anchorEnd, e.type === EVENT_ID.MAPPING);
    else if (e.type === EVENT_ID.SCALAR) this.scalar(e);
    else if (e.type === EVENT_ID.POP) this.close();
    else if (e.type === EVENT_ID.ALIAS) this.alias(e.anchorStart, e.anchorEnd);
  }

  result(): AliasCheck {
    const object = labelFromIdentity(this.identity);
    if (object) this.check.object = object;
    return this.check;
  }

  private open(anchorStart: number, anchorEnd: number, isMapping: boolean): void {
    const anchor = anchorStart >= 0 ? { open: true, size: 0, height: 0 } : undefined;
    if (anchor) this.anchors.set(this.body.slice(anchorStart, anchorEnd), anchor);
    this.frames.push({ anchor, size: 1, height: 0, isMapping, children: 0, key: '' });
  }

  private close(): void {
    const frame = this.frames.pop() as NodeFrame;
    if (frame.anchor) Object.assign(frame.anchor, { open: false, size: frame.size, height: frame.height + 1 });
    this.add(frame.size, frame.height + 1);
  }

  private scalar(e: ScalarEvent): void {
    const size = 1 + e.valueEnd - e.valueStart;
    if (e.anchorStart >= 0)
      this.anchors.set(this.body.slice(e.anchorStart, e.anchorEnd), { open: false, size, height: 0 });
    const parent = this.frames.at(-1);
    const isKey = parent?.isMapping === true && parent.children % 2 === 0;
    if (!isKey && this.frames.length <= 3) noteIdentityValue(this.identity, this.frames, getScalarValue(this.body, e));
    this.add(size, 0);
    if (isKey && parent) {
      const key = getScalarValue(this.body, e);
      parent.key = key.length > KEY_PREVIEW ? key.slice(0, KEY_PREVIEW) + '…' : key;
    }
  }

  private alias(anchorStart: number, anchorEnd: number): void {
    const name = this.body.slice(anchorStart, anchorEnd);
    const anchor = this.anchors.get(name);
    if (!anchor) return; // the constructor reports the unknown alias
    this.check.uses++;
    this.expanded += anchor.size;
    if (!this.check.problem) {
      const message = aliasProblem(name, anchor, this.check.uses, this.expanded, this.frames.length - 1);
      if (message) this.check.problem = { offset: anchorStart - 1, path: this.path(), message };
    }
    this.add(anchor.size, anchor.height);
  }

  /** A node of `size` and `height` completed in the innermost collection. */
  private add(size: number, height: number): void {
    const parent = this.frames.at(-1);
    if (!parent) return;
    if (parent.isMapping && parent.children % 2 === 0) parent.key = '';
    parent.size += size;
    parent.height = Math.max(parent.height, height);
    parent.children++;
  }

  /** Where the node being read goes: each collection's current key, or index. */
  private path(): PathSegment[] {
    return this.frames.slice(1).map((f) => (f.isMapping ? f.key : f.children));
  }
}

function aliasProblem(
  name: string,
  anchor: AnchorInfo,
  uses: number,
  expanded: number,
  depth: number,
): string | undefined {
  if (anchor.open) return `YAML alias *${name} refers to the node it is in (a self-reference)`;
  if (uses > MAX_ALIASES)
    return `more than ${MAX_ALIASES.toLocaleString('en-US')} YAML aliases in one document (an alias bomb?)`;
  if (expanded > MAX_ALIAS_EXPANSION)
    return `YAML aliases expand this document by more than ${MAX_ALIAS_EXPANSION.toLocaleString('en-US')} characters at *${name} (an alias bomb?)`;
  if (depth + anchor.height > MAX_DEPTH)
    return `YAML alias *${name} nests the document deeper than ${MAX_DEPTH} levels`;
  return undefined;
}

/** kind, metadata.name and metadata.namespace as the walk meets them, to name the object without building it. */
function noteIdentityValue(identity: Record<string, string>, frames: NodeFrame[], value: string): void {
  const top = frames.at(-1) as NodeFrame;
  if (!top.isMapping) return;
  if (frames.length === 2 && top.key === 'kind') identity['kind'] ??= value;
  if (
    frames.length === 3 &&
    (frames[1] as NodeFrame).key === 'metadata' &&
    (top.key === 'name' || top.key === 'namespace')
  )
    identity[top.key] ??= value;
}

function labelFromIdentity(identity: Record<string, string>): InputDiagnostic['object'] | undefined {
  const kind = identity['kind'];
  if (kind === undefined) return undefined;
  return {
    kind,
    name: identity['name'] ?? '<unnamed>',
    ...(identity['namespace'] !== undefined ? { namespace: identity['namespace'] } : {}),
  };
}
