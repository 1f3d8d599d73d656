import { parseClusterName } from './cluster-name.js';
import { tokenizeTextLine, type Token } from './tokenize.js';
import type { AccessLogEntry, LogFormat, ParseResult } from './types.js';

const FLAGS = /^(-|[A-Z]+(,[A-Z]+)*)$/;
const NUMBER_OR_DASH = /^(\d+|-)$/;

function dash(v: string | undefined): string | undefined {
  return v === undefined || v === '-' || v === '' ? undefined : v;
}

function num(v: string | undefined): number | undefined {
  const d = dash(v);
  return d === undefined || !/^\d+$/.test(d) ? undefined : Number(d);
}

function flagsOf(v: string | undefined): string[] {
  const d = dash(v);
  return d === undefined ? [] : d.split(',');
}

function timeOf(entry: AccessLogEntry, time: string | undefined): void {
  if (time === undefined) return;
  entry.startTime = time;
  const ms = Date.parse(time);
  if (!Number.isNaN(ms)) entry.timeMs = ms;
}

function setIfDefined<K extends keyof AccessLogEntry>(entry: AccessLogEntry, key: K, value: AccessLogEntry[K] | undefined): void {
  if (value !== undefined) entry[key] = value;
}

/** Where BYTES_RECEIVED starts, and the format the fields before it reveal. */
function layout(t: Token[]): { format: LogFormat; bytesAt: number; details?: string; termination?: string; failure?: string } | { error: string } {
  const unquotedNumbers = (from: number): boolean => [0, 1, 2, 3].every((k) => t[from + k] !== undefined && !t[from + k]?.quoted && NUMBER_OR_DASH.test(t[from + k]?.text ?? ''));
  const t3 = t[3];
  if (!t3) return { error: 'line ends after the response flags' };
  if (t3.quoted) {
    // Istio 1.1-1.8: "%DYNAMIC_METADATA(istio.mixer:status)%" ["%UPSTREAM_TRANSPORT_FAILURE_REASON%"] BYTES...
    if (unquotedNumbers(4)) return { format: 'istio-text-mixer', bytesAt: 4 };
    if (t[4]?.quoted && unquotedNumbers(5)) return { format: 'istio-text-mixer', bytesAt: 5, ...(dash(t[4].text) ? { failure: t[4].text } : {}) };
    return { error: 'quoted field after the flags is not followed by the byte counts' };
  }
  if (unquotedNumbers(3) && t[7]?.quoted) return { format: 'envoy-text', bytesAt: 3 };
  // Current Istio: RESPONSE_CODE_DETAILS CONNECTION_TERMINATION_DETAILS "UPSTREAM_TRANSPORT_FAILURE_REASON" BYTES...
  if (!t[4]?.quoted && t[5]?.quoted && unquotedNumbers(6)) {
    const out: { format: LogFormat; bytesAt: number; details?: string; termination?: string; failure?: string } = { format: 'istio-text', bytesAt: 6 };
    if (dash(t3.text)) out.details = t3.text;
    if (dash(t[4]?.text)) out.termination = t[4]?.text;
    if (dash(t[5].text)) out.failure = t[5].text;
    return out;
  }
  return { error: 'fields after the response flags match no known Istio/Envoy text format' };
}

/** Parses one text access-log line (any of the text formats, detected per line). */
export function parseTextLine(line: string): ParseResult {
  const tok = tokenizeTextLine(line);
  if ('error' in tok) return { ok: false, reason: tok.error };
  const t = tok.tokens;
  const request = t[0];
  if (!request?.quoted) return { ok: false, reason: 'no quoted "METHOD PATH PROTOCOL" field' };
  const code = t[1];
  if (!code || code.quoted || !/^(\d{1,3}|-)$/.test(code.text)) return { ok: false, reason: `response code ${JSON.stringify(code?.text ?? '')} is not a number` };
  const flags = t[2];
  if (!flags || flags.quoted || !FLAGS.test(flags.text)) return { ok: false, reason: `response flags ${JSON.stringify(flags?.text ?? '')} are not Envoy flags` };
  const l = layout(t);
  if ('error' in l) return { ok: false, reason: l.error };
  const b = l.bytesAt;
  for (let k = 4; k <= 8; k++) {
    if (!t[b + k]?.quoted) return { ok: false, reason: `field ${b + k + 1} should be quoted (X-FORWARDED-FOR .. UPSTREAM_HOST)` };
  }
  const entry: AccessLogEntry = { format: l.format, responseCode: num(code.text) ?? 0, responseFlags: flagsOf(flags.text) };
  timeOf(entry, tok.time);
  const req = request.text.split(' ');
  if (req.length >= 3) {
    setIfDefined(entry, 'method', dash(req[0]));
    setIfDefined(entry, 'path', dash(req.slice(1, -1).join(' ')));
    setIfDefined(entry, 'protocol', dash(req[req.length - 1]));
  } else {
    setIfDefined(entry, 'method', dash(req[0]));
    setIfDefined(entry, 'path', dash(req[1]));
  }
  setIfDefined(entry, 'responseCodeDetails', l.details);
  setIfDefined(entry, 'connectionTerminationDetails', l.termination);
  setIfDefined(entry, 'upstreamTransportFailureReason', l.failure);
  setIfDefined(entry, 'bytesReceived', num(t[b]?.text));
  setIfDefined(entry, 'bytesSent', num(t[b + 1]?.text));
  setIfDefined(entry, 'durationMs', num(t[b + 2]?.text));
  setIfDefined(entry, 'upstreamServiceTimeMs', num(t[b + 3]?.text));
  setIfDefined(entry, 'xForwardedFor', dash(t[b + 4]?.text));
  setIfDefined(entry, 'userAgent', dash(t[b + 5]?.text));
  setIfDefined(entry, 'requestId', dash(t[b + 6]?.text));
  setIfDefined(entry, 'authority', dash(t[b + 7]?.text));
  setIfDefined(entry, 'upstreamHost', dash(t[b + 8]?.text));
  const cluster = dash(t[b + 9]?.text);
  if (cluster) entry.upstreamCluster = parseClusterName(cluster);
  setIfDefined(entry, 'upstreamLocalAddress', dash(t[b + 10]?.text));
  setIfDefined(entry, 'downstreamLocalAddress', dash(t[b + 11]?.text));
  setIfDefined(entry, 'downstreamRemoteAddress', dash(t[b + 12]?.text));
  setIfDefined(entry, 'requestedServerName', dash(t[b + 13]?.text));
  setIfDefined(entry, 'routeName', dash(t[b + 14]?.text));
  return { ok: true, entry };
}

type JsonRecord = Record<string, unknown>;

function jsonString(o: JsonRecord, ...keys: string[]): string | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'string') {
      const d = dash(v);
      if (d !== undefined) return d;
    } else if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return undefined;
}

function jsonNumber(o: JsonRecord, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const v = o[k];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return v;
    if (typeof v === 'string' && /^\d+(\.\d+)?$/.test(v)) return Number(v);
  }
  return undefined;
}

/** Parses one JSON access-log record (Istio's accessLogEncoding: JSON keys). */
export function parseJsonRecord(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'JSON value is not an object' };
  const o = value as JsonRecord;
  const code = jsonNumber(o, 'response_code');
  if (code === undefined) return { ok: false, reason: 'JSON object without response_code: not an access-log record' };
  const flags = jsonString(o, 'response_flags');
  if (flags !== undefined && !FLAGS.test(flags)) return { ok: false, reason: `response_flags ${JSON.stringify(flags)} are not Envoy flags` };
  const entry: AccessLogEntry = { format: 'json', responseCode: code, responseFlags: flagsOf(flags) };
  timeOf(entry, jsonString(o, 'start_time'));
  setIfDefined(entry, 'method', jsonString(o, 'method'));
  setIfDefined(entry, 'path', jsonString(o, 'path'));
  setIfDefined(entry, 'protocol', jsonString(o, 'protocol'));
  setIfDefined(entry, 'responseCodeDetails', jsonString(o, 'response_code_details'));
  setIfDefined(entry, 'connectionTerminationDetails', jsonString(o, 'connection_termination_details'));
  setIfDefined(entry, 'upstreamTransportFailureReason', jsonString(o, 'upstream_transport_failure_reason'));
  setIfDefined(entry, 'bytesReceived', jsonNumber(o, 'bytes_received'));
  setIfDefined(entry, 'bytesSent', jsonNumber(o, 'bytes_sent'));
  setIfDefined(entry, 'durationMs', jsonNumber(o, 'duration'));
  setIfDefined(entry, 'upstreamServiceTimeMs', jsonNumber(o, 'upstream_service_time'));
  setIfDefined(entry, 'xForwardedFor', jsonString(o, 'x_forwarded_for'));
  setIfDefined(entry, 'userAgent', jsonString(o, 'user_agent'));
  setIfDefined(entry, 'requestId', jsonString(o, 'request_id'));
  setIfDefined(entry, 'authority', jsonString(o, 'authority'));
  setIfDefined(entry, 'upstreamHost', jsonString(o, 'upstream_host'));
  const cluster = jsonString(o, 'upstream_cluster');
  if (cluster) entry.upstreamCluster = parseClusterName(cluster);
  setIfDefined(entry, 'upstreamLocalAddress', jsonString(o, 'upstream_local_address'));
  setIfDefined(entry, 'downstreamLocalAddress', jsonString(o, 'downstream_local_address'));
  setIfDefined(entry, 'downstreamRemoteAddress', jsonString(o, 'downstream_remote_address'));
  setIfDefined(entry, 'requestedServerName', jsonString(o, 'requested_server_name'));
  setIfDefined(entry, 'routeName', jsonString(o, 'route_name'));
  return { ok: true, entry };
}

/** Parses one access-log record, text or JSON, detecting the format from the record itself. */
export function parseAccessLogLine(record: string): ParseResult {
  const s = record.trimStart();
  if (s.length === 0) return { ok: false, reason: 'empty line' };
  if (s.startsWith('{')) return parseJsonRecord(s);
  // kubectl logs --timestamps / --prefix put something before the record.
  const brace = s.indexOf(' {');
  if (brace > 0 && !s.includes('] "')) return parseJsonRecord(s.slice(brace + 1));
  return parseTextLine(s);
}
