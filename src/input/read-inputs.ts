import { constants, type BigIntStats, type Dirent } from 'node:fs';
import { open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join, extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { InputDiagnostic } from '../model/diagnostics.js';
import type { Parsed, ParsedDocument } from './parse-documents.js';
import { ParsePool, type ParsePoolOptions } from './parse-pool.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface ReadResult {
  documents: ParsedDocument[];
  diagnostics: InputDiagnostic[];
  filesRead: number;
}

/**
 * Reads files, directories (recursively, *.yaml|*.yml|*.json) and '-' (stdin) into parsed documents.
 * Nothing here throws for a bad input: what cannot be read becomes a diagnostic and the rest is read
 * (the CLI exits 2 only when nothing usable was read).
 *
 * - A path named on the command line is read whatever kind of file it is: a FIFO or a character device
 *   (`<(kubectl get dr -A -o yaml)`, `/dev/stdin`) is read to its end, as `-` is. Only a socket or a
 *   block device named there is refused (error).
 * - Walking a directory, symbolic links are followed. An entry that cannot be read (permissions, a broken
 *   link, a path too long, ...) skips only itself: an error naming its path and the OS error. FIFOs, sockets
 *   and devices are skipped without being opened (a warning; the type comes from the directory entry or
 *   stat, and files are opened non-blocking and checked again before reading). Each directory and file of
 *   one tree is read once, whatever links lead to it; a link back to a directory being walked (a loop)
 *   is reported once, as a warning, and not followed.
 * - Large YAML files are parsed across worker threads (parse-pool.ts; `parsing` tunes it), with the
 *   documents and diagnostics of every file in the order read.
 */
export async function readInputs(paths: string[], stdin?: Readable, parsing?: ParsePoolOptions): Promise<ReadResult> {
  const result: Reading = { parts: [], filesRead: 0, pool: new ParsePool(parsing) };
  try {
    for (const p of paths) {
      if (p === '-') {
        if (!stdin) throw new Error('stdin is not available');
        addText(result, await readStream(stdin), '<stdin>');
        continue;
      }
      await readNamedPath(result, p);
    }
    return assemble(await Promise.all(result.parts), result.filesRead);
  } finally {
    await result.pool.close();
  }
}

/**
 * What has been read, in order: each file's parse (large YAML files are parsed by the pool's worker
 * threads while the next files are read) and the diagnostics of what could not be read.
 */
interface Reading {
  parts: Promise<Parsed>[];
  filesRead: number;
  pool: ParsePool;
}

function assemble(parts: Parsed[], filesRead: number): ReadResult {
  const result: ReadResult = { documents: [], diagnostics: [], filesRead };
  // One at a time: push(...array) overflows the stack past about 120,000 documents in one file.
  for (const p of parts) {
    for (const d of p.documents) result.documents.push(d);
    for (const d of p.diagnostics) result.diagnostics.push(d);
  }
  return result;
}

/** Bytes, not a decoded string: invalid UTF-8 is then reported at its byte offset (parse-documents.ts). */
function addText(result: Reading, bytes: string | Uint8Array, file: string): void {
  // Caught at once: the parse is awaited only once everything is read.
  const parsed = result.pool.parse(bytes, file).catch((err: unknown): Parsed => ({
    documents: [],
    diagnostics: [{ severity: 'error', file, message: `cannot read: ${message(err)}` }],
  }));
  result.parts.push(parsed);
  result.filesRead++;
}

type FileKind =
  'file' | 'directory' | 'FIFO' | 'socket' | 'character device' | 'block device' | 'symbolic link' | 'special file';

interface TypedEntry {
  isFile(): boolean;
  isDirectory(): boolean;
  isFIFO(): boolean;
  isSocket(): boolean;
  isCharacterDevice(): boolean;
  isBlockDevice(): boolean;
  isSymbolicLink(): boolean;
}

/** The kind of a stat result or directory entry (a Dirent says what lstat would). */
function fileKind(s: TypedEntry): FileKind {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symbolic link';
  if (s.isFIFO()) return 'FIFO';
  if (s.isSocket()) return 'socket';
  if (s.isCharacterDevice()) return 'character device';
  if (s.isBlockDevice()) return 'block device';
  return 'special file';
}

function isManifestName(path: string): boolean {
  return MANIFEST_EXTENSIONS.has(extname(path).toLowerCase());
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function report(result: Reading, severity: InputDiagnostic['severity'], file: string, text: string): void {
  result.parts.push(Promise.resolve({ documents: [], diagnostics: [{ severity, file, message: text }] }));
}

/** A path given on the command line. */
async function readNamedPath(result: Reading, path: string): Promise<void> {
  let s: BigIntStats;
  try {
    s = await stat(path, { bigint: true });
  } catch (err) {
    report(result, 'error', path, `cannot read: ${message(err)}`);
    return;
  }
  const kind = fileKind(s);
  if (kind === 'directory') {
    await walkDirectory({ result, seen: new Set([idOf(s)]) }, path, new Map([[idOf(s), path]]));
    return;
  }
  if (kind === 'socket' || kind === 'block device' || kind === 'special file') {
    report(result, 'error', path, `cannot read: a ${kind}, not a file, FIFO or directory`);
    return;
  }
  try {
    addText(result, await readFile(path), path);
  } catch (err) {
    report(result, 'error', path, `cannot read: ${message(err)}`);
  }
}

interface Walk {
  result: Reading;
  /** dev:ino of the directories and files of this tree already reached: each is read once. */
  seen: Set<string>;
}

/** dev:ino of the directories on the way from the named directory to this one, with their paths. */
type Ancestors = ReadonlyMap<string, string>;

function idOf(s: BigIntStats): string {
  return `${s.dev}:${s.ino}`;
}

async function walkDirectory(w: Walk, dir: string, ancestors: Ancestors): Promise<void> {
  let entries: Dirent[];
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (err) {
    report(w.result, 'error', dir, `cannot read directory: ${message(err)}; skipped (the rest is read)`);
    return;
  }
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) await visitEntry(w, join(dir, e.name), e, ancestors);
}

async function visitEntry(w: Walk, path: string, e: Dirent, ancestors: Ancestors): Promise<void> {
  const kind = fileKind(e);
  if (kind === 'symbolic link') return visitLink(w, path, ancestors);
  if (kind === 'directory') return enterDirectory(w, path, undefined, ancestors);
  if (!isManifestName(path)) return;
  if (kind === 'file') return readWalkedFile(w, path);
  skipSpecial(w.result, path, kind);
}

/** A symbolic link met while walking: what it points to decides, the link's name for a file. */
async function visitLink(w: Walk, path: string, ancestors: Ancestors): Promise<void> {
  let target: BigIntStats;
  try {
    target = await stat(path, { bigint: true });
  } catch (err) {
    // A broken link named like a manifest was meant to be read; any other may have been a directory.
    report(w.result, isManifestName(path) ? 'error' : 'warning', path, `cannot read: ${message(err)}; skipped`);
    return;
  }
  const kind = fileKind(target);
  if (kind === 'directory') return enterDirectory(w, path, target, ancestors);
  if (!isManifestName(path)) return;
  if (kind === 'file') return readWalkedFile(w, path);
  skipSpecial(w.result, path, kind);
}

async function enterDirectory(
  w: Walk,
  path: string,
  known: BigIntStats | undefined,
  ancestors: Ancestors,
): Promise<void> {
  let s = known;
  if (!s) {
    try {
      s = await stat(path, { bigint: true });
    } catch (err) {
      report(w.result, 'error', path, `cannot read directory: ${message(err)}; skipped (the rest is read)`);
      return;
    }
  }
  const id = idOf(s);
  const loopsTo = ancestors.get(id);
  if (loopsTo !== undefined) {
    report(
      w.result,
      'warning',
      path,
      `symbolic link loop: leads back to ${loopsTo}, which is being read; not followed`,
    );
    return;
  }
  if (w.seen.has(id)) return; // reached before through another link: read once
  w.seen.add(id);
  await walkDirectory(w, path, new Map([...ancestors, [id, path]]));
}

function skipSpecial(result: Reading, path: string, kind: FileKind): void {
  const hint = kind === 'FIFO' || kind === 'character device' ? ' (name it on the command line to read it)' : '';
  report(result, 'warning', path, `skipped: a ${kind}, not a regular file; not opened${hint}`);
}

/**
 * Opens non-blocking and checks the opened file again: an entry replaced by a FIFO after the directory
 * was listed is skipped instead of blocking the run.
 */
async function readWalkedFile(w: Walk, path: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(path, constants.O_RDONLY | constants.O_NONBLOCK);
    const s = await handle.stat({ bigint: true });
    const kind = fileKind(s);
    if (kind !== 'file') {
      skipSpecial(w.result, path, kind);
      return;
    }
    if (w.seen.has(idOf(s))) return; // the same file through another link: read once
    w.seen.add(idOf(s));
    addText(w.result, await handle.readFile(), path);
  } catch (err) {
    report(w.result, 'error', path, `cannot read: ${message(err)}`);
  } finally {
    await handle?.close();
  }
}

async function readStream(stream: Readable): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks);
}
