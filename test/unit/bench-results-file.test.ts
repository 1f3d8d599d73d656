import { describe, expect, it } from 'vitest';
import { RESULTS_TITLE, withSection } from '../../bench/results-file.js';

describe('bench/RESULTS.md sections', () => {
  const file = `${RESULTS_TITLE}\n\n## A\n\nold a\n\n## Operator at scale\n\nop\n### details\n\nmore op\n`;

  it('a benchmark replaces its own section and keeps the others, in place', () => {
    expect(withSection(file, '## A\n\nnew a\n')).toBe(
      `${RESULTS_TITLE}\n\n## A\n\nnew a\n\n## Operator at scale\n\nop\n### details\n\nmore op\n`,
    );
    expect(withSection(file, '## Operator at scale\n\nnew op')).toBe(
      `${RESULTS_TITLE}\n\n## A\n\nold a\n\n## Operator at scale\n\nnew op\n`,
    );
  });

  it('a new section is appended; an empty file gets the title first', () => {
    expect(withSection(file, '## B\nb')).toBe(`${file}\n## B\nb\n`);
    expect(withSection('', '## B\nb')).toBe(`${RESULTS_TITLE}\n\n## B\nb\n`);
  });
});
