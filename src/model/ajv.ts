/** ajv, loaded on first use, with the options meshmedic's decoders use: no kind table here (src/api imports it too). */
import { createRequire } from 'node:module';
import type { Ajv as AjvClass, Options } from 'ajv';

// strictNumbers: NaN and Infinity (`.inf`, `1e400`) are not numbers, let alone integers.
export const AJV_OPTIONS: Options = { allErrors: true, strict: false, strictNumbers: true, verbose: true };

/** A new ajv: a CLI run with fresh precompiled validators and no policy never loads it. */
export function newAjv(extra: Options = {}): AjvClass {
  const { Ajv } = createRequire(import.meta.url)('ajv') as typeof import('ajv');
  return new Ajv({ ...AJV_OPTIONS, ...extra });
}
