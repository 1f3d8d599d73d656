import { createReadStream, readFileSync } from 'node:fs';
import { analyze, DEFAULT_ISTIO_VERSION } from '../../../src/analysis/analyze.js';
import { loadMesh } from '../../../src/analysis/load-mesh.js';
import { policySettings } from '../../../src/analysis/policy-parameters.js';
import { explainGroups, type ExplainResult } from '../../../src/evidence/diagnose.js';
import { parseAccessLogLine } from '../../../src/evidence/parse-line.js';
import { readAccessLog } from '../../../src/evidence/read-log.js';
import type { AccessLogEntry } from '../../../src/evidence/types.js';
import { DEFAULT_PARAMETERS } from '../../../src/rules/types.js';

export const FIXTURES = 'test/fixtures/logs';

export function fixtureLines(name: string): string[] {
  return readFileSync(`${FIXTURES}/${name}`, 'utf8').split('\n').filter((l) => l.trim() !== '');
}

export function parseOk(line: string): AccessLogEntry {
  const r = parseAccessLogLine(line);
  if (!r.ok) throw new Error(`did not parse: ${r.reason}: ${line}`);
  return r.entry;
}

/** Streams a fixture through the parser and aggregator, then explains it (with the manifests of an example folder, if given). */
export async function explainFixture(name: string, exampleDir?: string): Promise<ExplainResult & { malformed: number; parsed: number }> {
  const agg = await readAccessLog(createReadStream(`${FIXTURES}/${name}`));
  if (!exampleDir) {
    const r = explainGroups(agg.groups(), { staticFindings: [], params: DEFAULT_PARAMETERS, istioVersion: DEFAULT_ISTIO_VERSION, namespace: 'default' });
    return { ...r, malformed: agg.stats.malformed, parsed: agg.stats.parsed };
  }
  const mesh = await loadMesh([exampleDir]);
  const params = { ...DEFAULT_PARAMETERS, ...policySettings(mesh.policy).params };
  const staticFindings = analyze(mesh.index, { params }).findings;
  const r = explainGroups(agg.groups(), { index: mesh.index, staticFindings, params, istioVersion: DEFAULT_ISTIO_VERSION, namespace: 'default' });
  return { ...r, malformed: agg.stats.malformed, parsed: agg.stats.parsed };
}
