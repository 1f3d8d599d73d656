import { describe, expect, it } from 'vitest';
import { DEFAULT_ISTIO_VERSION } from '../../../src/analysis/analyze.js';
import { MM104_LOG, MM105_LOG, MM106_LOG, MM210_LOG } from '../../../src/catalogue/access-log.js';
import { catalogueEntry } from '../../../src/catalogue/index.js';
import {
  LOG_SYMPTOMS,
  matchesRow,
  symptomTableMarkdown,
  type EvidenceForm,
  type SymptomArgs,
} from '../../../src/catalogue/log-symptoms.js';
import { placeholdersOf } from '../../../src/catalogue/message-type.js';
import { explainGroups, symptomFacts, symptomRowOf } from '../../../src/evidence/diagnose.js';
import { hostOfGroup } from '../../../src/evidence/hosts.js';
import { DEFAULT_PARAMETERS } from '../../../src/rules/types.js';
import { cli } from '../run-cli-in-process.js';
import { currentLine, groupOf, symptomRowById } from './helpers.js';

const TLS_FAILURE = 'TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED';
const HTTPBIN = 'outbound|8000||httpbin.foo.svc.cluster.local';

/** One log line per row of the table that the row, and no row before it, matches. */
const EXAMPLES: Record<string, string> = {
  'registry-only-block': currentLine({
    code: 502,
    flags: '-',
    details: 'direct_response',
    authority: 'www.google.com',
    route: 'block_all',
  }),
  'no-cluster': currentLine({ code: 503, flags: 'NC', authority: 'reviews:9080', route: 'default' }),
  'no-route': currentLine({ code: 404, flags: 'NR', details: 'route_not_found', authority: 'unknown.example.org' }),
  'subset-no-healthy-upstream': currentLine({
    code: 503,
    flags: 'UH',
    details: 'no_healthy_upstream',
    authority: 'httpbin.foo:8000',
    cluster: 'outbound|8000|v2|httpbin.foo.svc.cluster.local',
  }),
  'no-healthy-upstream': currentLine({ code: 503, flags: 'UH', authority: 'httpbin.foo:8000', cluster: HTTPBIN }),
  'pool-overflow': currentLine({ code: 503, flags: 'UO', authority: 'httpbin.foo:8000', cluster: HTTPBIN }),
  'external-tls-failure': currentLine({
    code: 503,
    flags: 'UF,URX',
    transportFailure: TLS_FAILURE,
    authority: 'foo.bar.org',
    upstreamHost: '47.107.45.209:443',
    cluster: 'outbound|443||dev.bar.org',
  }),
  'external-foreign-sni': currentLine({
    code: 503,
    flags: 'UC',
    authority: 'foo.bar.org',
    cluster: 'outbound|443||dev.bar.org',
    sni: 'foo.bar.org',
  }),
  'passthrough-stale': currentLine({
    code: 503,
    flags: 'UF',
    authority: 'external.service.com',
    upstreamHost: '55.92.142.17:80',
    cluster: 'PassthroughCluster',
  }),
  'route-timeout': currentLine({
    code: 504,
    flags: 'UT',
    durationMs: 15004,
    authority: 'testservice.prod.com',
    cluster: 'PassthroughCluster',
  }),
  'inbound-keepalive-race': currentLine({
    code: 503,
    flags: 'UC',
    authority: 'srv-a.xyz',
    cluster: 'inbound|80|http|srv-a.xyz.svc.cluster.local',
  }),
  'inbound-app-not-listening': currentLine({
    code: 503,
    flags: 'UF',
    authority: 'srv-b.xyz',
    upstreamHost: '127.0.0.1:8080',
    cluster: 'inbound|80|http|srv-b.xyz.svc.cluster.local',
  }),
  'inbound-other': currentLine({
    code: 503,
    flags: 'UR',
    authority: 'srv-c.xyz',
    cluster: 'inbound|80|http|srv-c.xyz.svc.cluster.local',
  }),
  'in-mesh-reset': currentLine({ code: 503, flags: 'UC', authority: 'httpbin.foo:8000', cluster: HTTPBIN }),
  'outbound-closed': currentLine({
    code: 503,
    flags: 'UC',
    authority: 'api.ext.org',
    cluster: 'outbound|443||api.ext.org',
  }),
  'outbound-unreachable': currentLine({
    code: 503,
    flags: 'UF,URX',
    authority: 'api.ext.org',
    cluster: 'outbound|443||api.ext.org',
  }),
  'upstream-answered': currentLine({
    code: 503,
    flags: '-',
    details: 'via_upstream',
    authority: 'srv-d.xyz:80',
    cluster: 'outbound|80||srv-d.xyz.svc.cluster.local',
  }),
  'other-flag': currentLine({
    code: 429,
    flags: 'RL',
    authority: 'srv-d.xyz:80',
    cluster: 'outbound|80||srv-d.xyz.svc.cluster.local',
  }),
};

const FORMS: Record<EvidenceForm, object> = {
  MM104: MM104_LOG,
  MM105: MM105_LOG,
  MM106: MM106_LOG,
  MM210: MM210_LOG,
};

function explainLine(line: string) {
  return explainGroups([groupOf(line)], {
    staticFindings: [],
    params: DEFAULT_PARAMETERS,
    istioVersion: DEFAULT_ISTIO_VERSION,
    namespace: 'default',
  });
}

describe('the log-symptom table cannot rot', () => {
  const ids = LOG_SYMPTOMS.map((r) => r.id);

  it('has unique row ids, and an example line for every row', () => {
    expect(new Set(ids).size).toBe(ids.length);
    expect(Object.keys(EXAMPLES).sort()).toEqual([...ids].sort());
  });

  it.each(ids)('row %s is reachable: a log line matches it before any other row', (id) => {
    expect(symptomRowOf(groupOf(EXAMPLES[id] as string), undefined).id).toBe(id);
  });

  it.each(LOG_SYMPTOMS.map((r) => [r.id, r] as const))('row %s names rules that exist', (_id, r) => {
    for (const rule of [...(r.rule ? [r.rule] : []), ...r.candidates]) expect(catalogueEntry(rule), rule).toBeDefined();
    if (r.form) {
      expect(r.rule).toBe(r.form);
      expect(Object.keys(FORMS[r.form]).length).toBeGreaterThan(0);
    }
  });

  it('templates use only the arguments classify fills', () => {
    const args: SymptomArgs = {
      symptom: '',
      code: 0,
      target: '',
      where: '',
      alsoWhere: '',
      host: '',
      theHost: '',
      flags: '',
      upstream: '',
      tlsFailure: '',
      tlsNote: '',
      foreignSni: '',
    };
    for (const r of LOG_SYMPTOMS)
      for (const t of [r.cause, r.detail, r.fix])
        for (const p of placeholdersOf(t)) expect(Object.keys(args), `${r.id}: {${p}}`).toContain(p);
  });

  it('the last row matches any failure', () => {
    const last = LOG_SYMPTOMS[LOG_SYMPTOMS.length - 1];
    expect(last?.when).toEqual({});
    expect(symptomRowOf(groupOf(currentLine({ code: 400, flags: 'DPE', authority: 'x' })), undefined).id).toBe(
      last?.id,
    );
  });
});

describe('first match wins', () => {
  it('a TLS failure to an external host is the SNI diagnosis, though the outbound-unreachable row matches too', () => {
    const g = groupOf(EXAMPLES['external-tls-failure'] as string);
    expect(
      matchesRow(symptomRowById('outbound-unreachable').when, symptomFacts(g, hostOfGroup(g).host, undefined)),
    ).toBe(true);
    expect(symptomRowOf(g, undefined).id).toBe('external-tls-failure');
  });

  it('a 504 UT on an inbound cluster is a route timeout (MM105), not an inbound failure', () => {
    const g = groupOf(
      currentLine({
        code: 504,
        flags: 'UT',
        durationMs: 3000,
        authority: 'srv-a.xyz',
        cluster: 'inbound|80|http|srv-a.xyz.svc.cluster.local',
      }),
    );
    expect(symptomRowOf(g, undefined).id).toBe('route-timeout');
  });
});

describe('diagnoses come from the row', () => {
  it.each(LOG_SYMPTOMS.filter((r) => !r.form).map((r) => r.id))(
    '%s: without a finding, the diagnosis has the row severity, rule and fix',
    (id) => {
      const row = symptomRowById(id);
      const [d] = explainLine(EXAMPLES[id] as string).diagnoses;
      expect(d).toMatchObject({
        severity: row.severity,
        ...(row.rule ? { rule: row.rule, ruleBasis: 'suspected' } : {}),
      });
      expect(d?.rule).toBe(row.rule);
      if (!/\{/.test(row.fix)) expect(d?.fix).toBe(row.fix);
    },
  );

  it('the diagnosis names what the row fills in: host, target, flags, code', () => {
    expect(explainLine(EXAMPLES['external-foreign-sni'] as string).diagnoses[0]).toMatchObject({
      cause: 'SNI mismatch: TLS to dev.bar.org not originated with sni dev.bar.org',
      fix: 'DestinationRule for dev.bar.org: tls.mode SIMPLE, sni dev.bar.org, subjectAltNames [dev.bar.org] (MM102)',
    });
    expect(explainLine(EXAMPLES['external-foreign-sni'] as string).diagnoses[0]?.detail).toMatch(
      /^503 UC on outbound\|443\|\|dev\.bar\.org: .* foo\.bar\.org .* dev\.bar\.org/,
    );
    expect(explainLine(EXAMPLES['inbound-other'] as string).diagnoses[0]?.cause).toBe(
      'inbound failure: UR (upstream remote reset)',
    );
    expect(explainLine(EXAMPLES['upstream-answered'] as string).diagnoses[0]?.cause).toBe(
      'the upstream answered 503 itself',
    );
    expect(explainLine(EXAMPLES['registry-only-block'] as string).diagnoses[0]?.fix).toContain(
      'declare www.google.com in a ServiceEntry',
    );
  });

  it("the rows of an access-log form build that form's finding", () => {
    // MM210's form judges the pods of the manifests: without them it builds nothing (test/unit/evidence/subset-evidence.test.ts).
    for (const r of LOG_SYMPTOMS.filter((x) => x.form && x.form !== 'MM210')) {
      const { findings, diagnoses } = explainLine(EXAMPLES[r.id] as string);
      expect(
        findings.map((f) => f.rule),
        r.id,
      ).toEqual([r.form]);
      expect(diagnoses[0]).toMatchObject({ rule: r.form, ruleBasis: 'logs' });
    }
  });
});

describe('what the table generates', () => {
  it("README's symptom table: one line per row, in matching order, with its rule and candidates", () => {
    const lines = symptomTableMarkdown().split('\n');
    expect(lines).toHaveLength(LOG_SYMPTOMS.length + 2);
    LOG_SYMPTOMS.forEach((r, i) => {
      const line = lines[i + 2] ?? '';
      expect(line.startsWith(`| ${i + 1} | `)).toBe(true);
      if (r.form) expect(line).toContain(`**${r.form}**`);
      for (const c of r.candidates) expect(line).toContain(c);
    });
  });

  it('explain --help names the symptoms that build access-log findings', async () => {
    const r = await cli(['explain', '--help']);
    expect(r.code).toBe(0);
    expect(r.out).toContain('UF/UC through PassthroughCluster (MM104); UT (MM105); UC on an inbound cluster (MM106)');
  });
});
