// Writes docs/rules.md, README's generated Rules section and docs/explain.md's symptom table from the rule catalogue (src/catalogue).
// Usage: npm run docs. test/unit/docs-generated.test.ts fails when either is stale.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { withGeneratedSection } from '../src/catalogue/docs.js';
import { symptomTableMarkdown } from '../src/catalogue/log-symptoms.js';
import { readmeRulesSection, rulesReference } from '../src/catalogue/reference.js';

mkdirSync('docs', { recursive: true });
writeFileSync('docs/rules.md', rulesReference());
writeFileSync('README.md', withGeneratedSection(readFileSync('README.md', 'utf8'), readmeRulesSection()));
writeFileSync('docs/explain.md', withGeneratedSection(readFileSync('docs/explain.md', 'utf8'), symptomTableMarkdown()));
console.log('wrote docs/rules.md, README.md (Rules section) and docs/explain.md (symptom table)');
