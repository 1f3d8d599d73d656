/** Protobuf/Go duration strings as Istio accepts them ("1.5s", "300ms", "1h30m") to milliseconds. */
const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };

export function parseDurationMs(text: string): number | undefined {
  const re = /([0-9]+(?:\.[0-9]+)?)(h|ms|m|s|us|µs|ns)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(text)) !== null) {
    total += Number(m[1]) * (UNIT_MS[m[2] as string] ?? 0);
    matched = re.lastIndex;
  }
  return matched === text.length && text.length > 0 ? total : undefined;
}

export function formatDurationMs(ms: number): string {
  if (ms % 1000 === 0) return `${ms / 1000}s`;
  return `${ms}ms`;
}
