// Writes docs/rules.md and README's generated Rules section from the rule catalogue (src/catalogue).
// Usage: npm run docs. test/unit/docs-generated.test.ts fails when either is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { withGeneratedSection } from '../src/catalogue/docs.js';
import { readmeRulesSection, rulesReference } from '../src/catalogue/reference.js';

mkdirSync('docs', { recursive: true });
writeFileSync('docs/rules.md', rulesReference());
writeFileSync('README.md', withGeneratedSection(readFileSync('README.md', 'utf8'), readmeRulesSection()));
console.log('wrote docs/rules.md and README.md (Rules section)');
