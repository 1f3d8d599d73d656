import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { LogAggregator, type AggregateLimits } from './aggregate.js';
import { parseAccessLogLine } from './parse-line.js';
import { RecordAssembler, type RecordLimits } from './records.js';
import type { AccessLogEntry } from './types.js';

export interface ReadLogOptions {
  limits?: AggregateLimits;
  recordLimits?: RecordLimits;
  /** Called for every parsed record (tests, progress). */
  onEntry?: (entry: AccessLogEntry, line: number) => void;
}

/**
 * Streams an access log (text and/or JSON, mixed is fine) line by line through node:readline into a
 * LogAggregator. Memory stays bounded: no line is kept once it has been parsed and aggregated (the
 * aggregator keeps only bounded summaries), and readline pauses the input while the consumer is busy.
 */
export async function readAccessLog(input: Readable, options: ReadLogOptions = {}): Promise<LogAggregator> {
  const agg = new LogAggregator(options.limits);
  await feedAccessLog(input, agg, options);
  return agg;
}

export interface FeedResult {
  /** Lines of this input read. */
  lines: number;
  /** True when maxLines stopped the reading before the end of the input. */
  truncated: boolean;
}

/**
 * Like readAccessLog, into an existing aggregator (several logs, e.g. one per pod, into one aggregate), and
 * reading at most `maxLines` lines of this input (the caller closes the input when it was cut short).
 */
export async function feedAccessLog(
  input: Readable,
  agg: LogAggregator,
  options: Omit<ReadLogOptions, 'limits'> & { maxLines?: number } = {},
): Promise<FeedResult> {
  const maxLines = options.maxLines ?? Infinity;
  let lines = 0;
  let truncated = false;
  const assembler = new RecordAssembler(options.recordLimits);
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
  const handle = (records: ReturnType<RecordAssembler['push']>): void => {
    for (const r of records) {
      if (r.error) {
        agg.addMalformed(r.line, r.text, r.error);
        continue;
      }
      if (r.text.trim() === '') {
        agg.addBlank();
        continue;
      }
      const text = r.line === 1 && r.text.charCodeAt(0) === 0xfeff ? r.text.slice(1) : r.text;
      const parsed = parseAccessLogLine(text);
      if (!parsed.ok) {
        agg.addMalformed(r.line, text, parsed.reason);
        continue;
      }
      const raw = text.includes('\n') ? JSON.stringify(JSON.parse(text)) : text;
      agg.add(parsed.entry, raw, r.line);
      options.onEntry?.(parsed.entry, r.line);
    }
  };
  try {
    for await (const line of rl) {
      if (lines >= maxLines) {
        truncated = true;
        break;
      }
      lines++;
      agg.stats.lines++;
      handle(assembler.push(line));
    }
  } finally {
    rl.close();
  }
  handle(assembler.flush());
  return { lines, truncated };
}
