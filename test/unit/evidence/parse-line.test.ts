import { describe, expect, it } from 'vitest';
import { parseClusterName, parseIstioSni, splitHostPort } from '../../../src/evidence/cluster-name.js';
import { parseAccessLogLine } from '../../../src/evidence/parse-line.js';
import { tokenizeTextLine } from '../../../src/evidence/tokenize.js';
import { fixtureLines, parseOk } from './helpers.js';

describe('upstream cluster names', () => {
  it('splits outbound|port|subset|host and inbound|port|portName|host', () => {
    expect(parseClusterName('outbound|443||dev.bar.org')).toEqual({
      name: 'outbound|443||dev.bar.org',
      kind: 'outbound',
      direction: 'outbound',
      port: 443,
      subset: '',
      host: 'dev.bar.org',
    });
    expect(parseClusterName('outbound|9080|v2|reviews.default.svc.cluster.local')).toMatchObject({
      kind: 'outbound',
      port: 9080,
      subset: 'v2',
      host: 'reviews.default.svc.cluster.local',
    });
    expect(parseClusterName('inbound|80|http|srv-a.xyz.svc.cluster.local')).toEqual({
      name: 'inbound|80|http|srv-a.xyz.svc.cluster.local',
      kind: 'inbound',
      direction: 'inbound',
      port: 80,
      portName: 'http',
      host: 'srv-a.xyz.svc.cluster.local',
    });
    expect(parseClusterName('inbound|8080||')).toMatchObject({ kind: 'inbound', port: 8080, portName: '', host: '' });
  });

  it('recognises the special clusters, and keeps anything else as other', () => {
    expect(parseClusterName('PassthroughCluster').kind).toBe('passthrough');
    expect(parseClusterName('BlackHoleCluster').kind).toBe('blackhole');
    expect(parseClusterName('InboundPassthroughClusterIpv4')).toEqual({
      name: 'InboundPassthroughClusterIpv4',
      kind: 'inbound-passthrough',
      ipFamily: 'IPv4',
    });
    expect(parseClusterName('InboundPassthroughClusterIpv6')).toMatchObject({
      kind: 'inbound-passthrough',
      ipFamily: 'IPv6',
    });
    expect(parseClusterName('InboundPassthroughCluster').kind).toBe('inbound-passthrough');
    expect(parseClusterName('outbound|x||h').kind).toBe('other');
    expect(parseClusterName('prometheus_stats').kind).toBe('other');
  });

  it("reads Istio's mTLS SNI and host:port forms", () => {
    expect(parseIstioSni('outbound_.8080_._.orders.shop.svc.cluster.local')).toEqual({
      port: 8080,
      subset: '',
      host: 'orders.shop.svc.cluster.local',
    });
    expect(parseIstioSni('foo.bar.org')).toBeUndefined();
    expect(splitHostPort('httpbin:8000')).toEqual({ host: 'httpbin', port: 8000 });
    expect(splitHostPort('[fd00::1]:443')).toEqual({ host: 'fd00::1', port: 443 });
    expect(splitHostPort('fd00::1')).toEqual({ host: 'fd00::1' });
    expect(splitHostPort('external.service.com')).toEqual({ host: 'external.service.com' });
  });
});

describe('text tokenizer', () => {
  it('keeps quoted fields with spaces and inner quotes, and finds the record after a kubectl prefix', () => {
    const t = tokenizeTextLine(
      '2024-05-02T10:00:08.1Z [2024-05-02T10:00:08.000Z] "GET /a b HTTP/1.1" 200 - "agent/1.0 (compatible; "x")" "-"',
    );
    expect('error' in t).toBe(false);
    if ('error' in t) return;
    expect(t.time).toBe('2024-05-02T10:00:08.000Z');
    expect(t.tokens).toEqual([
      { text: 'GET /a b HTTP/1.1', quoted: true },
      { text: '200', quoted: false },
      { text: '-', quoted: false },
      { text: 'agent/1.0 (compatible; "x")', quoted: true },
      { text: '-', quoted: true },
    ]);
    expect(tokenizeTextLine('[2024-05-02T10:00:08.000Z] "GET / HTTP/1.1" 200 "open')).toEqual({
      error: 'unterminated quoted field at column 49',
    });
  });
});

describe('seed lines parse to the right fields', () => {
  it('seed 000: the JSON record (pretty-printed in the page) with every key', () => {
    const text = fixtureLines('seed-000-ingress-gateway.json.log').join('\n');
    const e = parseOk(text);
    expect(e).toEqual({
      format: 'json',
      responseCode: 503,
      responseFlags: ['UC'],
      startTime: '2022-11-23T08:08:52.303Z',
      timeMs: Date.parse('2022-11-23T08:08:52.303Z'),
      method: 'GET',
      path: '/api/test',
      protocol: 'HTTP/2',
      bytesReceived: 0,
      bytesSent: 95,
      durationMs: 19,
      xForwardedFor: '182.140.153.175',
      userAgent:
        'Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/107.0.0.0 Safari/537.36',
      requestId: '054c265b-46eb-4524-a892-810ceeb26e64',
      authority: 'foo.bar.org',
      upstreamHost: '47.107.45.209:443',
      upstreamCluster: {
        name: 'outbound|443||dev.bar.org',
        kind: 'outbound',
        direction: 'outbound',
        port: 443,
        subset: '',
        host: 'dev.bar.org',
      },
      upstreamLocalAddress: '192.168.32.49:53382',
      downstreamLocalAddress: '192.168.32.49:443',
      downstreamRemoteAddress: '182.140.153.175:2223',
      requestedServerName: 'foo.bar.org',
    });
  });

  it("seed 001: the 2018 line in Envoy's default format (no cluster)", () => {
    const [line] = fixtureLines('seed-001-sleep-sidecar.log');
    expect(parseOk(line as string)).toEqual({
      format: 'envoy-text',
      startTime: '2018-08-28T13:06:56.454Z',
      timeMs: Date.parse('2018-08-28T13:06:56.454Z'),
      method: 'GET',
      path: '/get',
      protocol: 'HTTP/1.1',
      responseCode: 503,
      responseFlags: ['UC'],
      bytesReceived: 0,
      bytesSent: 57,
      durationMs: 0,
      userAgent: 'curl/7.35.0',
      requestId: '19095d07-320a-9be0-8ba5-e0d08cf58f52',
      authority: 'httpbin:8000',
      upstreamHost: '172.17.0.14:8000',
    });
  });

  it('seed 002: the five 2022 lines (mixer-era format without ROUTE_NAME)', () => {
    const [a, b, ext, ts, api] = fixtureLines('seed-002-istio-proxy.log').map(parseOk);
    expect(a).toEqual({
      format: 'istio-text-mixer',
      startTime: '2022-04-18T09:29:59.633Z',
      timeMs: Date.parse('2022-04-18T09:29:59.633Z'),
      method: 'GET',
      path: '/service_a/v2.1/get?ids=123456',
      protocol: 'HTTP/1.1',
      responseCode: 503,
      responseFlags: ['UC'],
      bytesReceived: 0,
      bytesSent: 95,
      durationMs: 11,
      requestId: 'bc6f9ba3-d8dc-4955-a092-64617d9277c8',
      authority: 'srv-a.xyz',
      upstreamHost: '127.0.0.1:8080',
      upstreamCluster: {
        name: 'inbound|80|http|srv-a.xyz.svc.cluster.local',
        kind: 'inbound',
        direction: 'inbound',
        port: 80,
        portName: 'http',
        host: 'srv-a.xyz.svc.cluster.local',
      },
      downstreamLocalAddress: '100.64.121.11:8080',
      downstreamRemoteAddress: '100.64.254.9:35174',
    });
    expect(b).toMatchObject({
      responseCode: 503,
      responseFlags: ['UF'],
      authority: 'srv-b.xyz.svc.cluster.local',
      upstreamCluster: { kind: 'inbound', host: 'srv-b.xyz.svc.cluster.local' },
    });
    expect(ext).toMatchObject({
      responseFlags: ['UF'],
      userAgent: 'Apache-HttpClient/4.5.5 (Java/11)',
      authority: 'external.service.com',
      upstreamHost: '55.92.142.17:80',
      upstreamCluster: { name: 'PassthroughCluster', kind: 'passthrough' },
      downstreamLocalAddress: '55.92.142.17:80',
    });
    expect(ts).toMatchObject({
      method: 'POST',
      responseCode: 504,
      responseFlags: ['UT'],
      bytesReceived: 150,
      bytesSent: 24,
      durationMs: 15004,
      authority: 'testservice.prod.com',
      userAgent: 'Jersey/2.27 (HttpUrlConnection 11.0.4)',
    });
    expect(api).toMatchObject({
      responseCode: 504,
      responseFlags: ['UT'],
      durationMs: 15001,
      authority: 'apisvc.prod.com',
      upstreamHost: '10.186.199.78:80',
      upstreamCluster: { kind: 'passthrough' },
    });
  });

  it("the current default format (seed 003's format string), every field in place", () => {
    const [tls, tcp, , , blackhole, , inbound, , ok] = fixtureLines('istio-current-constructed.log').map(parseOk);
    expect(tls).toMatchObject({
      format: 'istio-text',
      responseCode: 503,
      responseFlags: ['UF', 'URX'],
      responseCodeDetails:
        'upstream_reset_before_response_started{remote_connection_failure,TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED}',
      upstreamTransportFailureReason: 'TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED',
      xForwardedFor: '182.140.153.175',
      authority: 'foo.bar.org',
      upstreamCluster: { kind: 'outbound', host: 'dev.bar.org', port: 443 },
      upstreamLocalAddress: '192.168.32.49:53390',
      downstreamLocalAddress: '192.168.32.49:8443',
      downstreamRemoteAddress: '182.140.153.175:2224',
      requestedServerName: 'foo.bar.org',
    });
    expect(tls?.routeName).toBeUndefined();
    expect(tcp).toMatchObject({
      responseCode: 0,
      responseFlags: ['UF'],
      requestedServerName: 'api.example.com',
      upstreamCluster: { kind: 'passthrough' },
    });
    expect(tcp?.method).toBeUndefined();
    expect(blackhole).toMatchObject({
      responseCode: 502,
      responseFlags: [],
      responseCodeDetails: 'direct_response',
      routeName: 'block_all',
    });
    expect(inbound).toMatchObject({
      upstreamCluster: { kind: 'inbound', port: 8080, host: '' },
      requestedServerName: 'outbound_.8080_._.orders.shop.svc.cluster.local',
    });
    expect(inbound?.connectionTerminationDetails).toBeUndefined();
    expect(ok).toMatchObject({
      responseCode: 200,
      userAgent: 'agent/1.0 (compatible; "x")',
      upstreamServiceTimeMs: 3,
      routeName: 'default',
    });
  });

  it('a one-line JSON record, with numbers as strings and nulls', () => {
    const e = parseOk(
      '{"start_time":"2024-01-01T00:00:00.000Z","response_code":"504","response_flags":"UT","duration":"30001","upstream_cluster":"outbound|80||a.b.svc.cluster.local","authority":null,"route_name":"r"}',
    );
    expect(e).toMatchObject({
      format: 'json',
      responseCode: 504,
      responseFlags: ['UT'],
      durationMs: 30001,
      routeName: 'r',
      upstreamCluster: { host: 'a.b.svc.cluster.local' },
    });
    expect(e.authority).toBeUndefined();
  });

  it('says why a line is not an access-log record', () => {
    const reasons = [
      'this is not an access log line',
      '[2022-04-18T09:30:01.000Z] "GET /cut HTTP/1.1" 503 UC "-" "-" 0 95',
      '[2022-04-18T09:30:02.000Z] "GET /x HTTP/1.1" 5x3 UC "-" "-" 0 95 11 - "-" "-" "id" "a" "b"',
      '[2022-04-18T09:30:02.000Z] "GET /x HTTP/1.1" 503 uc "-" "-" 0 95 11 - "-" "-" "id" "a" "b"',
      '{"level":"info","msg":"ready"}',
      '{"response_code":503,',
      '',
    ].map((l) => {
      const r = parseAccessLogLine(l);
      return r.ok ? 'parsed' : r.reason;
    });
    expect(reasons).toEqual([
      'no [START_TIME] "...',
      'quoted field after the flags is not followed by the byte counts',
      'response code "5x3" is not a number',
      'response flags "uc" are not Envoy flags',
      'JSON object without response_code: not an access-log record',
      expect.stringMatching(/^invalid JSON/),
      'empty line',
    ]);
  });
});
