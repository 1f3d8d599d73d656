import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/** The text outside fenced code blocks, line by line (a `# comment` in a sh block is no heading). */
function proseLines(markdown: string): string[] {
  let fenced = false;
  return markdown.split('\n').filter((line) => {
    if (/^\s*```/.test(line)) {
      fenced = !fenced;
      return false;
    }
    return !fenced;
  });
}

/** GitHub's heading anchor: lower case, punctuation dropped, spaces to hyphens; repeats get -1, -2, ... */
function anchorsOf(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const line of proseLines(markdown)) {
    const m = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line);
    if (!m?.[1]) continue;
    const text = m[1].replace(/\[([^\]]*)\]\([^)]*\)/g, '$1');
    const base = text
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

/** Relative link targets of a document (outside code): `path`, `path#anchor` or `#anchor`. */
function relativeLinks(markdown: string): string[] {
  const prose = proseLines(markdown)
    .join('\n')
    .replace(/`[^`\n]*`/g, '');
  return [...prose.matchAll(/\]\(([^)\s]+)\)/g)]
    .map((m) => m[1] as string)
    .filter((t) => !/^[a-z][a-z0-9+.-]*:/i.test(t));
}

/** Why a link of `from` does not resolve (undefined when it does); `read` gives a file's text or undefined. */
function brokenLink(from: string, target: string, read: (path: string) => string | undefined): string | undefined {
  const [path = '', anchor] = target.split('#', 2);
  const file = path === '' ? from : normalize(join(dirname(from), path));
  const text = read(file);
  if (text === undefined) return `${from}: ${target}: no file ${file}`;
  if (anchor === undefined || anchor === '') return undefined;
  return anchorsOf(text).has(anchor) ? undefined : `${from}: ${target}: no heading with anchor #${anchor} in ${file}`;
}

function brokenLinks(files: string[], read: (path: string) => string | undefined): string[] {
  return files.flatMap((f) => relativeLinks(read(f) ?? '').flatMap((t) => brokenLink(f, t, read) ?? []));
}

const readRepoFile = (path: string): string | undefined => (existsSync(path) ? readFileSync(path, 'utf8') : undefined);
const DOCS = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .map((f) => join('docs', f)),
];

describe('links in README.md and docs/', () => {
  it('every relative link and anchor resolves', () => {
    expect(brokenLinks(DOCS, readRepoFile)).toEqual([]);
  });

  it('README links each page of docs/', () => {
    const readme = relativeLinks(readFileSync('README.md', 'utf8'));
    for (const page of DOCS.filter((f) => f !== 'README.md')) expect(readme, page).toContain(page);
  });
});

describe('the link checker', () => {
  const pages: Record<string, string> = {
    'README.md': '# Top\n\n## Output contract (`-o json`)\n\n## RBAC\n\n## RBAC\n\n```sh\n# 1. not a heading\n```\n',
    'docs/a.md':
      '# A page\n\nSee [the contract](../README.md#output-contract--o-json), [RBAC](../README.md#rbac-1), [top](#a-page).\n',
  };
  const read = (path: string): string | undefined => pages[path];

  it('accepts links to files and to GitHub heading anchors, repeats included', () => {
    expect(brokenLinks(['docs/a.md'], read)).toEqual([]);
  });

  it('reports a missing file, a missing anchor, and a heading inside a code block', () => {
    const broken = (link: string): string[] =>
      brokenLinks(['docs/b.md'], (p) => (p === 'docs/b.md' ? `[x](${link})` : read(p)));
    expect(broken('../docs/missing.md')).toHaveLength(1);
    expect(broken('../README.md#rbac-2')).toHaveLength(1);
    expect(broken('../README.md#1-not-a-heading')).toHaveLength(1);
  });

  it('ignores links in code and absolute URLs', () => {
    expect(relativeLinks('`[x](nowhere.md)`\n```\n[y](nowhere.md)\n```\n[z](https://istio.io/x)')).toEqual([]);
  });
});
