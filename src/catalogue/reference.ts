import { parametersMarkdown, ruleMarkdown, rulesTableMarkdown } from './docs.js';
import { CATALOGUE, messageTypesOfRule } from './index.js';
import { messageTypesOf, type RuleEntry } from './rule-entry.js';

const SEVERITY_DISCIPLINE = [
  'Severity is fixed per message type and follows certainty:',
  '',
  "- **error**: the failure is certain for the Istio version judged (`--istio-version`, or istiod's in the cluster), and `meshmedic verify` confirms it where the oracle can express it. A finding that rests on an object being absent is an error only when the snapshot is the whole mesh: the operator's cache, or `analyze --complete`.",
  '- **warning**: a risk: the failure depends on what meshmedic cannot see (traffic, timing, objects applied from elsewhere) or is latent.',
  '- **info**: hygiene: nothing fails.',
].join('\n');

function extraTypes(e: RuleEntry): ReturnType<typeof messageTypesOfRule> {
  const own = new Set(messageTypesOf(e).map((t) => t.name));
  return messageTypesOfRule(e.id).filter((t) => !own.has(t.name));
}

/** docs/rules.md, whole. */
export function rulesReference(): string {
  return [
    '# meshmedic rules',
    '',
    'Generated from the rule catalogue (`src/catalogue/`) by `npm run docs`; a unit test fails when this file is stale.',
    'Rule ids and message types are stable: tests and tooling key on them (`-o json` findings carry `rule` and `messageType`).',
    '',
    '## Severity discipline',
    '',
    SEVERITY_DISCIPLINE,
    '',
    '## Rule parameters (MeshHealthPolicy `spec.rules[].parameters`)',
    '',
    parametersMarkdown(),
    '',
    '`spec.rules[].enabled: false` turns a rule off.',
    '',
    '## Rules',
    '',
    ...CATALOGUE.flatMap((e) => [ruleMarkdown(e, extraTypes(e)), '']),
  ].join('\n');
}

/** The generated part of README's Rules section. */
export function readmeRulesSection(): string {
  return [
    rulesTableMarkdown(CATALOGUE, (id) => messageTypesOfRule(id)),
    '',
    SEVERITY_DISCIPLINE,
    '',
    'Rule parameters (MeshHealthPolicy `spec.rules[].parameters`):',
    '',
    parametersMarkdown(),
  ].join('\n');
}
