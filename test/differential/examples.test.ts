// Every bundled example goes through meshmedic and through Istio's own config generator: each error
// finding must be confirmed, none refuted, and no fix may break another simulated call.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analysis/analyze.js';
import { loadMesh } from '../../src/analysis/load-mesh.js';
import { meshConfigText } from '../../src/cli/verify-command.js';
import { runOracle } from '../../src/verify/oracle-client.js';
import { verify } from '../../src/verify/verify.js';
import { disagreements, oracleBinary } from './oracle.js';

const EXAMPLES = join(import.meta.dirname, '..', '..', 'examples');

describe('examples judged by Istio', () => {
  for (const dir of readdirSync(EXAMPLES).sort()) {
    it(`${dir}: every error confirmed, nothing refuted, no fix breaks`, async () => {
      const mesh = await loadMesh([join(EXAMPLES, dir)]);
      const istioVersion = { major: 1, minor: 28 };
      const { findings } = analyze(mesh.index, { istioVersion });
      const objects = mesh.asWritten;
      const meshConfig = await meshConfigText(undefined, objects);
      const bin = await oracleBinary();
      const report = await verify(
        { index: mesh.index, objects, findings, istioVersion, ...(meshConfig ? { meshConfig } : {}) },
        (r, f) => runOracle(bin, r, f),
      );
      expect(disagreements(report)).toEqual([]);
      const errors = report.verdicts.filter((v) => v.severity === 'error');
      expect(errors.filter((v) => v.verdict !== 'confirmed').map((v) => `${v.rule}: ${v.evidence}`)).toEqual([]);
      expect(report.rejected).toEqual([]);
    });
  }
});
