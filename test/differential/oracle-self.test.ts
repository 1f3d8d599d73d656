// The oracle's own Go tests (oracle/load_test.go: duplicates, API server defaulting, the emulated
// allocation controller and webhook) run from the built binary, and the verify CLI's contract.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { cli } from '../unit/run-cli-in-process.js';
import { oracleBinary } from './oracle.js';

describe('the oracle', () => {
  it('passes its own tests of what it emulates', async () => {
    const run = spawnSync(await oracleBinary(), ['-test.run', '^TestLoad', '-test.v'], { encoding: 'utf8' });
    expect(run.stdout).toContain('--- PASS: TestLoadAllocatesLikeIstiodAndRejectsLikeTheWebhook');
    expect(run.status).toBe(0);
  });
});

interface VerifyJson {
  istio: string;
  verdicts: {
    rule: string;
    severity: string;
    resource: { kind: string; namespace: string; name: string };
    verdict: string;
    evidence: string;
    fix: string;
  }[];
}

describe('meshmedic verify', () => {
  it('prints the JSON contract: seed 001 confirmed by Istio, its fix ok, exit 0', async () => {
    const { code, out } = await cli(['verify', 'examples/001-dr-overrides-mtls', '-o', 'json']);
    expect(code).toBe(0);
    const doc = JSON.parse(out) as VerifyJson;
    expect(doc.istio).toContain('1.31');
    const mm101 = doc.verdicts.find((v) => v.rule === 'MM101');
    expect(mm101).toMatchObject({
      severity: 'error',
      verdict: 'confirmed',
      fix: 'ok',
      resource: { kind: 'DestinationRule', namespace: 'foo', name: 'httpbin' },
    });
    expect(mm101?.evidence).toContain('outbound|8000||httpbin.foo.svc.cluster.local');
  });

  it('judges as the version asked and says how it emulated it', async () => {
    const judgedOld = await cli([
      'verify',
      'examples/003-tcp-serviceentry-catch-all',
      '--istio-version',
      '1.24',
      '-o',
      'json',
    ]);
    expect(judgedOld.code).toBe(0);
    const doc = JSON.parse(judgedOld.out) as VerifyJson & { judgedAs: string };
    expect(doc.judgedAs).toBe('Istio 1.24 (emulated with PILOT_ENABLE_IP_AUTOALLOCATE=false)');
    expect(doc.verdicts.find((v) => v.rule === 'MM103')?.verdict).toBe('confirmed');
  });
});
