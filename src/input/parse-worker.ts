// A parse pool's worker thread (see parse-pool.ts): parses the parts of YAML files it is sent, in turn.
import { parentPort } from 'node:worker_threads';
import type { ParsedDocument } from './parse-documents.js';
import { parsePart, type PartRequest, type PartResult } from './parse-pool.js';

/** A plain scalar that may read as -0 (`-0`, `-.0`, `-0.0e1`); `svc-0` does not match. */
const MAY_HOLD_MINUS_ZERO = /(?:^|[\s[{,:])-[.0]/m;

parentPort?.on('message', (request: PartRequest) => {
  const parsed = parsePart(request);
  parentPort?.postMessage(
    encode(request.id, parsed.documents, parsed.diagnostics, MAY_HOLD_MINUS_ZERO.test(request.text)),
  );
});

/**
 * Documents go back as JSON text, which the calling thread parses about twice as fast as it takes a
 * structured clone; a document JSON cannot carry exactly (NaN, ±Infinity, -0) goes as a clone. Only
 * documents that may hold one are walked: those parseChunk flagged for their numbers (`.inf`, `.nan`,
 * long integers), all of them if the part may hold a -0.
 */
function encode(
  id: number,
  documents: ParsedDocument[],
  diagnostics: PartResult['diagnostics'],
  minusZero: boolean,
): PartResult {
  const json: ParsedDocument[] = [];
  const exact: PartResult['exact'] = [];
  documents.forEach((document, at) => {
    if ((minusZero || document.checkNumbers) && !isJsonExact(document.value)) exact.push({ at, document });
    else json.push(document);
  });
  return { id, json: JSON.stringify(json), exact, diagnostics };
}

/** No number JSON would change (NaN, ±Infinity, -0): iterative, any depth. */
function isJsonExact(root: unknown): boolean {
  const stack: unknown[] = [root];
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v === 'number') {
      if (!Number.isFinite(v) || Object.is(v, -0)) return false;
    } else if (typeof v === 'object' && v !== null) {
      for (const child of Object.values(v)) stack.push(child);
    }
  }
  return true;
}
