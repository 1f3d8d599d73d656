// Writes crds/*.yaml from meshmedic's API as code (src/api/crds.ts). Run: npx tsx scripts/gen-crds.ts
// test/unit/api/crds-generated.test.ts fails when crds/ differs from what this writes.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFileName, crdYaml, MESHMEDIC_CRDS } from '../src/api/crds.js';

const dir = fileURLToPath(new URL('../crds/', import.meta.url));
for (const d of Object.values(MESHMEDIC_CRDS)) {
  const file = join(dir, crdFileName(d));
  writeFileSync(file, crdYaml(d));
  console.log(`wrote ${file}`);
}
