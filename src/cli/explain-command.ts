import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { parseArgs } from 'node:util';
import { analyze } from '../analysis/analyze.js';
import { loadMesh, type LoadedMesh } from '../analysis/load-mesh.js';
import { policySettings } from '../analysis/policy-parameters.js';
import { evidenceFormsText } from '../catalogue/log-symptoms.js';
import type { LogAggregator, LogStats } from '../evidence/aggregate.js';
import { explainGroups, type ExplainResult } from '../evidence/diagnose.js';
import { readAccessLog } from '../evidence/read-log.js';
import { formatDiagnostic, type InputDiagnostic } from '../model/diagnostics.js';
import { RULES } from '../rules/registry.js';
import { DEFAULT_PARAMETERS, type Finding, type IstioVersion } from '../rules/types.js';
import { UsageError } from './analyze-command.js';
import { findingsDocument } from './findings-document.js';
import { formatExplainText } from './format-explain.js';
import type { CliIo } from './io.js';

export const EXPLAIN_USAGE = `Usage: meshmedic explain --logs FILE|- [MANIFESTS...] [options]

Reads Envoy/Istio access logs (Istio's default text format, older Istio/Envoy text formats, JSON; streamed,
any size), groups the records by upstream cluster or authority, response code and flags, and explains the
503/504s: cause, fix, and, with manifests, the finding that explains them (MM101 ... MM108). Access-log
findings are built for ${evidenceFormsText()}.

Options:
      --logs FILE|-             the access log ('-' for stdin)
  -o, --output text|json        output format (default text)
      --policy FILE             a MeshHealthPolicy whose rule parameters apply (also read from the manifests)
      --mesh-config FILE        MeshConfig YAML (default: ConfigMap istio in istio-system, else Istio defaults)
      --istio-version X.Y       the Istio version verdicts are judged for (default 1.28)
      --namespace NS            namespace of generated objects when nothing tells (default: default)
  -h, --help

Exit code: 0 no error findings, 1 error findings or unreadable manifests, 2 no access-log record could be read.
`;

function parseVersion(v: string): IstioVersion {
  const m = /^v?(\d+)\.(\d+)/.exec(v);
  if (!m) throw new UsageError(`--istio-version: expected X.Y (got ${JSON.stringify(v)})`);
  return { major: Number(m[1]), minor: Number(m[2]) };
}

/** `meshmedic explain`: usage errors print this command's usage and exit 2. */
export async function explainCommand(args: string[], io: CliIo): Promise<number> {
  try {
    return await explain(args, io);
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`meshmedic: ${(err as Error).message}\n\n${EXPLAIN_USAGE}`);
      return 2;
    }
    throw err;
  }
}

function parseExplainArgs(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    options: {
      logs: { type: 'string' },
      output: { type: 'string', short: 'o', default: 'text' },
      policy: { type: 'string' },
      'mesh-config': { type: 'string' },
      'istio-version': { type: 'string', default: '1.28' },
      namespace: { type: 'string', default: 'default' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
}

type ExplainValues = ReturnType<typeof parseExplainArgs>['values'];

/** The usage checks parseArgs does not make: -o's value, --logs given, stdin read once. */
function checkedUsage(values: ExplainValues, positionals: string[]): { output: 'text' | 'json'; logs: string } {
  const output = values.output;
  if (output !== 'text' && output !== 'json') throw new UsageError(`-o: expected text or json (got ${output})`);
  if (!values.logs) throw new UsageError('--logs FILE|- is required');
  if (values.logs === '-' && positionals.includes('-'))
    throw new UsageError('stdin cannot be both the log (--logs -) and a manifest (-)');
  return { output, logs: values.logs };
}

/** The manifests, policy and MeshConfig given, when any is. */
async function loadExplainMesh(
  values: ExplainValues,
  positionals: string[],
  io: CliIo,
): Promise<LoadedMesh | undefined> {
  if (!(positionals.length > 0 || values.policy || values['mesh-config'])) return undefined;
  return loadMesh(positionals, {
    ...(values['mesh-config'] ? { meshConfigFile: values['mesh-config'] } : {}),
    ...(values.policy ? { policyFile: values.policy } : {}),
    stdin: io.stdin,
  });
}

/** Manifests were given and nothing could be read from them: say why, exit 2. */
function nothingUsable(mesh: LoadedMesh, positionals: string[], io: CliIo): number {
  for (const d of mesh.diagnostics) io.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  io.stderr.write(
    `meshmedic: nothing usable could be read from ${positionals.join(' ')} (${mesh.filesRead} file(s))\n`,
  );
  return 2;
}

function logInput(logs: string, io: CliIo): Readable {
  if (logs !== '-') return createReadStream(logs);
  if (!io.stdin) throw new UsageError('stdin is not available');
  return io.stdin;
}

/** The access log read and aggregated; undefined (said on stderr) when it cannot be read. */
async function readLog(logs: string, io: CliIo): Promise<LogAggregator | undefined> {
  const input = logInput(logs, io);
  try {
    return await readAccessLog(input);
  } catch (err) {
    io.stderr.write(`meshmedic: cannot read the access log ${logs}: ${(err as Error).message}\n`);
    return undefined;
  }
}

/** Not one record parsed: the malformed samples and the counts, exit 2. */
function noRecordRead(stats: LogStats, logs: string, io: CliIo): number {
  for (const m of stats.malformedSamples) io.stderr.write(`  line ${m.line}: ${m.reason}\n`);
  io.stderr.write(
    `meshmedic: no access-log record could be read from ${logs} (${stats.lines} line(s), ${stats.malformed} malformed)\n`,
  );
  return 2;
}

function writeExplainOutput(
  output: 'text' | 'json',
  result: ExplainResult,
  diagnostics: InputDiagnostic[],
  stats: LogStats,
  groups: number,
  io: CliIo,
): void {
  if (output === 'json') {
    const doc = {
      ...findingsDocument(result.findings, diagnostics),
      diagnoses: result.diagnoses,
      logs: { ...stats, groups },
    };
    io.stdout.write(JSON.stringify(doc, null, 2) + '\n');
    for (const d of diagnostics) io.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  } else {
    io.stdout.write(formatExplainText(stats, groups, result.diagnoses, result.findings, diagnostics, io.color));
  }
}

async function explain(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseExplainArgs(args);
  if (values.help) {
    io.stdout.write(EXPLAIN_USAGE);
    return 0;
  }
  const { output, logs } = checkedUsage(values, positionals);
  const istioVersion = parseVersion(values['istio-version']);

  const mesh = await loadExplainMesh(values, positionals, io);
  if (mesh && positionals.length > 0 && mesh.index.size === 0) return nothingUsable(mesh, positionals, io);
  const policy = policySettings(mesh?.policy);
  const params = { ...DEFAULT_PARAMETERS, ...policy.params };
  const rules = RULES.filter((r) => !policy.disabledRules.includes(r.id));
  // Static findings come from manifests only (a policy or MeshConfig alone makes no index to analyze).
  const index = mesh && positionals.length > 0 ? mesh.index : undefined;
  const staticResult = index
    ? analyze(index, { rules, params, istioVersion })
    : { findings: [] as Finding[], diagnostics: [] };

  const agg = await readLog(logs, io);
  if (!agg) return 2;
  const groups = agg.groups();
  const stats = agg.stats;
  if (stats.parsed === 0) return noRecordRead(stats, logs, io);
  const result = explainGroups(groups, {
    ...(index ? { index } : {}),
    staticFindings: staticResult.findings.filter((f) => !policy.disabledRules.includes(f.rule)),
    params,
    istioVersion,
    namespace: values.namespace,
    disabledRules: policy.disabledRules,
  });
  const diagnostics = [...(mesh?.diagnostics ?? []), ...staticResult.diagnostics];
  const failed = result.findings.some((f) => f.severity === 'error') || diagnostics.some((d) => d.severity === 'error');
  writeExplainOutput(output, result, diagnostics, stats, groups.length, io);
  return failed ? 1 : 0;
}
