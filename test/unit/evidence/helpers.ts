import { createReadStream, readFileSync } from 'node:fs';
import { analyze, DEFAULT_ISTIO_VERSION } from '../../../src/analysis/analyze.js';
import { LOG_SYMPTOMS, type SymptomRow } from '../../../src/catalogue/log-symptoms.js';
import { LogAggregator, type LogGroup } from '../../../src/evidence/aggregate.js';
import { loadMesh } from '../../../src/analysis/load-mesh.js';
import { policySettings } from '../../../src/analysis/policy-parameters.js';
import { explainGroups, type ExplainResult } from '../../../src/evidence/diagnose.js';
import { parseAccessLogLine } from '../../../src/evidence/parse-line.js';
import { readAccessLog } from '../../../src/evidence/read-log.js';
import type { AccessLogEntry } from '../../../src/evidence/types.js';
import { DEFAULT_PARAMETERS } from '../../../src/rules/types.js';

export const FIXTURES = 'test/fixtures/logs';

export function fixtureLines(name: string): string[] {
  return readFileSync(`${FIXTURES}/${name}`, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '');
}

export function parseOk(line: string): AccessLogEntry {
  const r = parseAccessLogLine(line);
  if (!r.ok) throw new Error(`did not parse: ${r.reason}: ${line}`);
  return r.entry;
}

/** Streams a fixture through the parser and aggregator, then explains it (with the manifests of an example folder, if given). */
export async function explainFixture(
  name: string,
  exampleDir?: string,
): Promise<ExplainResult & { malformed: number; parsed: number }> {
  const agg = await readAccessLog(createReadStream(`${FIXTURES}/${name}`));
  if (!exampleDir) {
    const r = explainGroups(agg.groups(), {
      staticFindings: [],
      params: DEFAULT_PARAMETERS,
      istioVersion: DEFAULT_ISTIO_VERSION,
      namespace: 'default',
    });
    return { ...r, malformed: agg.stats.malformed, parsed: agg.stats.parsed };
  }
  const mesh = await loadMesh([exampleDir]);
  const params = { ...DEFAULT_PARAMETERS, ...policySettings(mesh.policy).params };
  const staticFindings = analyze(mesh.index, { params }).findings;
  const r = explainGroups(agg.groups(), {
    index: mesh.index,
    staticFindings,
    params,
    istioVersion: DEFAULT_ISTIO_VERSION,
    namespace: 'default',
  });
  return { ...r, malformed: agg.stats.malformed, parsed: agg.stats.parsed };
}

/** A record in Istio's current text format; fields not given are `-`. */
export interface LineFields {
  code: number;
  flags: string;
  details?: string;
  transportFailure?: string;
  durationMs?: number;
  authority?: string;
  upstreamHost?: string;
  cluster?: string;
  downstreamLocal?: string;
  sni?: string;
  route?: string;
}

export function currentLine(f: LineFields): string {
  const d = (v: string | number | undefined): string => (v === undefined ? '-' : String(v));
  return `[2024-05-02T10:00:00.000Z] "GET / HTTP/1.1" ${f.code} ${f.flags} ${d(f.details)} - "${d(f.transportFailure)}" 0 0 ${d(f.durationMs ?? 1)} - "-" "curl" "id" "${d(f.authority)}" "${d(f.upstreamHost)}" ${d(f.cluster)} - ${d(f.downstreamLocal)} 10.0.0.1:1 ${d(f.sni)} ${d(f.route)}`;
}

/** The one aggregated group of a single log line. */
export function groupOf(line: string): LogGroup {
  const agg = new LogAggregator();
  agg.add(parseOk(line), line, 1);
  const [g] = agg.groups();
  if (!g) throw new Error(`no group for ${line}`);
  return g;
}

export function symptomRowById(id: string): SymptomRow {
  const r = LOG_SYMPTOMS.find((x) => x.id === id);
  if (!r) throw new Error(`no symptom row ${id}`);
  return r;
}
