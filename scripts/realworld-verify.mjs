#!/usr/bin/env node
/* global console, process */
// Judges meshmedic's findings on the public corpus in ../shared/realworld with `meshmedic verify`
// (Istio's own config generator). Reads the corpus in place; nothing of it is copied into the project.
// Usage, from the project root after npm install and npm run oracle:build:
//   node scripts/realworld-verify.mjs [FILTER]      (FILTER: a substring of set names)
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const corpus = join(process.cwd(), '..', 'shared', 'realworld');
if (!existsSync(join(corpus, 'sets.json'))) {
  console.error(`no corpus at ${corpus}`);
  process.exit(2);
}
const { sets } = JSON.parse(readFileSync(join(corpus, 'sets.json'), 'utf8'));
const filter = process.argv[2] ?? '';
const tally = { confirmed: 0, refuted: 0, inexpressible: 0, fixBreaks: 0, sets: 0, errorsUnconfirmed: 0 };
const run = (args) => {
  try {
    return execFileSync(process.execPath, ['dist/cli/main.js', ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
      maxBuffer: 1 << 28,
    });
  } catch (err) {
    return err.stdout;
  }
};
for (const s of sets.filter((x) => x.name.includes(filter))) {
  const inputs = s.inputs.map((i) => join(corpus, i));
  // The oracle only for the sets meshmedic has something to say about.
  const analyzed = JSON.parse(run(['analyze', '-o', 'json', ...s.flags, ...inputs]) || '{"findings":[]}');
  if (!analyzed.findings?.length) continue;
  let out;
  out = run(['verify', '-o', 'json', ...s.flags, ...inputs]);
  let r;
  try {
    r = JSON.parse(out);
  } catch {
    console.log(`${s.name}: no JSON output`);
    continue;
  }
  tally.sets++;
  if (!r.verdicts.length && !r.rejected.length) continue;
  console.log(`== ${s.name}`);
  for (const n of r.rejected)
    console.log(
      `  rejected by Istio's validation: ${n.kind} ${n.namespace ?? ''}/${n.name}: ${n.message.slice(0, 140)}`,
    );
  for (const v of r.verdicts) {
    tally[v.verdict]++;
    if (v.fix === 'fix-breaks') tally.fixBreaks++;
    if (v.severity === 'error' && v.verdict !== 'confirmed') tally.errorsUnconfirmed++;
    console.log(
      `  ${v.verdict.padEnd(13)} ${v.rule} ${v.severity} ${v.resource.kind} ${v.resource.namespace ?? ''}/${v.resource.name} fix:${v.fix}`,
    );
    console.log(`      ${v.evidence.slice(0, 260)}`);
    if (v.fixEvidence) console.log(`      fix: ${v.fixEvidence.slice(0, 260)}`);
  }
}
console.log(
  `realworld verify: ${tally.sets} sets; ${tally.confirmed} confirmed, ${tally.refuted} refuted, ${tally.inexpressible} inexpressible; ${tally.fixBreaks} fixes break; ${tally.errorsUnconfirmed} errors not confirmed`,
);
