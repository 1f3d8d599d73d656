import { CATALOGUE, catalogueEntry, messageTypesOfRule } from '../catalogue/index.js';
import { ruleText, rulesListText } from '../catalogue/docs.js';
import { messageTypesOf } from '../catalogue/rule-entry.js';
import type { CliIo } from './io.js';

/** `meshmedic rules [ID...]`: the catalogue, one line a rule, or a rule's docs and message types. */
export function rulesCommand(args: string[], io: CliIo): number {
  if (args.length === 0) {
    io.stdout.write(rulesListText(CATALOGUE));
    return 0;
  }
  const unknown = args.filter((id) => !catalogueEntry(id.toUpperCase()));
  if (unknown.length > 0) {
    io.stderr.write(`meshmedic: unknown rule ${unknown.join(', ')}; known: ${CATALOGUE.map((e) => e.id).join(', ')}\n`);
    return 2;
  }
  for (const id of args) {
    const entry = catalogueEntry(id.toUpperCase());
    if (!entry) continue;
    const own = new Set(messageTypesOf(entry).map((t) => t.name));
    io.stdout.write(
      ruleText(
        entry,
        messageTypesOfRule(entry.id).filter((t) => !own.has(t.name)),
      ),
    );
  }
  return 0;
}
