import { escapePathComponent } from 'fast-json-patch';

/** Builds an RFC 6901 pointer from path segments ("/spec/trafficPolicy/portLevelSettings/0/tls"). */
export function pointer(...segments: (string | number)[]): string {
  return segments.map((s) => '/' + escapePathComponent(String(s))).join('');
}
