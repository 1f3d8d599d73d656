import { readFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import fastJsonPatch from 'fast-json-patch';
import { Document, parseAllDocuments } from 'yaml';
import { parseDocuments } from '../input/parse-documents.js';
import { decodeDocuments, type LoadedObject } from '../model/decode.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import { objectKey, refKey } from '../model/kinds.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import type { Finding, ResourcePatch } from '../rules/types.js';
import type { FixedPointResult } from './fixed-point.js';
import { kustomizationIn, kustomizePatches, patchNames, samePath, type KustomizePatch } from './kustomize-refs.js';
import { applyOpsToDocumentText, deepEqual, YAML_PARSE_OPTIONS, YamlEditError, type Segment } from './yaml-edit.js';

const { applyPatch, deepClone } = fastJsonPatch;

/** `--fix --write`: the files to write, each as it is and as it would be after the fixes. */
export interface FileChange {
  file: string;
  /** The file's text now ('' for a file that does not exist yet). */
  before: string;
  after: string;
  /** The file does not exist: it is created (the objects the fixes create). */
  isNew: boolean;
  /** Patches written into the file, and objects it gains. */
  patches: number;
  created: number;
  /** What the user should know about the change (e.g. a kustomization that must list a created file). */
  note?: string;
}

export interface InPlacePlan {
  changes: FileChange[];
  /** Files left as they are although fixes target them, and why (for stderr; the exit code fails). */
  refused: { file: string; message: string }[];
  /** The findings whose fixes are in `changes` (every patch and created object of theirs). */
  written: Set<Finding>;
}

/** Suffix of the file beside an input that gets the objects its fixes create. */
export const CREATED_SUFFIX = '.meshmedic.yaml';

/** `dir/mesh.yaml` -> `dir/mesh.meshmedic.yaml`; a file that already is one is its own. */
export function createdFileFor(file: string): string {
  if (file.endsWith(CREATED_SUFFIX)) return file;
  return join(dirname(file), basename(file, extname(file)) + CREATED_SUFFIX);
}

interface Target {
  input: LoadedObject;
  index: number;
  patches: { finding: Finding; patch: ResourcePatch }[];
}

/**
 * What `--fix --write` writes: each fix's operations applied to the file that holds its object, in place
 * (src/fix/yaml-edit.ts), and the objects the fixes create in `<input>.meshmedic.yaml` beside the input
 * file of the finding. A file is left as it is, with the reason, when it did not read cleanly (any error the
 * reader reported for it, YAML aliases, invalid UTF-8), when a `test` of a fix fails on its text, when it is
 * (or its object is patched by) a kustomize patch, when it is JSON not in JSON.stringify's layout, or when
 * reading the edited text back does not give exactly the fixed objects. `filesRead`: every file read (also
 * those without objects, such as kustomizations), for the kustomizations near them.
 */
export async function planInPlace(
  inputs: readonly LoadedObject[],
  diagnostics: readonly InputDiagnostic[],
  fixed: FixedPointResult,
  filesRead: Iterable<string> = [],
): Promise<InPlacePlan> {
  const plan: InPlacePlan = { changes: [], refused: [], written: new Set() };
  const last = new Map(inputs.map((o, i) => [objectKey(o.object), i]));
  const byFile = targetsByFile(inputs, last, fixed);

  const created = createdByFile(inputs, last, fixed);
  const read = new Set([...inputs.map((i) => i.source.file), ...filesRead].filter((f) => f !== '<stdin>'));
  const kustomize = await kustomizePatches(new Set([...read].flatMap((f) => ancestors(f))));
  const refusedFiles = new Set<string>();
  const refuse = (file: string, message: string): void => {
    plan.refused.push({ file, message });
    refusedFiles.add(file);
  };

  const inputsOf = inputsByFile(inputs, byFile);
  for (const [file, list] of byFile) {
    const fileInputs = inputsOf.get(file) ?? [];
    const why =
      cannotWrite(
        file,
        fileInputs.map(({ o }) => o),
        diagnostics,
      ) ?? kustomizeProblem(file, list, inputs, kustomize);
    if (why) {
      refuse(file, why);
      continue;
    }
    try {
      plan.changes.push(await editFile(file, list, fileInputs, last, fixed));
      for (const t of list) for (const p of t.patches) plan.written.add(p.finding);
    } catch (err) {
      refuse(file, editRefusal(err));
    }
  }

  for (const [file, objects] of created) {
    const source = [...objects.values()][0]?.from ?? file;
    if (refusedFiles.has(source) && source !== file) {
      refuse(
        createdFileFor(source),
        `not written: the objects the fixes of ${source} create go with that file, which is not written`,
      );
      continue;
    }
    try {
      await addCreated(plan, file, [...objects.values()], inputs, diagnostics);
      for (const { by } of objects.values()) if (by) plan.written.add(by);
    } catch (err) {
      refuse(file, (err as Error).message);
    }
  }
  // A finding is written only when all of it is.
  for (const f of [...plan.written])
    if (f.fix.patches.some((p) => !targetWritten(p, plan, last, inputs))) plan.written.delete(f);
  return plan;
}

/** The objects the fixes patch, by the file that holds them (patches of created objects are written as created). */
function targetsByFile(
  inputs: readonly LoadedObject[],
  last: Map<string, number>,
  fixed: FixedPointResult,
): Map<string, Target[]> {
  const targets = new Map<number, Target>();
  for (const a of fixed.applied ?? []) {
    const index = last.get(refKey(a.patch.target));
    if (index === undefined) continue; // an object the fixes created: written as created
    const t = targets.get(index) ?? { input: inputs[index] as LoadedObject, index, patches: [] };
    t.patches.push({ finding: a.finding, patch: a.patch });
    targets.set(index, t);
  }
  const byFile = new Map<string, Target[]>();
  for (const t of targets.values()) {
    const list = byFile.get(t.input.source.file) ?? [];
    list.push(t);
    byFile.set(t.input.source.file, list);
  }
  return byFile;
}

type FileInput = { o: LoadedObject; i: number };

/** Every input object of the files to edit (with its index in inputs), by file. */
function inputsByFile(inputs: readonly LoadedObject[], files: Map<string, unknown>): Map<string, FileInput[]> {
  const inputsOf = new Map<string, FileInput[]>();
  inputs.forEach((o, i) => {
    if (!files.has(o.source.file)) return;
    const list = inputsOf.get(o.source.file) ?? [];
    list.push({ o, i });
    inputsOf.set(o.source.file, list);
  });
  return inputsOf;
}

/** The file with its targets' patches applied in place; throws when it must be left as it is. */
async function editFile(
  file: string,
  list: Target[],
  fileInputs: FileInput[],
  last: Map<string, number>,
  fixed: FixedPointResult,
): Promise<FileChange> {
  const before = await readFile(file, 'utf8');
  const after = isJsonText(before) ? editJson(before, list) : editYaml(before, list);
  const expected = fileInputs.map(({ o, i }) =>
    last.get(objectKey(o.object)) === i && fixed.changed.has(objectKey(o.object))
      ? (fixed.objects[i] ?? o.object)
      : o.object,
  );
  checkReadsBack(after, file, expected);
  return {
    file,
    before,
    after,
    isNew: false,
    patches: list.reduce((n, t) => n + t.patches.length, 0),
    created: 0,
  };
}

function editRefusal(err: unknown): string {
  return err instanceof WriteRefused || err instanceof YamlEditError
    ? err.message
    : `cannot edit in place: ${(err as Error).message}`;
}

/** The directory of a file and its parents, a few levels up: where a kustomization listing it as a patch may be. */
function ancestors(file: string, levels = 4): string[] {
  const out: string[] = [];
  let dir = dirname(file);
  for (let i = 0; i <= levels; i++) {
    out.push(dir);
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return out;
}

function targetWritten(
  p: ResourcePatch,
  plan: InPlacePlan,
  last: Map<string, number>,
  inputs: readonly LoadedObject[],
): boolean {
  const i = last.get(refKey(p.target));
  if (i === undefined) return true; // a created object, patched before it was written
  const file = (inputs[i] as LoadedObject).source.file;
  return plan.changes.some((c) => c.file === file);
}

class WriteRefused extends Error {}

function refLabel(r: ObjectRef): string {
  return `${r.kind} ${r.namespace ? r.namespace + '/' : ''}${r.name}`;
}

function label(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ? o.metadata.namespace + '/' : ''}${o.metadata.name}`;
}

/** Why a file that fixes target must not be written (undefined: it may be). */
function cannotWrite(
  file: string,
  fromFile: readonly LoadedObject[],
  diagnostics: readonly InputDiagnostic[],
): string | undefined {
  if (file === '<stdin>') return 'objects read from stdin cannot be written back: use --fix to print them fixed';
  const error = diagnostics.find((d) => d.file === file && d.severity === 'error');
  if (error)
    return `not written: the file did not read cleanly (line ${error.line ?? '?'}: ${error.message}); fix that first`;
  const wb = fromFile.find((o) => o.writeBack)?.writeBack;
  if (wb) return `not written: ${wb.reason}`;
  return undefined;
}

function kustomizeProblem(
  file: string,
  targets: readonly Target[],
  inputs: readonly LoadedObject[],
  patches: readonly KustomizePatch[],
): string | undefined {
  for (const p of patches) {
    if (samePath(p.file, file) && p.file !== p.kustomization)
      return `not written: this file is a kustomize patch listed by ${p.kustomization}; kustomize merges it into its base, so the fix belongs in whichever of them sets the field: apply it by hand (meshmedic analyze shows it)`;
  }
  for (const t of targets) {
    const o = t.input.object;
    const p = patches.find(
      (x) =>
        patchNames(x, {
          kind: o.kind,
          name: o.metadata.name,
          ...(o.metadata.namespace ? { namespace: o.metadata.namespace } : {}),
        }) && !samePath(x.file, file),
    );
    if (p) {
      const holders = [
        ...new Set(inputs.filter((i) => objectKey(i.object) === objectKey(o)).map((i) => i.source.file)),
      ];
      const where =
        p.file === p.kustomization
          ? `an inline patch in ${p.kustomization}`
          : `${p.file} (a patch listed by ${p.kustomization})`;
      return `not written: ${label(o)} is defined in ${holders.join(', ')} and patched by ${where}; which file should change depends on the overlay: apply the fix by hand`;
    }
  }
  return undefined;
}

// ---- YAML ----------------------------------------------------------------------------------------------

/** Where each object of a document value is: the document itself, or items of (nested) Lists or a sequence. */
export function objectPaths(
  value: unknown,
  path: Segment[] = [],
  depth = 0,
): { path: Segment[]; value: Record<string, unknown> }[] {
  if (depth > 100) return [];
  if (Array.isArray(value))
    return value.flatMap((v, i) => (Array.isArray(v) ? [] : objectPaths(v, [...path, i], depth + 1)));
  if (!value || typeof value !== 'object') return [];
  const r = value as Record<string, unknown>;
  const kind = r['kind'];
  if (
    typeof kind === 'string' &&
    (kind === 'List' || (kind.endsWith('List') && Object.hasOwn(r, 'items'))) &&
    Array.isArray(r['items'])
  ) {
    return (r['items'] as unknown[]).flatMap((v, i) => objectPaths(v, [...path, 'items', i], depth + 1));
  }
  return [{ path, value: r }];
}

function matches(v: Record<string, unknown>, o: KubeObject): boolean {
  const meta = v['metadata'] as Record<string, unknown> | undefined;
  if (v['kind'] !== o.kind || !meta || meta['name'] !== o.metadata.name) return false;
  const ns = meta['namespace'];
  return (
    ns === o.metadata.namespace ||
    ((ns === undefined || ns === null || ns === '') &&
      (o.metadata.namespace === undefined || o.metadata.namespace === 'default'))
  );
}

function editYaml(text: string, targets: readonly Target[]): string {
  const docs = parseAllDocuments(text, YAML_PARSE_OPTIONS);
  if (!Array.isArray(docs)) throw new WriteRefused('not written: no YAML document in the file');
  for (const d of docs) {
    const problem = d.errors[0] ?? d.warnings[0];
    if (problem)
      throw new WriteRefused(
        `not written: the YAML editor reads the file otherwise than the analysis did (${problem.message.split('\n')[0] ?? ''})`,
      );
  }
  const starts = docs.map((d, i) => (i === 0 ? 0 : d.range[0]));
  const located = docs.flatMap((d, doc) => objectPaths(d.toJS()).map((p) => ({ doc, ...p })));
  const edits = new Map<number, { base: Segment[]; patch: ResourcePatch; finding: Finding }[]>();
  for (const t of targets) {
    const found = located.filter((l) => matches(l.value, t.input.object)).at(-1);
    if (!found)
      throw new WriteRefused(
        `not written: ${label(t.input.object)} was not found in the file as the YAML editor reads it`,
      );
    const list = edits.get(found.doc) ?? [];
    for (const p of t.patches) list.push({ base: found.path, ...p });
    edits.set(found.doc, list);
  }
  // in the order the fixes were applied, per document; documents edited from the last one back
  const order = [...edits.keys()].sort((a, b) => b - a);
  let out = text;
  for (const doc of order) {
    const from = starts[doc] as number;
    const to = doc + 1 < starts.length ? (starts[doc + 1] as number) : text.length;
    let slice = text.slice(from, to);
    for (const e of edits.get(doc) ?? []) {
      try {
        slice = applyOpsToDocumentText(slice, e.base, e.patch.patch);
      } catch (err) {
        if (err instanceof YamlEditError)
          throw new YamlEditError(
            `not written: the fix of ${e.finding.rule} to ${refLabel(e.finding.resource)} cannot be applied to the file: ${err.message}`,
          );
        throw err;
      }
    }
    out = out.slice(0, from) + slice + out.slice(to);
  }
  return out;
}

// ---- JSON ----------------------------------------------------------------------------------------------

function isJsonText(text: string): boolean {
  const head = text.trimStart()[0];
  return head === '{' || head === '[';
}

/**
 * JSON is edited only when the file is exactly what JSON.stringify writes with its indentation (kubectl get
 * -o json, jq): the fixed value is written the same way, so only the fixed fields' lines change. Other JSON
 * layouts are refused rather than reformatted.
 */
function editJson(text: string, targets: readonly Target[]): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new WriteRefused(
      'not written: several JSON documents in one file, or JSON with YAML in it; --write edits such a file only when it is one JSON value',
    );
  }
  const indent = /\n( +|\t)"/.exec(text)?.[1] ?? '';
  const trailing = /\s*$/.exec(text)?.[0] ?? '';
  if (JSON.stringify(value, null, indent) + trailing !== text) {
    throw new WriteRefused(
      'not written: a JSON file not laid out as JSON.stringify writes it (as kubectl get -o json does); --write would reformat it, so it leaves it alone: apply the fix by hand, or keep the manifest as YAML',
    );
  }
  const located = objectPaths(value);
  for (const t of targets) {
    const found = located.filter((l) => matches(l.value, t.input.object)).at(-1);
    if (!found) throw new WriteRefused(`not written: ${label(t.input.object)} was not found in the file`);
    for (const p of t.patches) {
      const trial = deepClone(found.value) as Record<string, unknown>;
      try {
        applyPatch(trial, p.patch.patch, true, true);
      } catch (err) {
        throw new WriteRefused(
          `not written: the fix of ${p.finding.rule} cannot be applied to the file: ${(err as Error).message.split('\n')[0] ?? ''}`,
        );
      }
      for (const k of Object.keys(found.value)) delete found.value[k];
      Object.assign(found.value, trial);
    }
  }
  return JSON.stringify(value, null, indent) + trailing;
}

// ---- created objects -----------------------------------------------------------------------------------

interface CreatedObject {
  object: KubeObject;
  by: Finding | undefined;
  /** The input file of the finding the object is created for. */
  from: string;
}

/** The created objects by the file they go to: beside the input file of the finding that created them. */
function createdByFile(
  inputs: readonly LoadedObject[],
  last: Map<string, number>,
  fixed: FixedPointResult,
): Map<string, Map<string, CreatedObject>> {
  const out = new Map<string, Map<string, CreatedObject>>();
  const fallback = inputs.find((i) => i.source.file !== '<stdin>')?.source.file ?? 'meshmedic';
  for (const object of fixed.created) {
    let by = fixed.createdBy?.get(objectKey(object));
    let from: string | undefined;
    for (let hops = 0; by && hops < 10 && from === undefined; hops++) {
      const i = last.get(refKey(by.resource));
      if (i !== undefined) from = (inputs[i] as LoadedObject).source.file;
      else by = fixed.createdBy?.get(refKey(by.resource)) ?? by;
    }
    from ??= fallback;
    const file = createdFileFor(from);
    const m = out.get(file) ?? new Map<string, CreatedObject>();
    m.set(objectKey(object), { object, by: fixed.createdBy?.get(objectKey(object)), from });
    out.set(file, m);
  }
  return out;
}

function renderObject(o: KubeObject): string {
  return new Document(o, { version: '1.1' }).toString({ indentSeq: false, lineWidth: 0 });
}

async function addCreated(
  plan: InPlacePlan,
  file: string,
  objects: CreatedObject[],
  inputs: readonly LoadedObject[],
  diagnostics: readonly InputDiagnostic[],
): Promise<void> {
  const existing = plan.changes.find((c) => c.file === file);
  let before: string | undefined;
  if (!existing) {
    try {
      before = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as { code?: string }).code !== 'ENOENT') throw err;
    }
  }
  const body = objects.map((c) => renderObject(c.object));
  const current = existing?.after ?? before;
  if (current !== undefined) {
    const fromFile = inputs.filter((i) => i.source.file === file);
    const why = cannotWrite(file, fromFile, diagnostics);
    if (why) throw new WriteRefused(why);
    if (fromFile.length === 0 && parseDocuments(current, file).documents.length > 0)
      throw new WriteRefused(
        `not written: ${file} exists but was not read; give it as an input too (or move it away) and run again`,
      );
    const after =
      (current === '' || current.endsWith('\n') ? current : current + '\n') + body.map((b) => '---\n' + b).join('');
    checkCreated(after, file, fromFile.length, objects);
    if (existing) {
      existing.after = after;
      existing.created += objects.length;
    } else plan.changes.push({ file, before: current, after, isNew: false, patches: 0, created: objects.length });
    return;
  }
  const sources = [...new Set(objects.map((o) => basename(o.from)))].join(', ');
  const header = `# Created by meshmedic analyze --fix --write: objects the fixes for ${sources} need.\n# Review them, and apply and commit them with ${sources}.\n`;
  const after = header + body.join('---\n');
  checkCreated(after, file, 0, objects);
  const kustomization = await kustomizationIn(dirname(file));
  const note = kustomization
    ? `add ${basename(file)} to the resources of ${kustomization}, or kustomize build leaves it out`
    : undefined;
  plan.changes.push({
    file,
    before: '',
    after,
    isNew: true,
    patches: 0,
    created: objects.length,
    ...(note ? { note } : {}),
  });
}

// ---- checks --------------------------------------------------------------------------------------------

/** The edited text, read as the analysis reads files, must give exactly the expected objects. */
function checkReadsBack(text: string, file: string, expected: readonly KubeObject[]): void {
  const read = parseDocuments(text, file);
  const decoded = decodeDocuments(read.documents);
  const problem = [...read.diagnostics, ...decoded.diagnostics].find((d) => d.severity === 'error');
  if (problem)
    throw new WriteRefused(
      `not written: the edited file would not read cleanly (line ${problem.line ?? '?'}: ${problem.message}); this is a meshmedic bug, please report it`,
    );
  const got = decoded.inOrder.map((o) => o.object);
  if (got.length !== expected.length || got.some((o, i) => !deepEqual(o, expected[i]))) {
    throw new WriteRefused(
      'not written: the edited file does not read back as the fixed objects; this is a meshmedic bug, please report it (use --fix to print them)',
    );
  }
}

function checkCreated(text: string, file: string, existing: number, objects: readonly CreatedObject[]): void {
  const read = parseDocuments(text, file);
  const decoded = decodeDocuments(read.documents);
  const got = decoded.inOrder.slice(existing).map((o) => o.object);
  const want = objects.map((o) => deepClone(o.object) as KubeObject);
  const norm = decodeDocuments(want.map((value) => ({ value, file, line: 0 }))).inOrder.map((o) => o.object);
  if (got.length !== norm.length || got.some((o, i) => !deepEqual(o, norm[i])))
    throw new WriteRefused(
      `not written: the created objects do not read back from ${file} as created; this is a meshmedic bug, please report it`,
    );
}
