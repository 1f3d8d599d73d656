import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { LogAggregator } from '../../../src/evidence/aggregate.js';
import { DurationHistogram } from '../../../src/evidence/histogram.js';
import { readAccessLog } from '../../../src/evidence/read-log.js';
import { RecordAssembler } from '../../../src/evidence/records.js';
import { fixtureLines, parseOk } from './helpers.js';

const line = (
  t: string,
  ms: number,
  flags = 'UC',
  cluster = 'outbound|8000||httpbin.foo.svc.cluster.local',
  id = 'x',
) =>
  `[${t}] "GET /get HTTP/1.1" 503 ${flags} upstream_reset_before_response_started{connection_termination} - "-" 0 95 ${ms} - "-" "curl" "${id}" "httpbin.foo:8000" "10.0.0.9:80" ${cluster} - 10.0.0.1:8000 10.0.0.2:1 - default`;

describe('duration histogram', () => {
  it('is exact for equal values and small values, and within 1.6% above 64 ms', () => {
    const h = new DurationHistogram();
    for (let i = 0; i < 10; i++) h.record(15004);
    expect(h.summary()).toEqual({ min: 15004, p50: 15004, p90: 15004, p99: 15004, max: 15004, mean: 15004 });
    const u = new DurationHistogram();
    for (let v = 1; v <= 10_000; v++) u.record(v);
    for (const [p, exact] of [
      [50, 5000],
      [90, 9000],
      [99, 9900],
    ] as const) {
      const got = u.percentile(p) as number;
      expect(Math.abs(got - exact) / exact).toBeLessThan(0.016);
    }
    const s = new DurationHistogram();
    [3, 1, 2].forEach((v) => s.record(v));
    expect([s.percentile(50), s.percentile(100)]).toEqual([2, 3]);
  });

  it('stays bounded: at most 1,728 counters whatever it records', () => {
    const h = new DurationHistogram();
    for (let i = 0; i < 200_000; i++) h.record(Math.floor(Math.random() * 2 ** 33));
    expect(h.bucketCount).toBeLessThanOrEqual(1728);
    expect(h.capacity).toBe(1728);
    const small = new DurationHistogram();
    for (let i = 0; i < 100_000; i++) small.record(15_000 + (i % 10));
    expect(small.capacity).toBeLessThanOrEqual(1130);
    expect(h.max).toBe(2 ** 32 - 1);
  });
});

describe('aggregation by (cluster or authority, code, flags)', () => {
  it('counts, first/last seen (by time, not order) and percentiles per group', () => {
    const agg = new LogAggregator();
    const lines = [
      line('2024-01-01T00:00:05.000Z', 10),
      line('2024-01-01T00:00:01.000Z', 20),
      line('2024-01-01T00:00:09.000Z', 30),
      line('2024-01-01T00:00:03.000Z', 5, 'UF'),
    ];
    lines.forEach((l, i) => agg.add(parseOk(l), l, i + 1));
    const [uc, uf] = agg.groups();
    expect(uc).toMatchObject({
      target: 'outbound|8000||httpbin.foo.svc.cluster.local',
      responseCode: 503,
      responseFlags: 'UC',
      count: 3,
      firstSeen: '2024-01-01T00:00:01.000Z',
      lastSeen: '2024-01-01T00:00:09.000Z',
      durationMs: { min: 10, p50: 20, p90: 30, p99: 30, max: 30, mean: 20 },
      sampleLine: lines[0],
      sampleLineNumber: 1,
      authorities: ['httpbin.foo:8000'],
      protocols: ['HTTP/1.1'],
      responseCodeDetails: ['upstream_reset_before_response_started{connection_termination}'],
    });
    expect(uf).toMatchObject({ responseFlags: 'UF', count: 1 });
    expect(agg.stats).toMatchObject({
      parsed: 4,
      records: 4,
      firstSeen: '2024-01-01T00:00:01.000Z',
      lastSeen: '2024-01-01T00:00:09.000Z',
    });
  });

  it('keys PassthroughCluster records by authority, and caps groups, distinct values and malformed samples', () => {
    const agg = new LogAggregator({ maxGroups: 3, maxDistinct: 2, maxMalformedSamples: 2, maxSampleChars: 40 });
    for (let i = 0; i < 5; i++) {
      const l = line('2024-01-01T00:00:00.000Z', 1, 'UF', 'PassthroughCluster', `id-${i}`).replace(
        'httpbin.foo:8000',
        `h${i}.example.com`,
      );
      agg.add(parseOk(l), l, i + 1);
    }
    expect(agg.groups().map((g) => g.target)).toEqual([
      'PassthroughCluster h0.example.com',
      'PassthroughCluster h1.example.com',
      'PassthroughCluster h2.example.com',
    ]);
    expect(agg.stats.ungrouped).toBe(2);
    expect(agg.groups()[0]?.sampleLine).toHaveLength(41);
    for (let i = 0; i < 5; i++) {
      const l = line('2024-01-01T00:00:00.000Z', 1).replace('10.0.0.9:80', `10.0.0.${i}:80`);
      agg.add(parseOk(l), l, i);
    }
    expect(agg.stats.ungrouped).toBe(7);
    for (let i = 0; i < 4; i++) agg.addMalformed(i, 'bad', 'why');
    expect(agg.stats.malformed).toBe(4);
    expect(agg.stats.malformedSamples).toHaveLength(2);
  });
});

describe('streaming reader', () => {
  it('counts and skips malformed lines, keeping a few samples with their line numbers', async () => {
    const { createReadStream } = await import('node:fs');
    const agg = await readAccessLog(createReadStream('test/fixtures/logs/malformed.log'));
    expect(agg.stats).toMatchObject({ lines: 9, parsed: 2, malformed: 6, blank: 1 });
    expect(agg.stats.byFormat).toEqual({ 'istio-text': 0, 'istio-text-mixer': 1, 'envoy-text': 1, json: 0 });
    expect(agg.stats.malformedSamples.map((m) => m.line)).toEqual([2, 3, 5, 6, 7]);
    expect(agg.stats.malformedSamples[0]).toEqual({
      line: 2,
      text: 'this is not an access log line',
      reason: 'no [START_TIME] "...',
    });
  });

  it('reads pretty-printed JSON records between text lines, CRLF endings and a BOM', async () => {
    const json = fixtureLines('seed-000-ingress-gateway.json.log').join('\r\n');
    const text = fixtureLines('seed-002-istio-proxy.log');
    const input = `\ufeff${text[0]}\r\n${json}\r\n${text[1]}\r\n{"response_code":504,"response_flags":"UT","duration":15000,"authority":"a.example.com","upstream_cluster":"PassthroughCluster"}\r\n`;
    const seen: number[] = [];
    const agg = await readAccessLog(Readable.from([input]), { onEntry: (_e, n) => seen.push(n) });
    expect(agg.stats).toMatchObject({ lines: 28, records: 4, parsed: 4, malformed: 0 });
    expect(seen).toEqual([1, 2, 27, 28]);
    expect(agg.stats.byFormat).toEqual({ 'istio-text': 0, 'istio-text-mixer': 2, 'envoy-text': 0, json: 2 });
  });

  it('gives up a JSON object that never closes, or that a text record cuts, without swallowing the rest', () => {
    const a = new RecordAssembler({ maxLines: 3, maxChars: 1000 });
    const out = ['{', '  "a": 1,', '  "b": 2,', '  "c": 3,', '[2024-01-01T00:00:00.000Z] "x"'].flatMap((l) =>
      a.push(l),
    );
    expect(out.map((r) => [r.line, r.error ?? 'ok'])).toEqual([
      [1, 'multi-line JSON object longer than 3 lines or 1000 characters'],
      [5, 'ok'],
    ]);
    const b = new RecordAssembler();
    const cut = ['{', '  "a": "}",', '[2024-01-01T00:00:00.000Z] "x"', '{', '"z": 1'].flatMap((l) => b.push(l));
    expect(cut.map((r) => r.error ?? r.text)).toEqual([
      'multi-line JSON object cut off by the next record',
      '[2024-01-01T00:00:00.000Z] "x"',
    ]);
    expect(b.flush().map((r) => r.error)).toEqual(['multi-line JSON object not closed at the end of the input']);
  });
});
