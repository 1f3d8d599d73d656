import { parseArgs } from 'node:util';
import { dump } from 'js-yaml';
import { buildMesh } from '../analysis/load-mesh.js';
import { readInputs } from '../input/read-inputs.js';
import { inPlaceInputs, runInPlace } from './analyze-write.js';
import { analyzeUnderPolicy } from '../analysis/policy-parameters.js';
import { fixToFixedPoint } from '../fix/fixed-point.js';
import { writeFixed } from '../fix/write-fixed.js';
import { isKnownKind, kindKey, objectKey } from '../model/kinds.js';
import { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject } from '../model/types.js';
import { formatDiagnostic, type InputDiagnostic as Diagnostic } from '../model/diagnostics.js';
import { selectRules } from '../rules/registry.js';
import { SEVERITY_ORDER, type Finding, type IstioVersion, type Severity } from '../rules/types.js';
import { formatText } from './format-text.js';
import type { CliIo } from './io.js';
import { findingsDocument } from './findings-document.js';
import { sarifLog } from './format-sarif.js';
import { MESHMEDIC_VERSION } from './version.js';

export const ANALYZE_USAGE = `Usage: meshmedic analyze [PATH...|-] [options]

Reads Kubernetes/Istio manifests (files, directories recursively, '-' for stdin; multi-document YAML,
JSON, kind: List) and reports the configurations that make Envoy answer 503/504, with their fixes.

Options:
  -o, --output text|json|yaml|sarif  output format (default text; --fix defaults to yaml); sarif: SARIF 2.1.0
      --fail-on error|warning|never  findings that make the exit code 1 (default error)
      --fix                     print every input object with the fixes applied, plus generated objects
      --write                   --fix into the input files, in place: only the fixed fields change (comments,
                                order, quoting kept); created objects go to <file>.meshmedic.yaml; re-analyzes
      --diff                    print the unified diff --write would make (patch -p0); writes nothing
      --mesh-config FILE        MeshConfig YAML (default: ConfigMap istio in istio-system, else Istio defaults)
      --policy FILE             a MeshHealthPolicy whose rule parameters apply (also read from the inputs)
      --rules MM101,MM103       run only these rules
      --min-severity LEVEL      show findings at or above error|warning|info (default info)
      --istio-version X.Y       the Istio version verdicts are judged for (default 1.28)
      --complete                the inputs are the whole mesh: an object they do not hold is missing, and
                                findings that rest on its absence are errors (default: warnings)
  -h, --help

Exit code: 0 no failing findings (--fail-on), 1 failing findings or unreadable input objects, 2 nothing usable
could be read.
`;

export function parseVersion(v: string): IstioVersion {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  if (!m) throw new Error(`--istio-version: expected X.Y (got ${JSON.stringify(v)})`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

const ANALYZE_OPTIONS = {
  output: { type: 'string', short: 'o' },
  fix: { type: 'boolean', default: false },
  write: { type: 'boolean', default: false },
  diff: { type: 'boolean', default: false },
  'mesh-config': { type: 'string' },
  policy: { type: 'string' },
  rules: { type: 'string' },
  'min-severity': { type: 'string', default: 'info' },
  'istio-version': { type: 'string', default: '1.28' },
  'fail-on': { type: 'string', default: 'error' },
  complete: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

type AnalyzeValues = ReturnType<typeof parseArgs<{ options: typeof ANALYZE_OPTIONS }>>['values'];
type FailOn = 'error' | 'warning' | 'never';
type InPlaceMode = 'write' | 'diff';

/** The validated command line: usage errors are thrown here, in the order the user meets them. */
interface AnalyzeSettings {
  inPlace: InPlaceMode | undefined;
  fix: boolean;
  output: string;
  failOn: FailOn;
  minSeverity: Severity;
  istioVersion: IstioVersion;
}

function inPlaceMode(values: AnalyzeValues, positionals: string[]): InPlaceMode | undefined {
  const inPlace = values.write ? 'write' : values.diff ? 'diff' : undefined;
  if (values.write && values.diff)
    throw new UsageError('--write and --diff: choose one (--diff shows what --write would write)');
  if (inPlace && values.output !== undefined)
    throw new UsageError(`--${inPlace} edits the input files: -o does not apply`);
  if (inPlace && positionals.includes('-'))
    throw new UsageError(
      `--${inPlace} edits files: stdin (-) cannot be written back; use --fix to print the fixed objects`,
    );
  return inPlace;
}

function outputFormat(values: AnalyzeValues, fix: boolean): string {
  const output = values.output ?? (fix ? 'yaml' : 'text');
  if (!['text', 'json', 'yaml', 'sarif'].includes(output))
    throw new UsageError(`-o: expected text, json, yaml or sarif (got ${output})`);
  if (fix && output === 'sarif') throw new UsageError('-o sarif reports findings; --fix prints objects (yaml or json)');
  return output;
}

function analyzeSettings(values: AnalyzeValues, positionals: string[]): AnalyzeSettings {
  const inPlace = inPlaceMode(values, positionals);
  const fix = values.fix || inPlace !== undefined;
  const output = outputFormat(values, fix);
  const failOn = values['fail-on'];
  if (failOn !== 'error' && failOn !== 'warning' && failOn !== 'never')
    throw new UsageError(`--fail-on: expected error, warning or never (got ${failOn})`);
  const minSeverity = values['min-severity'] as Severity;
  if (!(minSeverity in SEVERITY_ORDER))
    throw new UsageError(`--min-severity: expected error, warning or info (got ${minSeverity})`);
  if (positionals.length === 0) throw new UsageError('no input: give files, directories or - for stdin');
  const istioVersion = parseVersion(values['istio-version']);
  return { inPlace, fix, output, failOn, minSeverity, istioVersion };
}

function writeDiagnostics(io: CliIo, diagnostics: readonly Diagnostic[]): void {
  for (const d of diagnostics) io.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
}

/** Prints the findings report (-o text|json|yaml|sarif). */
function printFindings(
  io: CliIo,
  output: string,
  shown: Finding[],
  diagnostics: Diagnostic[],
  selected: ReturnType<typeof selectRules>,
): void {
  if (output === 'text') {
    io.stdout.write(formatText(shown, diagnostics, io.color));
  } else if (output === 'sarif') {
    io.stdout.write(JSON.stringify(sarifLog(shown, diagnostics, selected, MESHMEDIC_VERSION), null, 2) + '\n');
  } else {
    const doc = findingsDocument(shown, diagnostics);
    io.stdout.write(
      output === 'json' ? JSON.stringify(doc, null, 2) + '\n' : dump(doc, { noRefs: true, lineWidth: -1 }),
    );
    writeDiagnostics(io, diagnostics);
  }
}

type FixedResult = ReturnType<typeof fixToFixedPoint>;

/** Prints the fixed objects (--fix without --write/--diff), with what could not be fixed on stderr. */
function printFixed(
  io: CliIo,
  output: string,
  inputs: Parameters<typeof writeFixed>[0],
  fixed: FixedResult,
  diagnostics: Diagnostic[],
  findingCount: number,
): void {
  for (const fl of fixed.failures)
    io.stderr.write(
      `meshmedic: fix of ${fl.finding.rule} not applied to ${fl.target.kind} ${fl.target.namespace ?? ''}/${fl.target.name}: ${fl.error}\n`,
    );
  for (const c of fixed.conflicts) io.stderr.write(`meshmedic: conflict: ${c}\n`);
  if (!fixed.converged && fixed.conflicts.length === 0)
    io.stderr.write(
      `meshmedic: the fixes had not settled after ${fixed.passes} passes; run --fix again and report it\n`,
    );
  const written = writeFixed(inputs, fixed, output === 'json' ? 'json' : 'yaml');
  writeDiagnostics(io, [...diagnostics, ...written.notes]);
  io.stdout.write(written.text);
  const unwritten = written.unwritten > 0 ? ` (${written.unwritten} not written: see above)` : '';
  io.stderr.write(
    `meshmedic: ${findingCount} finding(s); ${fixed.changed.size} object(s) patched${unwritten}, ${fixed.created.length} created\n`,
  );
}

export async function analyzeCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: ANALYZE_OPTIONS });
  if (values.help) {
    io.stdout.write(ANALYZE_USAGE);
    return 0;
  }
  const { inPlace, fix, output, failOn, minSeverity, istioVersion } = analyzeSettings(values, positionals);

  const loadOptions = {
    ...(values['mesh-config'] ? { meshConfigFile: values['mesh-config'] } : {}),
    ...(values.policy ? { policyFile: values.policy } : {}),
    stdin: io.stdin,
  };
  const paths = inPlace ? await inPlaceInputs(positionals, io) : positionals;
  const read = await readInputs(paths, io.stdin);
  const mesh = await buildMesh(read, loadOptions);
  if (mesh.index.size === 0) {
    writeDiagnostics(io, mesh.diagnostics);
    io.stderr.write(
      `meshmedic: nothing usable could be read from ${positionals.join(' ')} (${mesh.filesRead} file(s))\n`,
    );
    return 2;
  }
  const selected = selectRules(
    values.rules
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const analyzeOptions = { rules: selected, istioVersion, complete: values.complete };
  const result = analyzeUnderPolicy(mesh.index, mesh.policy, analyzeOptions);
  const diagnostics = [...mesh.diagnostics, ...result.diagnostics];
  const shown = result.findings.filter((f: Finding) => SEVERITY_ORDER[f.severity] <= SEVERITY_ORDER[minSeverity]);
  // Unreadable input objects always fail (what was not read was not judged); findings as --fail-on says.
  const failed =
    result.findings.some((f) => failsOn(f.severity, failOn)) || diagnostics.some((d) => d.severity === 'error');

  if (!fix) {
    printFindings(io, output, shown, diagnostics, selected);
    return failed ? 1 : 0;
  }
  // Fix, re-analyze (generated objects included), repeat: one --fix reaches the fixed point.
  const sources = new Map(mesh.inputs.map((i) => [objectKey(i.object), i.source]));
  const reanalyze = (objects: KubeObject[]): Finding[] => {
    const loaded = objects
      .filter((o) => isKnownKind(kindKey(o)) && o.kind !== 'MeshHealthPolicy')
      .map((object) => ({ object, source: sources.get(objectKey(object)) ?? { file: '<generated>', line: 0 } }));
    const index = new MeshIndex(loaded, mesh.indexOptions);
    return analyzeUnderPolicy(index, mesh.policy, analyzeOptions).findings;
  };
  const fixed = fixToFixedPoint(
    mesh.inputs.map((i) => i.object),
    reanalyze,
  );
  if (!inPlace) {
    printFixed(io, output, mesh.inputs, fixed, diagnostics, result.findings.length);
    // As with --write and --diff, the code describes what was printed: `--fix | kubectl apply -f -` passes
    // under pipefail when every failing finding is fixed, and fails when one remains.
    const remaining = reanalyze([...fixed.objects, ...fixed.created]).filter((f) => failsOn(f.severity, failOn));
    if (remaining.length > 0)
      io.stderr.write(`meshmedic: ${remaining.length} failing finding(s) remain after the fixes\n`);
    return remaining.length > 0 || diagnostics.some((d) => d.severity === 'error') ? 1 : 0;
  }
  const judge = async (again: typeof read): Promise<{ findings: Finding[]; diagnostics: typeof diagnostics }> => {
    const m = await buildMesh(again, loadOptions);
    const r = analyzeUnderPolicy(m.index, m.policy, analyzeOptions);
    return { findings: r.findings, diagnostics: [...m.diagnostics, ...r.diagnostics] };
  };
  const fails = (f: Finding): boolean => failsOn(f.severity, failOn);
  return runInPlace(
    { mode: inPlace, paths, read, inputs: mesh.inputs, diagnostics, findings: result.findings, fixed, judge, fails },
    io,
  );
}

function failsOn(severity: Severity, failOn: FailOn): boolean {
  if (failOn === 'never') return false;
  return SEVERITY_ORDER[severity] <= SEVERITY_ORDER[failOn];
}

export class UsageError extends Error {}
