// bench/RESULTS.md holds one section per benchmark ("## " headings): each benchmark rewrites its own
// section and keeps the others (npm run bench and npm run bench:operator write different ones).
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

export const RESULTS_TITLE = '# meshmedic benchmark results';

/** The text with `section` (which starts with its "## " heading line) in place of the old one, or appended. */
export function withSection(text: string, section: string): string {
  const heading = section.split('\n', 1)[0] ?? section;
  const body = `${section.trimEnd()}\n`;
  const base = text.trim() === '' ? `${RESULTS_TITLE}\n` : text;
  const start = base.startsWith(`${heading}\n`) ? 0 : afterNewline(base.indexOf(`\n${heading}\n`));
  if (start < 0) return `${base.trimEnd()}\n\n${body}`;
  const next = base.indexOf('\n## ', start + heading.length);
  return `${base.slice(0, start)}${body}${next < 0 ? '' : `\n${base.slice(next + 1)}`}`;
}

function afterNewline(at: number): number {
  return at < 0 ? -1 : at + 1;
}

export function writeSection(file: string, section: string): void {
  writeFileSync(file, withSection(existsSync(file) ? readFileSync(file, 'utf8') : '', section));
}
