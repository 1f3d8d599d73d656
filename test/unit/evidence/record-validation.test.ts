import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_ISTIO_VERSION } from '../../../src/analysis/analyze.js';
import { explainGroups } from '../../../src/evidence/diagnose.js';
import { LONG_RESPONSE_FLAGS, parseFlagsJson, RESPONSE_FLAGS } from '../../../src/evidence/flags.js';
import { parseAccessLogLine } from '../../../src/evidence/parse-line.js';
import { readAccessLog } from '../../../src/evidence/read-log.js';
import { DEFAULT_PARAMETERS } from '../../../src/rules/types.js';
import { fixtureLines, parseOk } from './helpers.js';

const json = (fields: Record<string, unknown>): string =>
  JSON.stringify({
    start_time: '2024-05-02T10:00:00.000Z',
    response_code: 503,
    response_flags: 'UF',
    duration: 12,
    upstream_cluster: 'outbound|443||api.example.com',
    authority: 'api.example.com',
    ...fields,
  });

function reason(line: string): string {
  const r = parseAccessLogLine(line);
  return r.ok ? `parsed: ${JSON.stringify(r.entry)}` : r.reason;
}

describe('JSON numeric fields are validated', () => {
  it('response_code must be an integer from 0 to 999: 1e308, 503.7, -1, 1000, "503.7" make the record malformed', () => {
    expect(
      [1e308, 503.7, -1, 1000, '503.7', '5xx', true].map((response_code) => reason(json({ response_code }))),
    ).toEqual([
      'response_code 1e+308 is not an HTTP status code (an integer from 0 to 999)',
      'response_code 503.7 is not an HTTP status code (an integer from 0 to 999)',
      'response_code -1 is not an HTTP status code (an integer from 0 to 999)',
      'response_code 1000 is not an HTTP status code (an integer from 0 to 999)',
      'response_code "503.7" is not an HTTP status code (an integer from 0 to 999)',
      'response_code "5xx" is not an HTTP status code (an integer from 0 to 999)',
      'response_code true is not an HTTP status code (an integer from 0 to 999)',
    ]);
    expect(parseOk(json({ response_code: 0 })).responseCode).toBe(0);
    expect(parseOk(json({ response_code: '504' })).responseCode).toBe(504);
  });

  it('durations and byte counts must be non-negative integers; unset (null, "-", absent) is no value', () => {
    expect(reason(json({ duration: -5 }))).toBe(
      'duration -5 is not a duration in milliseconds (a non-negative integer)',
    );
    expect(reason(json({ duration: 12.5 }))).toBe(
      'duration 12.5 is not a duration in milliseconds (a non-negative integer)',
    );
    expect(reason(json({ duration: 1e308 }))).toBe(
      'duration 1e+308 is not a duration in milliseconds (a non-negative integer)',
    );
    expect(reason(json({ duration: '1e3' }))).toBe(
      'duration "1e3" is not a duration in milliseconds (a non-negative integer)',
    );
    expect(reason(json({ upstream_service_time: '3.5' }))).toBe(
      'upstream_service_time "3.5" is not a duration in milliseconds (a non-negative integer)',
    );
    expect(reason(json({ bytes_sent: -1 }))).toBe('bytes_sent -1 is not a byte count (a non-negative integer)');
    expect(reason(json({ bytes_received: { n: 1 } }))).toBe(
      'bytes_received {"n":1} is not a byte count (a non-negative integer)',
    );
    const ok = parseOk(json({ duration: '30001', bytes_sent: 95, bytes_received: null, upstream_service_time: '-' }));
    expect(ok).toMatchObject({ durationMs: 30001, bytesSent: 95 });
    expect(ok.bytesReceived).toBeUndefined();
    expect(ok.upstreamServiceTimeMs).toBeUndefined();
  });

  it('counts an invalid record as malformed, with its reason, never as a record', async () => {
    const agg = await readAccessLog(
      Readable.from([`${json({ response_code: 503.7 })}\n${json({ duration: -1 })}\n${json({})}\n`]),
    );
    expect(agg.stats).toMatchObject({ records: 3, parsed: 1, malformed: 2 });
    expect(agg.stats.malformedSamples.map((m) => [m.line, m.reason])).toEqual([
      [1, 'response_code 503.7 is not an HTTP status code (an integer from 0 to 999)'],
      [2, 'duration -1 is not a duration in milliseconds (a non-negative integer)'],
    ]);
  });
});

describe("response_flags in each of Envoy's shapes", () => {
  it('a string of short or long names, "-", an empty string, null, an array of names: all read, in Envoy\'s order', () => {
    const flagsOf = (response_flags: unknown): string[] => parseOk(json({ response_flags })).responseFlags;
    expect(flagsOf('UF,URX')).toEqual(['UF', 'URX']);
    expect(flagsOf('-')).toEqual([]);
    expect(flagsOf('')).toEqual([]);
    expect(flagsOf(null)).toEqual([]);
    expect(flagsOf(['UF', 'URX'])).toEqual(['UF', 'URX']);
    expect(flagsOf(['URX', 'UF'])).toEqual(['UF', 'URX']);
    expect(flagsOf([])).toEqual([]);
    expect(flagsOf('UpstreamConnectionFailure,UpstreamRetryLimitExceeded')).toEqual(['UF', 'URX']);
    expect(flagsOf(['NoHealthyUpstream'])).toEqual(['UH']);
    expect(flagsOf('UF, URX')).toEqual(['UF', 'URX']);
    expect(
      parseOk(json({ response_flags: undefined, response_flags_long: 'UpstreamRequestTimeout' })).responseFlags,
    ).toEqual(['UT']);
  });

  it('anything else makes the record malformed, with the reason', () => {
    expect(reason(json({ response_flags: { UF: true } }))).toBe(
      'response_flags {"UF":true} are not Envoy flags: {"UF":true} is neither a string nor an array of flag names',
    );
    expect(reason(json({ response_flags: ['UF', 7] }))).toBe(
      'response_flags ["UF",7] are not Envoy flags: array element 7 is not a flag name',
    );
    expect(reason(json({ response_flags: 'UpstreamWentAway' }))).toBe(
      'response_flags "UpstreamWentAway" are not Envoy flags: "UpstreamWentAway" is not an Envoy response flag',
    );
    expect(reason(json({ response_flags: 42 }))).toBe(
      'response_flags 42 are not Envoy flags: 42 is neither a string nor an array of flag names',
    );
  });

  it('every short flag has its long name (and back), as in Envoy', () => {
    expect(Object.keys(RESPONSE_FLAGS).sort()).toEqual(Object.values(LONG_RESPONSE_FLAGS).sort());
    expect(parseFlagsJson(Object.keys(LONG_RESPONSE_FLAGS))).toEqual({ ok: true, flags: Object.keys(RESPONSE_FLAGS) });
  });

  it('an array-valued response_flags is diagnosed by its flags, not as "the upstream answered"', async () => {
    const agg = await readAccessLog(Readable.from([`${json({ response_flags: ['UF', 'URX'] })}\n`]));
    const [d] = explainGroups(agg.groups(), {
      staticFindings: [],
      params: DEFAULT_PARAMETERS,
      istioVersion: DEFAULT_ISTIO_VERSION,
      namespace: 'default',
    }).diagnoses;
    expect(d?.symptom).toBe('503 UF,URX');
    expect(d?.cause).not.toMatch(/upstream answered/);
    expect(d?.cause).toBe('external host unreachable');
  });
});

describe('truncated records are malformed, never records', () => {
  const [current] = fixtureLines('istio-current-constructed.log');
  const [mixer] = fixtureLines('seed-002-istio-proxy.log');
  const [envoy] = fixtureLines('seed-001-sleep-sidecar.log');

  it('a text line missing its last fields (cut after UPSTREAM_HOST, or inside UPSTREAM_CLUSTER)', () => {
    const line = current as string;
    const afterHost = line.slice(0, line.indexOf('" outbound|443') + 1);
    const inCluster = line.slice(0, line.indexOf('||dev.bar.org') + 5);
    expect(reason(afterHost)).toBe('line cut short: 9 fields from BYTES_RECEIVED on, the istio-text format has 15');
    expect(reason(inCluster)).toBe('line cut short: 10 fields from BYTES_RECEIVED on, the istio-text format has 15');
    const mixerCut = (mixer as string).replace(/ 100\.64\.254\.9:35174 -$/, '');
    expect(reason(mixerCut)).toBe(
      'line cut short: 12 fields from BYTES_RECEIVED on, the istio-text-mixer format has 14',
    );
    expect(reason(`${envoy as string} outbound|8000||httpbin.default.svc.cluster.local`)).toBe(
      'line cut short: 10 fields from BYTES_RECEIVED on, the envoy-text format has 13',
    );
    // Complete lines of each format still parse (Envoy's default format ends at "UPSTREAM_HOST").
    expect([line, mixer, envoy].map((l) => parseAccessLogLine(l as string).ok)).toEqual([true, true, true]);
  });

  it('text byte counts and durations beyond what a number holds exactly are malformed', () => {
    const huge = (current as string).replace(' 0 190 25 - ', ' 0 190 99999999999999999999 - ');
    expect(reason(huge)).toBe('field 9 (99999999999999999999) is too large for a byte count or a duration');
  });

  it('a pretty-printed JSON object cut off does not swallow the records after it', async () => {
    const lines = [
      '{',
      '  "response_code": 503,',
      '  "authority": "a.examp', // cut inside a string
      '{',
      '  "response_code": 504,',
      '  "response_flags": "UT",', // cut at the end of a line
      '{',
      '  "response_code": 503,',
      '  "response_flags": "UF",',
      '  "upstream_cluster": "outbound|80||b.default.svc.cluster.local"',
      '}',
      '{"response_code":503,"response_flags":"UF","durat', // a one-line record cut
      current as string,
    ];
    const agg = await readAccessLog(Readable.from([`${lines.join('\n')}\n`]));
    expect(agg.stats).toMatchObject({ lines: 13, records: 5, parsed: 2, malformed: 3 });
    expect(agg.stats.malformedSamples.map((m) => [m.line, m.reason.replace(/ \(.*/, '')])).toEqual([
      [1, 'multi-line JSON object cut off: line 3 ends inside a string'],
      [4, 'multi-line JSON object cut off by the next record'],
      [12, 'invalid JSON'],
    ]);
    expect(
      agg
        .groups()
        .map((g) => `${g.responseCode} ${g.responseFlags} ${g.target}`)
        .sort(),
    ).toEqual(['503 UF outbound|80||b.default.svc.cluster.local', '503 UF,URX outbound|443||dev.bar.org']);
  });
});
