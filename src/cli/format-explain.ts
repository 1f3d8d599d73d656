import type { InputDiagnostic } from '../model/diagnostics.js';
import type { LogStats } from '../evidence/aggregate.js';
import type { Diagnosis } from '../evidence/diagnose.js';
import type { LogFormat } from '../evidence/types.js';
import type { Finding } from '../rules/types.js';
import { formatText } from './format-text.js';

const BOLD = '\x1b[1m';
const DIM = '\x1b[2m';
const RESET = '\x1b[0m';
const SEVERITY_COLOR = { error: '\x1b[31m', warning: '\x1b[33m', info: '\x1b[36m' } as const;

function cut(s: string, width: number): string {
  return s.length <= width ? s.padEnd(width) : `${s.slice(0, width - 1)}…`;
}

export function describeStats(stats: LogStats, groups: number): string {
  const formats = (Object.entries(stats.byFormat) as [LogFormat, number][])
    .filter(([, n]) => n > 0)
    .map(([f, n]) => `${f} ${n}`);
  const range = stats.firstSeen !== undefined ? `, ${stats.firstSeen} .. ${stats.lastSeen ?? stats.firstSeen}` : '';
  const ungrouped = stats.ungrouped > 0 ? `, ${stats.ungrouped} in groups beyond the limit (counted only)` : '';
  return `Access log: ${stats.lines} line(s), ${stats.parsed} record(s) parsed${formats.length ? ` (${formats.join(', ')})` : ''}, ${stats.malformed} malformed, ${groups} group(s)${ungrouped}${range}`;
}

function ruleText(d: Diagnosis): string {
  if (!d.rule) return '-';
  return d.ruleBasis === 'suspected' ? `${d.rule}?` : `${d.rule} (${d.ruleBasis ?? 'logs'})`;
}

function durationText(d: Diagnosis): string {
  const ms = d.durationMs;
  return ms ? `duration p50 ${ms.p50} ms, p90 ${ms.p90} ms, p99 ${ms.p99} ms (min ${ms.min}, max ${ms.max})` : '';
}

/** The text view of `meshmedic explain`: a symptom -> cause -> fix table with counts, the details, then the findings. */
export function formatExplainText(
  stats: LogStats,
  groups: number,
  diagnoses: Diagnosis[],
  findings: Finding[],
  diagnostics: InputDiagnostic[],
  color: boolean,
): string {
  const c = (code: string, s: string): string => (color ? `${code}${s}${RESET}` : s);
  const out: string[] = [describeStats(stats, groups), ''];
  if (diagnoses.length === 0) {
    out.push('No 5xx answers or failure flags in this log.', '');
  } else {
    const widths = { n: 3, count: 7, symptom: 10, target: 48, cause: 56, rule: 17 };
    out.push(
      c(
        BOLD,
        `${'#'.padStart(widths.n)}  ${'COUNT'.padStart(widths.count)}  ${cut('SYMPTOM', widths.symptom)}  ${cut('UPSTREAM / AUTHORITY', widths.target)}  ${cut('CAUSE', widths.cause)}  ${cut('RULE', widths.rule)}  FIX`,
      ),
    );
    diagnoses.forEach((d, i) => {
      const sym = c(SEVERITY_COLOR[d.severity], cut(d.symptom, widths.symptom));
      out.push(
        `${String(i + 1).padStart(widths.n)}  ${String(d.count).padStart(widths.count)}  ${sym}  ${cut(d.target, widths.target)}  ${cut(d.cause, widths.cause)}  ${cut(ruleText(d), widths.rule)}  ${d.fix}`,
      );
    });
    out.push(
      c(
        DIM,
        'RULE: (logs) a finding built from the log; (manifests) explained by a finding of the manifests given; ? suspected, no manifest to confirm',
      ),
    );
    out.push('', c(BOLD, 'DETAILS'));
    diagnoses.forEach((d, i) => {
      const seen =
        d.firstSeen !== undefined ? `, ${d.firstSeen}${d.lastSeen !== d.firstSeen ? ` .. ${d.lastSeen}` : ''}` : '';
      out.push(
        `${String(i + 1).padStart(3)}. ${c(SEVERITY_COLOR[d.severity], d.symptom)} ${d.target} (${d.count} request${d.count === 1 ? '' : 's'}${seen})`,
      );
      out.push(`     ${d.detail}`);
      const dur = durationText(d);
      if (dur) out.push(`     ${c(DIM, dur)}`);
      out.push(`     fix: ${d.fix}`);
      out.push(
        `     ${c(DIM, `sample: ${d.sampleLine.length > 400 ? `${d.sampleLine.slice(0, 400)}…` : d.sampleLine}`)}`,
      );
    });
    out.push('');
  }
  if (stats.malformed > 0) {
    out.push(
      c(
        BOLD,
        `MALFORMED RECORDS (${stats.malformed}) — counted and skipped${stats.malformedSamples.length < stats.malformed ? `; the first ${stats.malformedSamples.length}` : ''}`,
      ),
    );
    for (const m of stats.malformedSamples)
      out.push(`  line ${m.line}: ${m.reason}: ${m.text.length > 160 ? `${m.text.slice(0, 160)}…` : m.text}`);
    out.push('');
  }
  if (findings.length > 0 || diagnostics.length > 0) {
    out.push(c(BOLD, 'FINDINGS (with their fixes)'));
    out.push(formatText(findings, diagnostics, color).trimEnd());
  } else {
    out.push('No findings.');
  }
  return out.join('\n') + '\n';
}
