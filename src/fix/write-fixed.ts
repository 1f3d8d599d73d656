import { dump } from 'js-yaml';
import type { LoadedObject, WriteBack } from '../model/decode.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import { objectKey } from '../model/kinds.js';
import type { KubeObject } from '../model/types.js';

export interface FixedObjects {
  /** The input objects with the fixes applied, in the order of the inputs. */
  objects: KubeObject[];
  created: KubeObject[];
  /** objectKey of the input objects the fixes changed. */
  changed: ReadonlySet<string>;
}

export interface FixOutput {
  text: string;
  /** What --fix did not write as fixed, and why (for stderr). */
  notes: InputDiagnostic[];
  /** Patched objects whose patch is not in `text` (their document is written back as it was, or left out). */
  unwritten: number;
}

/**
 * The --fix output: every input object with its fixes, then the created ones; YAML (documents) or JSON
 * (a v1 List). A document read with YAML aliases is written back as its original text (never expanded),
 * so its fixes are not written; as JSON it is left out. A file that was not read exactly (invalid UTF-8) is
 * left out. Each is said once per document.
 */
export function writeFixed(inputs: readonly LoadedObject[], fixed: FixedObjects, format: 'yaml' | 'json'): FixOutput {
  const notes: InputDiagnostic[] = [];
  const noted = new Set<WriteBack>();
  const written = new Set<WriteBack>();
  const yaml: string[] = [];
  const json: KubeObject[] = [];
  let unwritten = 0;
  inputs.forEach((input, i) => {
    const object = fixed.objects[i] ?? input.object;
    const wb = input.writeBack;
    if (!wb) {
      if (format === 'json') json.push(object);
      else yaml.push(dumpObject(object));
      return;
    }
    const changed = fixed.changed.has(objectKey(object));
    if (changed) unwritten++;
    const note = noteFor(wb, input, changed, format);
    if (note && (!noted.has(wb) || changed)) notes.push(note);
    noted.add(wb);
    if (wb.kind === 'verbatim' && format === 'yaml' && !written.has(wb)) yaml.push(wb.text);
    written.add(wb);
  });
  if (format === 'json')
    return {
      text: JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [...json, ...fixed.created] }, null, 2) + '\n',
      notes,
      unwritten,
    };
  for (const c of fixed.created) yaml.push(dumpObject(c));
  return { text: yaml.join('---\n'), notes, unwritten };
}

function dumpObject(o: KubeObject): string {
  return dump(o, { noRefs: true, lineWidth: -1 });
}

function noteFor(
  wb: WriteBack,
  input: LoadedObject,
  changed: boolean,
  format: 'yaml' | 'json',
): InputDiagnostic | undefined {
  const o = input.object;
  const base = {
    file: input.source.file,
    line: input.source.line,
    object: {
      kind: o.kind,
      name: o.metadata.name,
      ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
    },
  };
  if (wb.kind === 'refused')
    return { ...base, severity: 'error', message: `--fix leaves this object out of its output: ${wb.reason}` };
  if (format === 'json')
    return {
      ...base,
      severity: 'warning',
      message: `--fix -o json leaves this document out: ${wb.reason}; use -o yaml, which writes it back as it was`,
    };
  if (changed)
    return {
      ...base,
      severity: 'warning',
      message: `fix not written: ${wb.reason}, so the document is written back as it was; apply the fix by hand (meshmedic analyze shows it)`,
    };
  return undefined;
}
