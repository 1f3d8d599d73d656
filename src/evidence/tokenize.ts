/** Splits an Envoy text access-log line into fields. Pure. */

export interface Token {
  text: string;
  /** Written as "..." in the line (Envoy quotes the fields its format string puts in quotes). */
  quoted: boolean;
}

export interface TokenizedLine {
  /** The [START_TIME] field. */
  time: string;
  tokens: Token[];
}

/** `[2022-04-18T09:29:59.633Z] "`: where the record starts (kubectl --timestamps / --prefix may come first). */
const START = /\[(\d{4}-\d\d-\d\dT[^\]\s]*)\]\s+"/;

/** True when the line holds the start of a text access-log record (after any kubectl prefix). */
export function hasTextRecordStart(line: string): boolean {
  return START.test(line);
}

/**
 * Tokenizes a text access-log line: the bracketed start time, then fields separated by spaces, where a field
 * starting with `"` runs to the next `"` that ends the field (followed by a space or the end of the line). Envoy
 * does not escape quotes inside a field (a User-Agent may contain one), so an inner `"` followed by anything but
 * a space is kept as text. Returns a reason instead when the line is not shaped like an access-log line.
 */
export function tokenizeTextLine(line: string): TokenizedLine | { error: string } {
  const m = START.exec(line);
  if (!m) return { error: 'no [START_TIME] "...' };
  const time = m[1] ?? '';
  const tokens: Token[] = [];
  let i = m.index + m[0].length - 1; // at the opening quote of the request field
  const n = line.length;
  while (i < n) {
    const c = line.charCodeAt(i);
    if (c === 32 || c === 9 || c === 13) {
      i++;
      continue;
    }
    if (c === 34) {
      let j = i + 1;
      for (;;) {
        j = line.indexOf('"', j);
        if (j < 0) return { error: `unterminated quoted field at column ${i + 1}` };
        const next = j + 1 < n ? line.charCodeAt(j + 1) : 32;
        if (next === 32 || next === 9 || next === 13) break;
        j++;
      }
      tokens.push({ text: line.slice(i + 1, j), quoted: true });
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < n) {
      const d = line.charCodeAt(j);
      if (d === 32 || d === 9 || d === 13) break;
      j++;
    }
    tokens.push({ text: line.slice(i, j), quoted: false });
    i = j;
  }
  return { time, tokens };
}
