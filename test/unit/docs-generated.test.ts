import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { withGeneratedSection } from '../../src/catalogue/docs.js';
import { symptomTableMarkdown } from '../../src/catalogue/log-symptoms.js';
import { readmeRulesSection, rulesReference } from '../../src/catalogue/reference.js';

describe('the rule reference is generated from the catalogue', () => {
  it('docs/rules.md is current (npm run docs)', () => {
    expect(readFileSync('docs/rules.md', 'utf8')).toBe(rulesReference());
  });

  it("README's Rules section is current (npm run docs)", () => {
    const readme = readFileSync('README.md', 'utf8');
    expect(withGeneratedSection(readme, readmeRulesSection())).toBe(readme);
  });

  it('README stays a front page (at most 12 KB), whatever the catalogue grows to', () => {
    expect(Buffer.byteLength(readFileSync('README.md', 'utf8'))).toBeLessThanOrEqual(12 * 1024);
  });

  it("docs/explain.md's symptom table is the catalogue's log-symptom table (npm run docs)", () => {
    const doc = readFileSync('docs/explain.md', 'utf8');
    expect(withGeneratedSection(doc, symptomTableMarkdown())).toBe(doc);
  });
});
