import { DurationHistogram, type DurationSummary } from './histogram.js';
import type { AccessLogEntry, LogFormat, UpstreamCluster } from './types.js';
import { LOG_FORMATS } from './types.js';

/**
 * Aggregation of access-log records by (upstream cluster or authority, response code, response flags).
 * Bounded memory whatever the length of the log: per group a fixed-size histogram of durations
 * (histogram.ts), one sample line (capped length) and at most `maxDistinct` distinct values of the
 * fields a diagnosis reads; at most `maxGroups` groups (records of further groups are only counted);
 * at most `maxMalformedSamples` malformed samples. Pure: no I/O.
 */
export interface AggregateLimits {
  maxGroups: number;
  maxDistinct: number;
  maxMalformedSamples: number;
  maxSampleChars: number;
}

export const DEFAULT_AGGREGATE_LIMITS: AggregateLimits = {
  maxGroups: 5000,
  maxDistinct: 8,
  maxMalformedSamples: 5,
  maxSampleChars: 2048,
};

export interface MalformedSample {
  line: number;
  text: string;
  reason: string;
}

/** A group as reported (histogram summarized). */
export interface LogGroup {
  /** The upstream cluster when it names a service, else `cluster authority`, else the authority. */
  target: string;
  responseCode: number;
  /** As logged: '-' or e.g. 'UF,URX'. */
  responseFlags: string;
  cluster?: UpstreamCluster;
  count: number;
  firstSeen?: string;
  lastSeen?: string;
  durationMs?: DurationSummary;
  sampleLine: string;
  sampleLineNumber: number;
  sampleFormat: LogFormat;
  /** Distinct values seen (at most maxDistinct each). */
  authorities: string[];
  upstreamHosts: string[];
  requestedServerNames: string[];
  responseCodeDetails: string[];
  connectionTerminationDetails: string[];
  upstreamTransportFailureReasons: string[];
  /** HTTP protocols (HTTP/1.1, HTTP/2) of the requests; empty for TCP records. */
  protocols: string[];
  downstreamLocalAddresses: string[];
  routeNames: string[];
}

export interface LogStats {
  /** Input lines read. */
  lines: number;
  /** Records (a pretty-printed JSON object spans several lines). */
  records: number;
  parsed: number;
  malformed: number;
  /** Blank lines, not counted as malformed. */
  blank: number;
  byFormat: Record<LogFormat, number>;
  malformedSamples: MalformedSample[];
  /** Records of groups beyond maxGroups: counted, not grouped. */
  ungrouped: number;
  firstSeen?: string;
  lastSeen?: string;
}

interface MutableGroup {
  target: string;
  responseCode: number;
  responseFlags: string;
  cluster?: UpstreamCluster;
  count: number;
  firstMs: number;
  lastMs: number;
  firstSeen?: string;
  lastSeen?: string;
  durations: DurationHistogram;
  sampleLine: string;
  sampleLineNumber: number;
  sampleFormat: LogFormat;
  sets: Record<SetName, Set<string>>;
}

const SET_NAMES = [
  'authorities',
  'upstreamHosts',
  'requestedServerNames',
  'responseCodeDetails',
  'connectionTerminationDetails',
  'upstreamTransportFailureReasons',
  'protocols',
  'downstreamLocalAddresses',
  'routeNames',
] as const;
type SetName = (typeof SET_NAMES)[number];

function peerName(e: AccessLogEntry): string {
  return e.authority ?? e.requestedServerName ?? e.upstreamHost ?? '-';
}

/** The group target of a record (see LogGroup.target). */
export function groupTarget(e: AccessLogEntry): string {
  const c = e.upstreamCluster;
  if (c && (c.kind === 'outbound' || c.kind === 'inbound') && c.host) return c.name;
  if (c) return `${c.name} ${peerName(e)}`;
  return peerName(e);
}

export class LogAggregator {
  private readonly groupsByKey = new Map<string, MutableGroup>();
  private firstMs = Infinity;
  private lastMs = -Infinity;
  readonly stats: LogStats = {
    lines: 0,
    records: 0,
    parsed: 0,
    malformed: 0,
    blank: 0,
    byFormat: Object.fromEntries(LOG_FORMATS.map((f) => [f, 0])) as Record<LogFormat, number>,
    malformedSamples: [],
    ungrouped: 0,
  };

  constructor(readonly limits: AggregateLimits = DEFAULT_AGGREGATE_LIMITS) {}

  get groupCount(): number {
    return this.groupsByKey.size;
  }

  /** Counts a record that did not parse, keeping the first few as samples. */
  addMalformed(line: number, text: string, reason: string): void {
    this.stats.records++;
    this.stats.malformed++;
    if (this.stats.malformedSamples.length < this.limits.maxMalformedSamples) {
      this.stats.malformedSamples.push({ line, text: text.length > 300 ? `${text.slice(0, 300)}…` : text, reason });
    }
  }

  addBlank(): void {
    this.stats.blank++;
  }

  add(e: AccessLogEntry, rawLine: string, lineNumber: number): void {
    this.stats.records++;
    this.stats.parsed++;
    this.stats.byFormat[e.format]++;
    if (e.timeMs !== undefined) {
      if (e.timeMs < this.firstMs) {
        this.firstMs = e.timeMs;
        this.stats.firstSeen = e.startTime;
      }
      if (e.timeMs > this.lastMs) {
        this.lastMs = e.timeMs;
        this.stats.lastSeen = e.startTime;
      }
    }
    const target = groupTarget(e);
    const flags = e.responseFlags.length > 0 ? e.responseFlags.join(',') : '-';
    const key = `${target}\u0000${e.responseCode}\u0000${flags}`;
    let g = this.groupsByKey.get(key);
    if (!g) {
      if (this.groupsByKey.size >= this.limits.maxGroups) {
        this.stats.ungrouped++;
        return;
      }
      g = {
        target,
        responseCode: e.responseCode,
        responseFlags: flags,
        ...(e.upstreamCluster ? { cluster: e.upstreamCluster } : {}),
        count: 0,
        firstMs: Infinity,
        lastMs: -Infinity,
        durations: new DurationHistogram(),
        sampleLine:
          rawLine.length > this.limits.maxSampleChars ? `${rawLine.slice(0, this.limits.maxSampleChars)}…` : rawLine,
        sampleLineNumber: lineNumber,
        sampleFormat: e.format,
        sets: Object.fromEntries(SET_NAMES.map((n) => [n, new Set<string>()])) as Record<SetName, Set<string>>,
      };
      this.groupsByKey.set(key, g);
    }
    g.count++;
    if (e.timeMs !== undefined) {
      if (e.timeMs < g.firstMs) {
        g.firstMs = e.timeMs;
        g.firstSeen = e.startTime;
      }
      if (e.timeMs > g.lastMs) {
        g.lastMs = e.timeMs;
        g.lastSeen = e.startTime;
      }
    }
    if (e.durationMs !== undefined) g.durations.record(e.durationMs);
    this.note(g, 'authorities', e.authority);
    this.note(g, 'upstreamHosts', e.upstreamHost);
    this.note(g, 'requestedServerNames', e.requestedServerName);
    this.note(g, 'responseCodeDetails', e.responseCodeDetails);
    this.note(g, 'connectionTerminationDetails', e.connectionTerminationDetails);
    this.note(g, 'upstreamTransportFailureReasons', e.upstreamTransportFailureReason);
    this.note(g, 'protocols', e.method !== undefined && e.protocol?.startsWith('HTTP') ? e.protocol : undefined);
    this.note(g, 'downstreamLocalAddresses', e.downstreamLocalAddress);
    this.note(g, 'routeNames', e.routeName);
  }

  private note(g: MutableGroup, name: SetName, value: string | undefined): void {
    if (value === undefined) return;
    const s = g.sets[name];
    if (s.size < this.limits.maxDistinct) s.add(value);
  }

  /** The groups, most frequent first. */
  groups(): LogGroup[] {
    const out: LogGroup[] = [];
    for (const g of this.groupsByKey.values()) {
      const durationMs = g.durations.summary();
      out.push({
        target: g.target,
        responseCode: g.responseCode,
        responseFlags: g.responseFlags,
        ...(g.cluster ? { cluster: g.cluster } : {}),
        count: g.count,
        ...(g.firstSeen !== undefined ? { firstSeen: g.firstSeen } : {}),
        ...(g.lastSeen !== undefined ? { lastSeen: g.lastSeen } : {}),
        ...(durationMs ? { durationMs } : {}),
        sampleLine: g.sampleLine,
        sampleLineNumber: g.sampleLineNumber,
        sampleFormat: g.sampleFormat,
        ...(Object.fromEntries(SET_NAMES.map((n) => [n, [...g.sets[n]]])) as Record<SetName, string[]>),
      });
    }
    return out.sort(
      (a, b) =>
        b.count - a.count ||
        a.target.localeCompare(b.target) ||
        a.responseCode - b.responseCode ||
        a.responseFlags.localeCompare(b.responseFlags),
    );
  }
}
