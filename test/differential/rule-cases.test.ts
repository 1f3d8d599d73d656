// Every rule case of the unit tests (recorded by test/unit/helpers.ts while the unit rule tests run)
// goes through Istio's own generator: no finding refuted, no fix that breaks another call.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { objectsFrom, type RecordedCase } from '../unit/helpers.js';
import { analyzeAndVerify, disagreements } from './oracle.js';

const ROOT = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'meshmedic-cases-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recordCases(): RecordedCase[] {
  const file = join(dir, 'cases.jsonl');
  const run = spawnSync(
    process.execPath,
    [
      join(ROOT, 'node_modules', 'vitest', 'vitest.mjs'),
      'run',
      '--project',
      'unit',
      'test/unit/rules',
      '--reporter=dot',
    ],
    {
      cwd: ROOT,
      env: { ...process.env, MESHMEDIC_RECORD_CASES: file },
      encoding: 'utf8',
    },
  );
  if (run.status !== 0) throw new Error(`the unit rule tests failed while recording:\n${run.stdout}\n${run.stderr}`);
  const seen = new Set<string>();
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as RecordedCase)
    .filter((c) => c.findings > 0)
    .filter((c) => {
      const key = JSON.stringify([c.rule, c.yaml, c.opts]);
      return !seen.has(key) && seen.add(key) !== undefined;
    });
}

const cases = recordCases();

describe('rule unit cases judged by Istio', () => {
  it('recorded the unit cases that have findings', () => {
    expect(cases.length).toBeGreaterThan(20);
  });
  for (const c of cases) {
    it(`${c.rule}: ${c.test}`, async () => {
      const report = await analyzeAndVerify(objectsFrom(c.yaml), { ...c.opts, rule: c.rule });
      expect(report.verdicts.length).toBeGreaterThan(0);
      expect(disagreements(report)).toEqual([]);
    });
  }
});
