import { randomBytes } from 'node:crypto';
import { chmod, lstat, readFile, realpath, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { parseDocuments } from '../input/parse-documents.js';
import { readInputs, type ReadResult } from '../input/read-inputs.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import { refKey } from '../model/kinds.js';
import type { FixedPointResult } from '../fix/fixed-point.js';
import { createdFileFor, planInPlace, type FileChange, type InPlacePlan } from '../fix/write-in-place.js';
import type { LoadedObject } from '../model/decode.js';
import type { Finding } from '../rules/types.js';
import { fixChangesSomething } from '../fix/apply-fixes.js';
import { unifiedDiff } from './diff-output.js';
import { formatText } from './format-text.js';
import type { CliIo } from './io.js';

export type InPlaceMode = 'write' | 'diff';

/** Findings and diagnostics of a read: the same analysis as the first one (rules, parameters, --complete). */
export type Judge = (read: ReadResult) => Promise<{ findings: Finding[]; diagnostics: InputDiagnostic[] }>;

/**
 * The inputs for --write/--diff: the paths given, plus the `<file>.meshmedic.yaml` an earlier --write created
 * beside each file named (a directory is walked anyway), so that a second run sees the objects it created.
 */
export async function inPlaceInputs(paths: readonly string[], io: CliIo): Promise<string[]> {
  const out = [...paths];
  for (const p of paths) {
    const companion = createdFileFor(p);
    if (companion === p || out.includes(companion)) continue;
    try {
      if ((await stat(p)).isFile() && (await stat(companion)).isFile()) {
        out.push(companion);
        io.stderr.write(`meshmedic: also reading ${companion} (objects an earlier --write created for ${p})\n`);
      }
    } catch {
      // no companion
    }
  }
  return out;
}

interface InPlaceArgs {
  mode: InPlaceMode;
  paths: string[];
  read: ReadResult;
  inputs: readonly LoadedObject[];
  diagnostics: readonly InputDiagnostic[];
  findings: readonly Finding[];
  fixed: FixedPointResult;
  judge: Judge;
  /** Whether a finding of this severity fails (--fail-on). */
  fails: (f: Finding) => boolean;
}

/** `analyze --fix --write|--diff`: the exit code is the one `analyze` gives on the files as written. */
export async function runInPlace(a: InPlaceArgs, io: CliIo): Promise<number> {
  const filesRead = [...a.read.documents.map((d) => d.file), ...a.read.diagnostics.map((d) => d.file)];
  const plan = await planInPlace(a.inputs, a.diagnostics, a.fixed, new Set(filesRead));
  for (const d of a.diagnostics) io.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  for (const fl of a.fixed.failures)
    io.stderr.write(
      `meshmedic: fix of ${fl.finding.rule} not applied to ${fl.target.kind} ${fl.target.namespace ?? ''}/${fl.target.name}: ${fl.error}\n`,
    );
  for (const c of a.fixed.conflicts) io.stderr.write(`meshmedic: conflict: ${c}\n`);
  if (!a.fixed.converged && a.fixed.conflicts.length === 0)
    io.stderr.write(
      `meshmedic: the fixes had not settled after ${a.fixed.passes} passes; what they reached is written; run again and report it\n`,
    );
  for (const r of plan.refused) io.stderr.write(`meshmedic: ${r.file}: ${r.message}\n`);
  const changes = plan.changes.filter((c) => c.before !== c.after);
  if (changes.length === 0) {
    const fixable = a.findings.filter(fixChangesSomething).length;
    io.stderr.write(
      `meshmedic: nothing to change: ${a.findings.length} finding(s), ${fixable === 0 ? 'none with a fix to write' : `${fixable} with a fix that could not be written (see above)`}\n`,
    );
    return exitCode(a.findings, a.diagnostics, a.fails, plan);
  }
  let after: ReadResult;
  if (a.mode === 'diff') {
    io.stdout.write(unifiedDiff(changes));
    for (const c of changes) if (c.note) io.stderr.write(`meshmedic: ${c.file}: ${c.note}\n`);
    after = substitute(a.read, changes);
  } else {
    const written: FileChange[] = [];
    for (const c of changes) {
      try {
        await writeAtomically(c);
        written.push(c);
        io.stderr.write(
          `meshmedic: ${c.isNew ? 'created' : 'wrote'} ${c.file} (${describe(c)})${c.note ? `: ${c.note}` : ''}\n`,
        );
      } catch (err) {
        plan.refused.push({ file: c.file, message: `not written: ${(err as Error).message}` });
        io.stderr.write(`meshmedic: ${c.file}: not written: ${(err as Error).message}\n`);
      }
    }
    after = await readInputs(a.paths);
    const read = new Set(after.documents.map((d) => d.file));
    for (const c of written) if (c.isNew && !read.has(c.file)) merge(after, await readInputs([c.file]));
  }
  const judged = await a.judge(after);
  report(a, plan, judged, io);
  return exitCode(judged.findings, judged.diagnostics, a.fails, plan);
}

function describe(c: FileChange): string {
  const parts = [];
  if (c.patches > 0) parts.push(`${c.patches} fix${c.patches === 1 ? '' : 'es'}`);
  if (c.created > 0) parts.push(`${c.created} object${c.created === 1 ? '' : 's'} created by the fixes`);
  return parts.join(', ');
}

function findingKey(f: Finding): string {
  return `${f.rule}|${f.messageType}|${refKey(f.resource)}`;
}

/** What the fixes left: the written findings must be gone; the others are listed. */
function report(
  a: InPlaceArgs,
  plan: InPlacePlan,
  judged: { findings: Finding[]; diagnostics: InputDiagnostic[] },
  io: CliIo,
): void {
  const still = new Set(judged.findings.map(findingKey));
  const back = [...plan.written].filter((f) => still.has(findingKey(f)));
  for (const f of back)
    io.stderr.write(
      `meshmedic: error: ${f.rule} on ${f.resource.kind} ${f.resource.namespace ?? ''}/${f.resource.name} is still reported after its fix was ${a.mode === 'diff' ? 'applied' : 'written'}; please report it\n`,
    );
  for (const d of judged.diagnostics)
    if (!a.diagnostics.some((x) => formatDiagnostic(x) === formatDiagnostic(d)))
      io.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  const count = (s: string): number => judged.findings.filter((f) => f.severity === s).length;
  const fixed = new Set([...plan.written].map(findingKey).filter((k) => !still.has(k))).size;
  const verb = a.mode === 'diff' ? 'would fix' : 'fixed';
  io.stderr.write(
    `meshmedic: ${a.findings.length} finding(s) before; ${verb} ${fixed}; ${judged.findings.length} remain (${count('error')} error, ${count('warning')} warning, ${count('info')} info)\n`,
  );
  if (judged.findings.length > 0) io.stderr.write(formatText(judged.findings, [], false));
  if (back.length > 0) plan.refused.push({ file: '', message: 'fixed findings still reported' });
}

function exitCode(
  findings: readonly Finding[],
  diagnostics: readonly InputDiagnostic[],
  fails: (f: Finding) => boolean,
  plan: InPlacePlan,
): number {
  return findings.some(fails) || diagnostics.some((d) => d.severity === 'error') || plan.refused.length > 0 ? 1 : 0;
}

/** The read, with the planned files as they would be written (in the order read; new files last). */
function substitute(read: ReadResult, changes: readonly FileChange[]): ReadResult {
  const byFile = new Map(changes.map((c) => [c.file, c]));
  const out: ReadResult = {
    documents: [],
    diagnostics: read.diagnostics.filter((d) => !byFile.has(d.file)),
    filesRead: read.filesRead,
  };
  const done = new Set<string>();
  const add = (c: FileChange): void => {
    done.add(c.file);
    const parsed = parseDocuments(c.after, c.file);
    for (const d of parsed.documents) out.documents.push(d);
    for (const d of parsed.diagnostics) out.diagnostics.push(d);
  };
  for (const d of read.documents) {
    const c = byFile.get(d.file);
    if (!c) out.documents.push(d);
    else if (!done.has(c.file)) add(c);
  }
  for (const c of changes) if (!done.has(c.file)) add(c);
  return out;
}

function merge(into: ReadResult, more: ReadResult): void {
  for (const d of more.documents) into.documents.push(d);
  for (const d of more.diagnostics) into.diagnostics.push(d);
  into.filesRead += more.filesRead;
}

/**
 * Writes a temporary file beside the target and renames it over (the target is never half-written); an
 * existing file keeps its mode, and a symbolic link its target. Refuses when the file changed since it was read.
 */
async function writeAtomically(c: FileChange): Promise<void> {
  let target = c.file;
  let mode = 0o644;
  if (!c.isNew) {
    target = await realpath(c.file);
    const now = await readFile(target, 'utf8');
    if (now !== c.before) throw new Error('it changed while meshmedic ran; run again');
    mode = (await stat(target)).mode & 0o7777;
  } else {
    const exists = await lstat(c.file).then(
      () => true,
      () => false,
    );
    if (exists) throw new Error('it was created while meshmedic ran; run again');
  }
  const tmp = join(
    dirname(target),
    `.${basename(target)}.meshmedic-${process.pid}-${randomBytes(4).toString('hex')}.tmp`,
  );
  try {
    await writeFile(tmp, c.after, { flag: 'wx', mode });
    await chmod(tmp, mode);
    await rename(tmp, target);
  } catch (err) {
    await unlink(tmp).catch(() => undefined);
    throw err;
  }
}
