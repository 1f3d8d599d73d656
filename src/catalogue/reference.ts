import { parametersMarkdown, ruleMarkdown } from './docs.js';
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

/** The rule families, by the hundreds digit of their ids. */
const FAMILIES: readonly (readonly [prefix: string, title: string])[] = [
  ['MM1', "The seeds' failure modes"],
  ['MM2', 'Istio routing, gateways, workloads and duplicates'],
  ['MM3', 'Kubernetes Gateway API'],
  ['MM4', 'Ambient'],
];

/**
 * The generated part of README's Rules section: the rule ids and names by family, one line each (README is
 * a front page; what each rule finds is in `meshmedic rules` and docs/rules.md).
 */
export function readmeRulesSection(): string {
  const families = FAMILIES.map(([prefix, title]) => {
    const ids = CATALOGUE.filter((e) => e.id.startsWith(prefix)).map((e) => `\`${e.id}\` ${e.name}`);
    return ids.length ? `- **${title}:** ${ids.join(', ')}` : undefined;
  }).filter((line) => line !== undefined);
  const uncounted = CATALOGUE.filter((e) => !FAMILIES.some(([prefix]) => e.id.startsWith(prefix)));
  return [
    ...families,
    ...(uncounted.length ? [`- **Other:** ${uncounted.map((e) => `\`${e.id}\` ${e.name}`).join(', ')}`] : []),
    '',
    'Severity follows certainty: **error** only when the failure is certain (and `meshmedic verify` confirms it',
    'where the oracle can express it), **warning** for a risk that depends on what meshmedic cannot see, **info**',
    'for hygiene. See [docs/rules.md](docs/rules.md#severity-discipline) for the discipline, the parameters a',
    'MeshHealthPolicy can set, and every message type.',
  ].join('\n');
}
