import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadMesh } from '../analysis/load-mesh.js';
import { analyzeUnderPolicy } from '../analysis/policy-parameters.js';
import { describeRef } from '../model/kinds.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import type { KubeObject } from '../model/types.js';
import { selectRules } from '../rules/registry.js';
import { locateOracle, OracleUnavailable, runOracle } from '../verify/oracle-client.js';
import { verify, type VerifyReport } from '../verify/verify.js';
import { parseVersion, UsageError } from './analyze-command.js';
import type { CliIo } from './io.js';

export const VERIFY_USAGE = `Usage: meshmedic verify [PATH...|-] [options]

Analyzes the manifests, then puts every finding that makes an Envoy-level claim to Istio's own config
generator and traffic simulation (the oracle): confirmed, refuted, or inexpressible (with the reason).
Each fix is applied alone and checked to remove the claimed effect and to change no other simulated call.

Options:
  -o, --output text|json        output format (default text)
      --mesh-config FILE        MeshConfig YAML (default: ConfigMap istio in istio-system, else Istio defaults)
      --rules MM101,MM103       verify only these rules' findings
      --policy FILE             a MeshHealthPolicy whose rule parameters apply (also read from the inputs)
      --istio-version X.Y       the Istio version judged (default 1.28; older behaviour is emulated with feature flags)
  -h, --help

Exit code: 0 nothing refuted and no fix breaks, 1 a finding refuted or a fix that breaks, 2 no oracle or no usable input.
The oracle is built by \`npm run oracle:build\` (Go 1.26), or named by MESHMEDIC_ORACLE.
`;

/** The mesh config as YAML: the --mesh-config file, else the `mesh` key of ConfigMap istio-system/istio. */
export async function meshConfigText(file: string | undefined, objects: KubeObject[]): Promise<string | undefined> {
  if (file) return readFile(file, 'utf8');
  const cm = objects.find(
    (o) => o.kind === 'ConfigMap' && o.metadata.name === 'istio' && o.metadata.namespace === 'istio-system',
  );
  const mesh = (cm?.['data'] as Record<string, unknown> | undefined)?.['mesh'];
  return typeof mesh === 'string' ? mesh : undefined;
}

function formatReport(r: VerifyReport): string {
  const lines = [`Judged by Istio's config generator ${r.istio}, as ${r.judgedAs}.`];
  for (const n of r.rejected)
    lines.push(`rejected by Istio's validation: ${n.kind} ${n.namespace ?? ''}/${n.name}: ${n.message}`);
  for (const v of r.verdicts) {
    lines.push(`${v.verdict.toUpperCase().padEnd(13)} ${v.rule} ${v.severity} ${describeRef(v.resource)}`);
    lines.push(`    ${v.evidence}`);
    if (v.fix !== 'none') lines.push(`    fix: ${v.fix}${v.fixEvidence ? ` — ${v.fixEvidence}` : ''}`);
  }
  const count = (k: string): number => r.verdicts.filter((v) => v.verdict === k).length;
  lines.push(
    `${r.verdicts.length} finding(s): ${count('confirmed')} confirmed, ${count('refuted')} refuted, ${count('inexpressible')} inexpressible; ${r.verdicts.filter((v) => v.fix === 'fix-breaks').length} fix(es) break`,
  );
  return lines.join('\n') + '\n';
}

export async function verifyCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      output: { type: 'string', short: 'o', default: 'text' },
      'mesh-config': { type: 'string' },
      rules: { type: 'string' },
      policy: { type: 'string' },
      'istio-version': { type: 'string', default: '1.28' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(VERIFY_USAGE);
    return 0;
  }
  if (!['text', 'json'].includes(values.output))
    throw new UsageError(`-o: expected text or json (got ${values.output})`);
  if (positionals.length === 0) throw new UsageError('no input: give files, directories or - for stdin');
  const istioVersion = parseVersion(values['istio-version']);
  let binary: string;
  try {
    binary = await locateOracle();
  } catch (err) {
    if (!(err instanceof OracleUnavailable)) throw err;
    io.stderr.write(`meshmedic verify: ${err.message}\n`);
    return 2;
  }
  const mesh = await loadMesh(positionals, {
    ...(values['mesh-config'] ? { meshConfigFile: values['mesh-config'] } : {}),
    ...(values.policy ? { policyFile: values.policy } : {}),
    stdin: io.stdin,
  });
  for (const d of mesh.diagnostics) io.stderr.write(`${d.severity}: ${formatDiagnostic(d)}\n`);
  if (mesh.index.size === 0) {
    io.stderr.write(`meshmedic verify: nothing usable could be read from ${positionals.join(' ')}\n`);
    return 2;
  }
  const rules = selectRules(
    values.rules
      ?.split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  );
  const { findings } = analyzeUnderPolicy(mesh.index, mesh.policy, { rules, istioVersion });
  // Istio judges the input as written: also the objects meshmedic's reader skipped.
  const objects = mesh.asWritten.filter((o) => o.kind !== 'MeshHealthPolicy');
  const meshConfig = await meshConfigText(values['mesh-config'], objects);
  const report = await verify(
    { index: mesh.index, objects, findings, istioVersion, ...(meshConfig !== undefined ? { meshConfig } : {}) },
    (request, flags) => runOracle(binary, request, flags),
  );
  if (values.output === 'json') {
    const { verdicts, istio } = report;
    io.stdout.write(
      JSON.stringify({ istio, judgedAs: report.judgedAs, rejected: report.rejected, verdicts }, null, 2) + '\n',
    );
  } else {
    io.stdout.write(formatReport(report));
  }
  return report.verdicts.some((v) => v.verdict === 'refuted' || v.fix === 'fix-breaks') ? 1 : 0;
}
