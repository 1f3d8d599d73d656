import { formatDiagnostic, type InputDiagnostic } from '../model/diagnostics.js';
import { describeRef } from '../model/kinds.js';
import type { Finding, Severity } from '../rules/types.js';

const COLORS: Record<Severity, string> = { error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m' };
const RESET = '\x1b[0m';
const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';

function fixLines(f: Finding): string[] {
  const lines: string[] = [];
  for (const p of f.fix.patches) {
    const ops = p.patch.filter((o) => o.op !== 'test');
    lines.push(`fix: patch ${describeRef(p.target)}`);
    for (const o of ops) {
      const value = 'value' in o ? ` ${JSON.stringify(o.value)}` : '';
      const from = 'from' in o ? ` from ${o.from}` : '';
      lines.push(`       ${o.op} ${o.path}${from}${value}`);
    }
  }
  for (const c of f.fix.create)
    lines.push(
      `fix: create ${describeRef({ kind: c.kind, name: c.metadata.name, ...(c.metadata.namespace ? { namespace: c.metadata.namespace } : {}) })}  ${JSON.stringify(c.spec)}`,
    );
  if (f.fix.proposeOnly) lines.push('fix: propose only (never applied automatically)');
  for (const n of f.fix.notes ?? []) lines.push(`note: ${n}`);
  if (f.versionNote) lines.push(`version: ${f.versionNote}`);
  if (f.dataPlane) lines.push(`data plane: ${f.dataPlane}`);
  return lines;
}

/** Findings grouped by severity, for a terminal. Colour only when `color` (a TTY). */
export function formatText(findings: Finding[], diagnostics: InputDiagnostic[], color: boolean): string {
  const c = (code: string, s: string): string => (color ? `${code}${s}${RESET}` : s);
  const out: string[] = [];
  for (const sev of ['error', 'warning', 'info'] as const) {
    const group = findings.filter((f) => f.severity === sev);
    if (group.length === 0) continue;
    out.push(c(BOLD + COLORS[sev], `${sev.toUpperCase()}S (${group.length})`));
    for (const f of group) {
      const where = f.source ? c(DIM, `  ${f.source.file}:${f.source.line}`) : '';
      out.push(`  ${c(COLORS[sev], f.rule)} ${describeRef(f.resource)}${where}`);
      out.push(`    ${f.message}`);
      for (const l of fixLines(f)) out.push(`    ${c(DIM, l)}`);
      out.push('');
    }
  }
  if (diagnostics.length > 0) {
    out.push(c(BOLD, `INPUT PROBLEMS (${diagnostics.length}) — reported and skipped`));
    for (const d of diagnostics) out.push(`  ${d.severity}: ${formatDiagnostic(d)}`);
    out.push('');
  }
  const counts = (['error', 'warning', 'info'] as const).map((s) => {
    const n = findings.filter((f) => f.severity === s).length;
    return `${n} ${s}${n === 1 || s === 'info' ? '' : 's'}`;
  });
  out.push(findings.length === 0 ? 'No findings.' : `Summary: ${counts.join(', ')}.`);
  if (findings.some((f) => f.fix.patches.length > 0 || f.fix.create.length > 0))
    out.push(
      'Fixes: add --fix --diff to preview them, --fix --write to edit the files, --fix to print the fixed objects.',
    );
  return out.join('\n') + '\n';
}
