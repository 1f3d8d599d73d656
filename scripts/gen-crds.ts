// Writes crds/*.yaml from meshmedic's API as code (src/api/crds.ts), and the same files into the Helm
// chart's crds/ (charts/meshmedic/crds/). Run: npx tsx scripts/gen-crds.ts
// test/unit/api/crds.test.ts fails when crds/ differs from what this writes, test/unit/helm-chart.test.ts
// when the chart's copy differs from crds/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFileName, crdYaml, MESHMEDIC_CRDS } from '../src/api/crds.js';

const dirs = [
  fileURLToPath(new URL('../crds/', import.meta.url)),
  fileURLToPath(new URL('../charts/meshmedic/crds/', import.meta.url)),
];
for (const dir of dirs) {
  mkdirSync(dir, { recursive: true });
  for (const d of Object.values(MESHMEDIC_CRDS)) {
    const file = join(dir, crdFileName(d));
    writeFileSync(file, crdYaml(d));
    console.log(`wrote ${file}`);
  }
}
