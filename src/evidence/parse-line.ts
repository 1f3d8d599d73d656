import { parseClusterName } from './cluster-name.js';
import { parseFlagsJson, parseFlagsText, type FlagsResult } from './flags.js';
import { tokenizeTextLine, type Token } from './tokenize.js';
import type { AccessLogEntry, LogFormat, ParseResult } from './types.js';

const NUMBER_OR_DASH = /^(\d+|-)$/;
/** HTTP status codes as Envoy logs them (0: no response was sent). */
const MAX_RESPONSE_CODE = 999;

function dash(v: string | undefined): string | undefined {
  return v === undefined || v === '-' || v === '' ? undefined : v;
}

function num(v: string | undefined): number | undefined {
  const d = dash(v);
  return d === undefined || !/^\d+$/.test(d) ? undefined : Number(d);
}

function timeOf(entry: AccessLogEntry, time: string | undefined): void {
  if (time === undefined) return;
  entry.startTime = time;
  const ms = Date.parse(time);
  if (!Number.isNaN(ms)) entry.timeMs = ms;
}

function setIfDefined<K extends keyof AccessLogEntry>(
  entry: AccessLogEntry,
  key: K,
  value: AccessLogEntry[K] | undefined,
): void {
  if (value !== undefined) entry[key] = value;
}

/** Where BYTES_RECEIVED starts, the format the fields before it reveal, and the fields they carry. */
type TextLayout = { format: LogFormat; bytesAt: number; details?: string; termination?: string; failure?: string };

/** The four fields from `from` on are unquoted numbers or `-` (the byte counts and durations). */
function unquotedNumbers(t: Token[], from: number): boolean {
  for (let k = from; k < from + 4; k++) {
    const token = t[k];
    if (token === undefined || token.quoted || !NUMBER_OR_DASH.test(token.text)) return false;
  }
  return true;
}

/** Istio 1.1-1.8: "%DYNAMIC_METADATA(istio.mixer:status)%" ["%UPSTREAM_TRANSPORT_FAILURE_REASON%"] BYTES... */
function mixerLayout(t: Token[]): TextLayout | { error: string } {
  if (unquotedNumbers(t, 4)) return { format: 'istio-text-mixer', bytesAt: 4 };
  const failure = t[4];
  if (failure?.quoted && unquotedNumbers(t, 5))
    return { format: 'istio-text-mixer', bytesAt: 5, ...(dash(failure.text) ? { failure: failure.text } : {}) };
  return { error: 'quoted field after the flags is not followed by the byte counts' };
}

/** Current Istio: RESPONSE_CODE_DETAILS CONNECTION_TERMINATION_DETAILS "UPSTREAM_TRANSPORT_FAILURE_REASON" BYTES... */
function istioTextLayout(details: Token, termination: Token | undefined, failure: Token): TextLayout {
  const out: TextLayout = { format: 'istio-text', bytesAt: 6 };
  if (dash(details.text)) out.details = details.text;
  if (dash(termination?.text)) out.termination = termination?.text;
  if (dash(failure.text)) out.failure = failure.text;
  return out;
}

/** Where BYTES_RECEIVED starts, and the format the fields before it reveal. */
function layout(t: Token[]): TextLayout | { error: string } {
  const t3 = t[3];
  if (!t3) return { error: 'line ends after the response flags' };
  if (t3.quoted) return mixerLayout(t);
  if (unquotedNumbers(t, 3) && t[7]?.quoted) return { format: 'envoy-text', bytesAt: 3 };
  const t5 = t[5];
  if (!t[4]?.quoted && t5?.quoted && unquotedNumbers(t, 6)) return istioTextLayout(t3, t[4], t5);
  return { error: 'fields after the response flags match no known Istio/Envoy text format' };
}

/**
 * How many fields a complete line of each format has, counted from BYTES_RECEIVED (`bytesAt`): a line with
 * fewer was cut (a truncated write, a copy cut short) and is malformed, never a record with fields missing.
 * - istio-text ends at ROUTE_NAME (15 fields from the byte counts);
 * - istio-text-mixer ends at REQUESTED_SERVER_NAME (Istio 1.1, 1.2, and seed 002's lines: 14) or ROUTE_NAME (15);
 * - envoy-text is Envoy's default format, ending at "UPSTREAM_HOST" (9), or Istio 1.0's, which adds
 *   UPSTREAM_CLUSTER and the three addresses (13 or more): 10 to 12 fields is a cut line.
 */
function truncation(format: LogFormat, fields: number): string | undefined {
  const expected = format === 'istio-text' ? 15 : format === 'istio-text-mixer' ? 14 : fields === 9 ? 9 : 13;
  return fields < expected
    ? `line cut short: ${fields} fields from BYTES_RECEIVED on, the ${format} format has ${expected}`
    : undefined;
}

/** The byte counts and durations must be integers JavaScript holds exactly (Envoy writes unsigned 64-bit). */
function oversizedNumber(t: Token[], from: number): string | undefined {
  for (let k = from; k < from + 4; k++) {
    const text = t[k]?.text ?? '-';
    if (text !== '-' && !Number.isSafeInteger(Number(text)))
      return `field ${k + 1} (${text}) is too large for a byte count or a duration`;
  }
  return undefined;
}

const RESPONSE_CODE = /^(\d{1,3}|-)$/;

/** RESPONSE_CODE's text when the field is unquoted and up to three digits or `-`. */
function responseCodeText(code: Token | undefined): string | undefined {
  return code !== undefined && !code.quoted && RESPONSE_CODE.test(code.text) ? code.text : undefined;
}

/** RESPONSE_FLAGS, parsed when the field is there and unquoted. */
function textFlags(token: Token | undefined): FlagsResult | undefined {
  return token && !token.quoted ? parseFlagsText(token.text) : undefined;
}

/** Why the fields from BYTES_RECEIVED (`b`) on do not make a record of `format`, if they do not. */
function fieldsError(t: Token[], format: LogFormat, b: number): string | undefined {
  for (let k = 4; k <= 8; k++) {
    if (!t[b + k]?.quoted) return `field ${b + k + 1} should be quoted (X-FORWARDED-FOR .. UPSTREAM_HOST)`;
  }
  return truncation(format, t.length - b) ?? oversizedNumber(t, b);
}

/** "METHOD PATH PROTOCOL"; a path with spaces keeps them, a field of two words has no protocol. */
function setRequest(entry: AccessLogEntry, text: string): void {
  const req = text.split(' ');
  if (req.length >= 3) {
    setIfDefined(entry, 'method', dash(req[0]));
    setIfDefined(entry, 'path', dash(req.slice(1, -1).join(' ')));
    setIfDefined(entry, 'protocol', dash(req[req.length - 1]));
  } else {
    setIfDefined(entry, 'method', dash(req[0]));
    setIfDefined(entry, 'path', dash(req[1]));
  }
}

/** BYTES_RECEIVED .. UPSTREAM_HOST, from `b` on (the fields every text format has). */
function setCommonFields(entry: AccessLogEntry, t: Token[], b: number): void {
  setIfDefined(entry, 'bytesReceived', num(t[b]?.text));
  setIfDefined(entry, 'bytesSent', num(t[b + 1]?.text));
  setIfDefined(entry, 'durationMs', num(t[b + 2]?.text));
  setIfDefined(entry, 'upstreamServiceTimeMs', num(t[b + 3]?.text));
  setIfDefined(entry, 'xForwardedFor', dash(t[b + 4]?.text));
  setIfDefined(entry, 'userAgent', dash(t[b + 5]?.text));
  setIfDefined(entry, 'requestId', dash(t[b + 6]?.text));
  setIfDefined(entry, 'authority', dash(t[b + 7]?.text));
  setIfDefined(entry, 'upstreamHost', dash(t[b + 8]?.text));
}

/** UPSTREAM_CLUSTER .. ROUTE_NAME, from `b + 9` on (the fields Istio's formats add). */
function setIstioFields(entry: AccessLogEntry, t: Token[], b: number): void {
  const cluster = dash(t[b + 9]?.text);
  if (cluster) entry.upstreamCluster = parseClusterName(cluster);
  setIfDefined(entry, 'upstreamLocalAddress', dash(t[b + 10]?.text));
  setIfDefined(entry, 'downstreamLocalAddress', dash(t[b + 11]?.text));
  setIfDefined(entry, 'downstreamRemoteAddress', dash(t[b + 12]?.text));
  setIfDefined(entry, 'requestedServerName', dash(t[b + 13]?.text));
  setIfDefined(entry, 'routeName', dash(t[b + 14]?.text));
}

/** Parses one text access-log line (any of the text formats, detected per line). */
export function parseTextLine(line: string): ParseResult {
  const tok = tokenizeTextLine(line);
  if ('error' in tok) return { ok: false, reason: tok.error };
  const t = tok.tokens;
  const request = t[0];
  if (!request?.quoted) return { ok: false, reason: 'no quoted "METHOD PATH PROTOCOL" field' };
  const code = responseCodeText(t[1]);
  if (code === undefined)
    return { ok: false, reason: `response code ${JSON.stringify(t[1]?.text ?? '')} is not a number` };
  const flagsToken = t[2];
  const flags = textFlags(flagsToken);
  if (!flags?.ok)
    return { ok: false, reason: `response flags ${JSON.stringify(flagsToken?.text ?? '')} are not Envoy flags` };
  const l = layout(t);
  if ('error' in l) return { ok: false, reason: l.error };
  const b = l.bytesAt;
  const bad = fieldsError(t, l.format, b);
  if (bad) return { ok: false, reason: bad };
  const entry: AccessLogEntry = { format: l.format, responseCode: num(code) ?? 0, responseFlags: flags.flags };
  timeOf(entry, tok.time);
  setRequest(entry, request.text);
  setIfDefined(entry, 'responseCodeDetails', l.details);
  setIfDefined(entry, 'connectionTerminationDetails', l.termination);
  setIfDefined(entry, 'upstreamTransportFailureReason', l.failure);
  setCommonFields(entry, t, b);
  setIstioFields(entry, t, b);
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

function isUnset(v: unknown): boolean {
  return v === undefined || v === null || v === '-' || v === '';
}

type JsonInteger = { ok: true; value?: number } | { ok: false; reason: string };

/**
 * A JSON number, or a string of digits (Envoy's formatter writes some operators as strings), that must be an
 * integer from 0 to `max`; unset (absent, null, `-`) is no value. 503.7, 1e308, -1, "12ms" are not.
 */
function jsonInteger(o: JsonRecord, key: string, max: number, what: string): JsonInteger {
  const v = o[key];
  if (isUnset(v)) return { ok: true };
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (Number.isInteger(n) && n >= 0 && n <= max) return { ok: true, value: n };
  return { ok: false, reason: `${key} ${JSON.stringify(v)} is not ${what}` };
}

const JSON_COUNTS = [
  ['bytes_received', 'bytesReceived', 'a byte count (a non-negative integer)'],
  ['bytes_sent', 'bytesSent', 'a byte count (a non-negative integer)'],
  ['duration', 'durationMs', 'a duration in milliseconds (a non-negative integer)'],
  ['upstream_service_time', 'upstreamServiceTimeMs', 'a duration in milliseconds (a non-negative integer)'],
] as const;

/** response_code, response_flags and the byte counts and durations: checked, since a diagnosis rests on them. */
function jsonCore(o: JsonRecord): { ok: true; entry: AccessLogEntry } | { ok: false; reason: string } {
  if (isUnset(o.response_code))
    return { ok: false, reason: 'JSON object without response_code: not an access-log record' };
  const code = jsonInteger(
    o,
    'response_code',
    MAX_RESPONSE_CODE,
    `an HTTP status code (an integer from 0 to ${MAX_RESPONSE_CODE})`,
  );
  if (!code.ok) return code;
  const rawFlags = o.response_flags ?? o.response_flags_long;
  const flags = parseFlagsJson(rawFlags);
  if (!flags.ok)
    return { ok: false, reason: `response_flags ${JSON.stringify(rawFlags)} are not Envoy flags: ${flags.reason}` };
  const entry: AccessLogEntry = { format: 'json', responseCode: code.value ?? 0, responseFlags: flags.flags };
  for (const [key, field, what] of JSON_COUNTS) {
    const n = jsonInteger(o, key, Number.MAX_SAFE_INTEGER, what);
    if (!n.ok) return n;
    setIfDefined(entry, field, n.value);
  }
  return { ok: true, entry };
}

/** Parses one JSON access-log record (Istio's accessLogEncoding: JSON keys). */
export function parseJsonRecord(text: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { ok: false, reason: `invalid JSON (${(err as Error).message})` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return { ok: false, reason: 'JSON value is not an object' };
  const o = value as JsonRecord;
  const core = jsonCore(o);
  if (!core.ok) return core;
  const entry = core.entry;
  timeOf(entry, jsonString(o, 'start_time'));
  setIfDefined(entry, 'method', jsonString(o, 'method'));
  setIfDefined(entry, 'path', jsonString(o, 'path'));
  setIfDefined(entry, 'protocol', jsonString(o, 'protocol'));
  setIfDefined(entry, 'responseCodeDetails', jsonString(o, 'response_code_details'));
  setIfDefined(entry, 'connectionTerminationDetails', jsonString(o, 'connection_termination_details'));
  setIfDefined(entry, 'upstreamTransportFailureReason', jsonString(o, 'upstream_transport_failure_reason'));
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
