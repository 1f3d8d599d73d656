import { readdir, readFile, stat } from 'node:fs/promises';
import { join, extname } from 'node:path';
import type { Readable } from 'node:stream';
import type { InputDiagnostic } from '../model/diagnostics.js';
import { parseDocuments, type ParsedDocument } from './parse-documents.js';

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

export interface ReadResult {
  documents: ParsedDocument[];
  diagnostics: InputDiagnostic[];
  filesRead: number;
}

/** Reads files, directories (recursively, *.yaml|*.yml|*.json) and '-' (stdin) into parsed documents. */
export async function readInputs(paths: string[], stdin?: Readable): Promise<ReadResult> {
  const result: ReadResult = { documents: [], diagnostics: [], filesRead: 0 };
  for (const p of paths) {
    if (p === '-') {
      if (!stdin) throw new Error('stdin is not available');
      addText(result, await readStream(stdin), '<stdin>');
      continue;
    }
    let files: string[];
    try {
      files = await expand(p);
    } catch (err) {
      result.diagnostics.push({ severity: 'error', file: p, message: `cannot read: ${(err as Error).message}` });
      continue;
    }
    for (const f of files) {
      try {
        addText(result, await readFile(f, 'utf8'), f);
      } catch (err) {
        result.diagnostics.push({ severity: 'error', file: f, message: `cannot read: ${(err as Error).message}` });
      }
    }
  }
  return result;
}

function addText(result: ReadResult, text: string, file: string): void {
  const { documents, diagnostics } = parseDocuments(text, file);
  result.documents.push(...documents);
  result.diagnostics.push(...diagnostics);
  result.filesRead++;
}

async function expand(path: string): Promise<string[]> {
  const s = await stat(path);
  if (!s.isDirectory()) return [path];
  const out: string[] = [];
  const entries = await readdir(path, { withFileTypes: true });
  entries.sort((a, b) => a.name.localeCompare(b.name));
  for (const e of entries) {
    const full = join(path, e.name);
    if (e.isDirectory()) out.push(...(await expand(full)));
    else if (MANIFEST_EXTENSIONS.has(extname(e.name).toLowerCase())) out.push(full);
  }
  return out;
}

async function readStream(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === 'string' ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
