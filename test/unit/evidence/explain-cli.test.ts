import { describe, expect, it } from 'vitest';
import { cli } from '../run-cli-in-process.js';
import { symptomRowById } from './helpers.js';

interface ExplainDoc {
  findings: {
    rule: string;
    messageType: string;
    severity: string;
    resource: { kind: string; namespace?: string; name: string };
    evidence?: { count: number; sampleLine: string };
  }[];
  diagnostics: unknown[];
  diagnoses: { symptom: string; target: string; count: number; rule?: string; explainedBy: { rule: string }[] }[];
  logs: { lines: number; parsed: number; malformed: number; groups: number; byFormat: Record<string, number> };
}

describe('meshmedic explain', () => {
  it('-o json: the analyze findings contract with evidence, plus diagnoses and log stats; exit 1 on error findings', async () => {
    const r = await cli(['explain', '--logs', 'test/fixtures/logs/seed-002-istio-proxy.log', '-o', 'json']);
    expect(r.code).toBe(1);
    const doc = JSON.parse(r.out) as ExplainDoc;
    expect(doc.findings.map((f) => `${f.rule}:${f.messageType}:${f.severity}:${f.resource.kind}`).sort()).toEqual([
      'MM104:PassthroughStaleConnections:error:ServiceEntry',
      'MM105:TimeoutWithoutRoute:warning:VirtualService',
      'MM105:TimeoutWithoutRoute:warning:VirtualService',
      'MM106:KeepAliveRaceNoRule:warning:DestinationRule',
    ]);
    expect(
      doc.findings.every(
        (f) => f.evidence && f.evidence.count === 1 && f.evidence.sampleLine.startsWith('[2022-04-18'),
      ),
    ).toBe(true);
    expect(doc.diagnoses.map((d) => d.symptom).sort()).toEqual(['503 UC', '503 UF', '503 UF', '504 UT', '504 UT']);
    expect(doc.logs).toMatchObject({
      lines: 5,
      parsed: 5,
      malformed: 0,
      groups: 5,
      byFormat: { 'istio-text-mixer': 5 },
    });
    expect(doc.diagnostics).toEqual([]);
  });

  it('text: a symptom -> cause -> fix table with counts, then details and findings, without colour off a TTY', async () => {
    const r = await cli([
      'explain',
      '--logs',
      'test/fixtures/logs/seed-001-sleep-sidecar.log',
      'examples/001-dr-overrides-mtls',
    ]);
    expect(r.code).toBe(1);
    const header = r.out.split('\n').find((l) => l.includes('SYMPTOM'));
    expect(header).toMatch(/#\s+COUNT\s+SYMPTOM\s+UPSTREAM \/ AUTHORITY\s+CAUSE\s+RULE\s+FIX/);
    const cause = symptomRowById('in-mesh-reset').cause.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    expect(r.out).toMatch(
      new RegExp(
        ` 1\\s+1\\s+503 UC\\s+httpbin:8000\\s+${cause}\\s+MM101 \\(manifests\\)\\s+MM101: patch DestinationRule foo/httpbin`,
      ),
    );
    expect(r.out).toContain('Access log: 1 line(s), 1 record(s) parsed (envoy-text 1), 0 malformed, 1 group(s)');
    expect(r.out).toContain('MM101 DestinationRule foo/httpbin');
    expect(r.out).not.toContain('\x1b[');
  });

  it('reads the log from stdin; exit 0 when no error finding; malformed lines are reported', async () => {
    const ok =
      '[2022-04-18T09:29:59.633Z] "GET /a HTTP/1.1" 200 - "-" "-" 0 95 11 - "-" "-" "id" "srv-a.xyz" "127.0.0.1:8080" inbound|80|http|srv-a.xyz.svc.cluster.local - 100.64.121.11:8080 100.64.254.9:35174 -';
    const r = await cli(['explain', '--logs', '-'], `${ok}\nnot a log line\n`);
    expect(r.code).toBe(0);
    expect(r.out).toContain('No 5xx answers or failure flags in this log.');
    expect(r.out).toContain('MALFORMED RECORDS (1)');
    expect(r.out).toContain('line 2: no [START_TIME] "...: not a log line');
  });

  it('exit 2: no --logs, no parsable record, an unreadable log, unreadable manifests, stdin twice', async () => {
    const noLogs = await cli(['explain', 'examples/001-dr-overrides-mtls']);
    expect(noLogs.code).toBe(2);
    expect(noLogs.err).toContain('--logs FILE|- is required');
    expect(noLogs.err).toContain('Usage: meshmedic explain');
    const garbage = await cli(['explain', '--logs', '-'], 'nothing\nto see\n');
    expect(garbage.code).toBe(2);
    expect(garbage.err).toContain('no access-log record could be read from - (2 line(s), 2 malformed)');
    const missing = await cli(['explain', '--logs', 'no/such/file.log']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('cannot read the access log no/such/file.log');
    expect(
      (await cli(['explain', '--logs', 'test/fixtures/logs/seed-001-sleep-sidecar.log', 'no/such/dir'])).code,
    ).toBe(2);
    expect((await cli(['explain', '--logs', '-', '-'])).err).toContain('stdin cannot be both');
    expect((await cli(['explain', '--logs', 'x', '-o', 'yaml'])).code).toBe(2);
  });

  it('--policy sets defaultRouteTimeout and --namespace where generated objects go', async () => {
    const r = await cli([
      'explain',
      '--logs',
      'test/fixtures/logs/seed-002-istio-proxy.log',
      '--policy',
      'test/fixtures/logs/policy-45s.yaml',
      '--namespace',
      'egress',
      '-o',
      'json',
    ]);
    const doc = JSON.parse(r.out) as {
      findings: {
        rule: string;
        fix: { create: { kind: string; metadata: { namespace: string }; spec: { http?: { timeout: string }[] } }[] };
      }[];
    };
    const vs = doc.findings
      .filter((f) => f.rule === 'MM105')
      .flatMap((f) => f.fix.create)
      .filter((o) => o.kind === 'VirtualService');
    expect(vs.map((o) => [o.metadata.namespace, o.spec.http?.[0]?.timeout])).toEqual([
      ['egress', '45s'],
      ['egress', '45s'],
    ]);
  });
});

describe('meshmedic explain with a policy that turns a rule off', () => {
  it('builds no evidence finding for a disabled rule; the diagnosis stays', async () => {
    const r = await cli([
      'explain',
      '--logs',
      'test/fixtures/logs/seed-002-istio-proxy.log',
      '--policy',
      'test/fixtures/logs/policy-mm104-off.yaml',
      '-o',
      'json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out) as ExplainDoc;
    expect(doc.findings.map((f) => f.rule).sort()).toEqual(['MM105', 'MM105', 'MM106']);
    expect(doc.diagnoses.find((d) => d.target === 'PassthroughCluster external.service.com')).toMatchObject({
      symptom: '503 UF',
      rule: 'MM104',
    });
  });
});
