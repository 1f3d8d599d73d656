import type { Severity } from '../rules/types.js';
import type { MessageType } from './message-type.js';
import { PARAMETERS, type ParameterName } from './parameters.js';
import { messageTypesOf, type RuleEntry } from './rule-entry.js';

const SEVERITIES: readonly Severity[] = ['error', 'warning', 'info'];

/** The severities a rule's message types have, most severe first: "error, warning". */
export function severitiesOf(types: readonly MessageType[]): string {
  return SEVERITIES.filter((s) => types.some((t) => t.severity === s)).join(', ');
}

/** A template as a reader sees it: placeholders in angle brackets. */
function shownTemplate(t: MessageType): string {
  return t.template.replace(/\{([A-Za-z][A-Za-z0-9]*)\}/g, '<$1>');
}

function parameterLine(name: ParameterName): string {
  const p = PARAMETERS[name];
  const dflt = 'default' in p && p.default !== undefined ? `default ${p.default}` : 'unset by default';
  const bounds = p.type === 'integer' ? `, ${p.minimum}–${p.maximum}` : '';
  return `\`${name}\` (${p.type}, ${dflt}${bounds}): ${p.description}`;
}

const cell = (s: string): string => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** One rule's reference section: docs, parameters, message types with severity, symptom and template. */
export function ruleMarkdown(entry: RuleEntry, extra: readonly MessageType[] = []): string {
  const types = [...messageTypesOf(entry), ...extra];
  const d = entry.docs;
  const lines = [
    `### ${entry.id} ${entry.name}`,
    '',
    entry.summary,
    '',
    `- **Symptom:** ${d.symptom}`,
    `- **Cause:** ${d.cause}`,
    `- **Fix:** ${d.fix}`,
    `- **From:** ${d.seeds.join(', ')}`,
    `- **Istio versions:** ${d.versions}`,
    ...(d.verify ? [`- **verify:** ${d.verify}`] : []),
    `- **Evaluated on:** ${entry.subjects.join(', ')}; **reads:** ${entry.reads.join(', ') || 'nothing else'}`,
    ...(entry.dataPlanes
      ? [
          `- **Client data planes:** ${entry.dataPlanes.join(', ')} (elsewhere, e.g. an ambient namespace's ztunnel, the verdict does not hold and is not reported)`,
        ]
      : []),
    ...(entry.parameters.length > 0 ? [`- **Parameters:** ${entry.parameters.map(parameterLine).join('; ')}`] : []),
    '',
    '| message type | severity | symptom | message | why this severity |',
    '| --- | --- | --- | --- | --- |',
    ...types.map(
      (t) =>
        `| ${t.name} | ${t.severity} | ${cell(t.symptom + (t.detail ? ` (${t.detail})` : ''))} | ${cell(shownTemplate(t))} | ${cell(t.certainty)} |`,
    ),
  ];
  return lines.join('\n');
}

/** `meshmedic rules`: one line per rule. */
export function rulesListText(entries: readonly RuleEntry[]): string {
  return entries.map((e) => `${e.id}  ${e.name.padEnd(34)} ${e.summary}\n`).join('');
}

/** `meshmedic rules MM107`: the rule's docs and message types, as text. */
export function ruleText(entry: RuleEntry, extra: readonly MessageType[] = []): string {
  const d = entry.docs;
  const types = [...messageTypesOf(entry), ...extra];
  return [
    `${entry.id} ${entry.name}: ${entry.summary}`,
    `  symptom:  ${d.symptom}`,
    `  cause:    ${d.cause}`,
    `  fix:      ${d.fix}`,
    `  from:     ${d.seeds.join(', ')}`,
    `  versions: ${d.versions}`,
    ...(d.verify ? [`  verify:   ${d.verify}`] : []),
    ...entry.parameters.map((p) => `  parameter ${parameterLine(p)}`),
    '  message types:',
    ...types.map((t) => `    ${t.name} (${t.severity}, ${t.symptom}): ${shownTemplate(t)}`),
    '',
  ].join('\n');
}

export const GENERATED_BEGIN = '<!-- generated from src/catalogue by `npm run docs`: do not edit by hand -->';
export const GENERATED_END = '<!-- end of generated section -->';

/** Replaces the generated section of a document (between the markers) with `body`; throws when the markers are missing. */
export function withGeneratedSection(doc: string, body: string): string {
  const a = doc.indexOf(GENERATED_BEGIN);
  const b = doc.indexOf(GENERATED_END);
  if (a < 0 || b < a) throw new Error('the generated-section markers are missing');
  return `${doc.slice(0, a + GENERATED_BEGIN.length)}\n${body}\n${doc.slice(b)}`;
}

/** The parameters table (MeshHealthPolicy spec.rules[].parameters). */
export function parametersMarkdown(): string {
  return [
    '| parameter | rules | type | default | bounds | meaning |',
    '| --- | --- | --- | --- | --- | --- |',
    ...(Object.keys(PARAMETERS) as ParameterName[]).map((n) => {
      const p = PARAMETERS[n];
      const dflt = 'default' in p && p.default !== undefined ? String(p.default) : 'unset';
      const bounds = p.type === 'integer' ? `${p.minimum}–${p.maximum}` : '> 0';
      return `| \`${n}\` | ${p.rules.join(', ')} | ${p.type} | ${dflt} | ${bounds} | ${cell(p.description)} |`;
    }),
  ].join('\n');
}
