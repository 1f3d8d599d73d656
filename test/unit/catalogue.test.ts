import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { subjectKindsAffectedBy, SUBJECT_KINDS } from '../../src/controller/affected.js';
import { CATALOGUE, messageTypesOfRule } from '../../src/catalogue/index.js';
import { placeholdersOf } from '../../src/catalogue/message-type.js';
import { PARAMETERS } from '../../src/catalogue/parameters.js';
import { messageTypesOf } from '../../src/catalogue/rule-entry.js';
import { RULES } from '../../src/rules/registry.js';
import { cli } from './run-cli-in-process.js';

describe('the rule catalogue', () => {
  it('is the registry: every rule is a catalogue entry, in the same order', () => {
    expect(RULES.map((r) => r.id)).toEqual(CATALOGUE.map((e) => e.id));
    for (const r of RULES) expect(CATALOGUE.find((e) => e.id === r.id)?.messages).toBe(r.messages);
  });

  it('gives every message type a severity, a symptom, a template and why that severity', () => {
    for (const e of CATALOGUE) {
      const types = messageTypesOfRule(e.id);
      expect(types.length, e.id).toBeGreaterThan(0);
      expect(new Set(types.map((t) => t.name)).size, `${e.id}: message type names are unique`).toBe(types.length);
      for (const t of types) {
        expect(t.rule).toBe(e.id);
        expect(['error', 'warning', 'info']).toContain(t.severity);
        expect(t.symptom.length, `${e.id}/${t.name}`).toBeGreaterThan(0);
        expect(t.certainty.length, `${e.id}/${t.name}`).toBeGreaterThan(10);
        expect(t.template).not.toMatch(/\{[^A-Za-z]/);
      }
    }
  });

  it('names only parameters that exist, and each parameter belongs to the rules that list it', () => {
    for (const e of CATALOGUE) for (const p of e.parameters) expect(PARAMETERS[p].rules).toContain(e.id);
  });

  it('templates name the resources: every template has at least one placeholder', () => {
    for (const e of CATALOGUE)
      for (const t of messageTypesOf(e))
        expect(placeholdersOf(t.template).length, `${e.id}/${t.name}`).toBeGreaterThan(0);
  });
});

describe('no rule builds its id, severity or prose by hand', () => {
  const dir = 'src/rules';
  const ruleFiles = readdirSync(dir).filter((f) => /^mm\d{3}-.*\.ts$/.test(f));

  it.each(ruleFiles)('%s holds no rule id, severity literal or "rule:" field', (file) => {
    const text = readFileSync(`${dir}/${file}`, 'utf8');
    expect(text).not.toMatch(/['"`]MM\d{3}['"`]/);
    expect(text).not.toMatch(/severity:\s*['"]/);
    expect(text).not.toMatch(/\bmessage:\s*[`'"]/);
    expect(text).not.toMatch(/\bsymptom:\s*[`'"]/);
  });
});

describe('the controller re-evaluates what the catalogue says a change affects', () => {
  it('subject kinds are the catalogue subjects', () => {
    expect([...SUBJECT_KINDS].sort()).toEqual([...new Set(CATALOGUE.flatMap((e) => e.subjects))].sort());
  });

  it("a change to a kind a rule reads re-evaluates that rule's subjects", () => {
    for (const e of CATALOGUE)
      for (const k of e.reads)
        for (const s of e.subjects) expect(subjectKindsAffectedBy(k).has(s), `${e.id}: ${k} -> ${s}`).toBe(true);
  });

  it('a kind no rule reads or judges re-evaluates nothing', () => {
    expect([...subjectKindsAffectedBy('Lease')]).toEqual([]);
  });
});

describe('meshmedic rules', () => {
  it('lists every catalogue rule, one a line', async () => {
    const r = await cli(['rules']);
    expect(r.code).toBe(0);
    expect(
      r.out
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[0]),
    ).toEqual(CATALOGUE.map((e) => e.id));
  });

  it('shows a rule with its message types and their severities', async () => {
    const r = await cli(['rules', 'mm204']);
    expect(r.code).toBe(0);
    for (const t of messageTypesOfRule('MM204')) expect(r.out).toContain(`${t.name} (${t.severity}, ${t.symptom})`);
  });

  it('refuses an unknown rule with the known ones', async () => {
    const r = await cli(['rules', 'MM999']);
    expect(r.code).toBe(2);
    expect(r.err).toContain('unknown rule MM999');
  });
});
