import { Readable } from 'node:stream';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { readAccessLog } from '../../../src/evidence/read-log.js';

/**
 * Streams a large generated access log (never held in memory: a generator feeds the stream chunk by chunk)
 * and measures the heap retained after full GCs along the way. Holding the lines would retain hundreds of MB
 * (~230 bytes a line); the parser and aggregator must stay flat once every group has been seen.
 * MESHMEDIC_BIG_LOG_LINES overrides the line count (the README figure uses 2,000,000).
 */
const LINES = Number(process.env['MESHMEDIC_BIG_LOG_LINES'] ?? 1_000_000);

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

function* generateLog(lines: number): Generator<string> {
  let chunk: string[] = [];
  let seed = 12345;
  // mulberry32: a small deterministic PRNG.
  const rand = (n: number): number => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) % n;
  };
  for (let i = 0; i < lines; i++) {
    const svc = `svc-${rand(300)}`;
    const id = `${i.toString(16).padStart(8, '0')}-4b1a-8c55-${rand(1e9)}`;
    const t = new Date(Date.UTC(2024, 0, 1) + i * 7).toISOString();
    const ms = 1 + rand(30_000);
    switch (i % 5) {
      case 0:
        chunk.push(
          `[${t}] "GET /api/${i} HTTP/1.1" 503 UC upstream_reset_before_response_started{connection_termination} - "-" 0 95 ${ms} - "-" "curl/8.5.0" "${id}" "${svc}.prod:8080" "10.244.${rand(255)}.${rand(255)}:8080" outbound|8080||${svc}.prod.svc.cluster.local 10.244.1.8:51000 10.96.0.1:8080 10.244.1.8:40004 - default`,
        );
        break;
      case 1:
        chunk.push(
          `[${t}] "POST /x HTTP/1.1" 504 UT "-" "-" 150 24 ${ms} - "-" "Jersey/2.27" "${id}" "${svc}.example.com" "10.186.199.78:80" PassthroughCluster - 10.186.199.78:80 100.65.161.7:37302 -`,
        );
        break;
      case 2:
        chunk.push(
          `[${t}] "GET /get HTTP/1.1" 200 - 0 57 ${ms} ${ms} "-" "curl/7.35.0" "${id}" "${svc}:8000" "172.17.0.14:8000"`,
        );
        break;
      case 3:
        chunk.push(
          `{"start_time":"${t}","response_code":503,"response_flags":"UF","duration":${ms},"authority":"${svc}.example.org","upstream_cluster":"outbound|443||${svc}.example.org","request_id":"${id}","requested_server_name":"gw.example.org"}`,
        );
        break;
      default:
        chunk.push(
          i % 10_007 === 4
            ? `garbage line ${id}`
            : `[${t}] "GET /s HTTP/1.1" 503 UC "-" "-" 0 95 ${ms} - "-" "-" "${id}" "${svc}.xyz" "127.0.0.1:8080" inbound|80|http|${svc}.xyz.svc.cluster.local - 100.64.121.11:8080 100.64.254.9:35174 -`,
        );
    }
    if (chunk.length === 1000) {
      yield chunk.join('\n') + '\n';
      chunk = [];
    }
  }
  if (chunk.length > 0) yield chunk.join('\n') + '\n';
}

describe('bounded memory', () => {
  it(`streams ${LINES.toLocaleString('en')} generated lines with a flat retained heap`, async () => {
    gc();
    const before = process.memoryUsage().heapUsed;
    const samples: { line: number; heap: number }[] = [];
    const step = Math.floor(LINES / 10);
    const started = performance.now();
    const agg = await readAccessLog(Readable.from(generateLog(LINES)), {
      onEntry: (_e, line) => {
        if (line % step === 0) {
          gc();
          samples.push({ line, heap: process.memoryUsage().heapUsed });
        }
      },
    });
    const seconds = (performance.now() - started) / 1000;
    gc();
    const after = process.memoryUsage().heapUsed;
    const mb = (n: number): number => Math.round((n / 2 ** 20) * 10) / 10;
    const peakRetained = Math.max(...samples.map((s) => s.heap), after) - before;
    const lateGrowth = after - (samples[1]?.heap ?? after);
    const groups = agg.groups();
    console.log(
      `bounded memory: ${agg.stats.lines.toLocaleString('en')} lines in ${seconds.toFixed(1)} s (${Math.round(agg.stats.lines / seconds).toLocaleString('en')} lines/s); ` +
        `retained heap growth ${mb(after - before)} MB at the end, peak ${mb(peakRetained)} MB, ${mb(lateGrowth)} MB from 20% to 100%; ` +
        `${groups.length} groups, ${agg.stats.malformed} malformed; heap after GC by decile: ${samples.map((s) => mb(s.heap - before)).join(', ')} MB`,
    );
    expect(agg.stats.lines).toBe(LINES);
    expect(agg.stats.parsed + agg.stats.malformed).toBe(LINES);
    // Malformed: i % 5 === 4 and i % 10,007 === 4, i.e. i % 50,035 === 4.
    expect(agg.stats.malformed).toBe(Math.floor((LINES - 5) / 50_035) + 1);
    expect(groups.reduce((n, g) => n + g.count, 0)).toBe(agg.stats.parsed);
    // Holding the lines would retain > 200 MB per million lines; these bounds are far from that and from noise.
    expect(peakRetained).toBeLessThan(64 * 2 ** 20);
    expect(lateGrowth).toBeLessThan(16 * 2 ** 20);
  }, 180_000);
});
