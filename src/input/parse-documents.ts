import { load, YAMLException } from 'js-yaml';
import type { InputDiagnostic } from '../model/diagnostics.js';

export interface ParsedDocument {
  value: unknown;
  file: string;
  /** 1-based line of the document's first line. */
  line: number;
}

const SEPARATOR = /^---(\s.*)?$/;
const END_MARKER = /^\.\.\.\s*$/;

/**
 * Splits a multi-document YAML (or JSON) text into documents and parses each on its own, so that a syntax
 * error in one document is reported with its line and the other documents are still read.
 */
export function parseDocuments(text: string, file: string): { documents: ParsedDocument[]; diagnostics: InputDiagnostic[] } {
  // JSON (kubectl get -o json, a List, an array): JSON.parse is far faster than a YAML parser; on a
  // syntax error the YAML path below reports it with its line.
  const head = text.trimStart()[0];
  if (head === '{' || head === '[') {
    try {
      return { documents: [{ value: JSON.parse(text) as unknown, file, line: 1 + (text.slice(0, text.length - text.trimStart().length).match(/\n/g)?.length ?? 0) }], diagnostics: [] };
    } catch {
      // not plain JSON (e.g. several JSON documents separated by ---): read it as YAML
    }
  }
  const documents: ParsedDocument[] = [];
  const diagnostics: InputDiagnostic[] = [];
  const lines = text.split(/\r?\n/);
  let chunk: string[] = [];
  let chunkStart = 1;
  const flush = (): void => {
    const body = chunk.join('\n');
    if (body.trim() !== '' && !/^(\s*#.*|\s*)$/s.test(body.replace(/^\s*#.*$/gm, ''))) {
      try {
        const value = load(body, { filename: file });
        if (value !== null && value !== undefined) documents.push({ value, file, line: chunkStart + leadingBlankLines(chunk) });
      } catch (err) {
        if (err instanceof YAMLException) {
          const line = err.mark ? chunkStart + err.mark.line : chunkStart;
          diagnostics.push({ severity: 'error', file, line, message: `invalid YAML: ${err.reason}` });
        } else {
          throw err;
        }
      }
    }
    chunk = [];
  };
  lines.forEach((l, i) => {
    if (SEPARATOR.test(l) || END_MARKER.test(l)) {
      flush();
      chunkStart = i + 2;
      const rest = l.slice(3).trim();
      if (SEPARATOR.test(l) && rest !== '' && !rest.startsWith('#')) {
        chunk.push(rest);
        chunkStart = i + 1;
      }
    } else {
      chunk.push(l);
    }
  });
  flush();
  return { documents, diagnostics };
}

function leadingBlankLines(chunk: string[]): number {
  let n = 0;
  for (const l of chunk) {
    if (l.trim() === '' || l.trimStart().startsWith('#')) n++;
    else break;
  }
  return n;
}
