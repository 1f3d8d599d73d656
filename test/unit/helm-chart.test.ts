// charts/meshmedic read as files (no helm binary needed; test/integration/helm-chart.test.ts renders and
// installs it): its CRDs are crds/ byte for byte, it installs the release of this package, and every value
// it has is documented in docs/operator.md's "Install with Helm" table.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { crdFileName, crdYaml, MESHMEDIC_CRDS } from '../../src/api/crds.js';

const ROOT = join(import.meta.dirname, '..', '..');
const CHART = join(ROOT, 'charts', 'meshmedic');
const yamlIn = (dir: string): string[] =>
  readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort();

/** Dotted paths of the values a user sets; maps such as resources or a selector count as one value. */
function leaves(o: Record<string, unknown>, prefix = ''): string[] {
  const WHOLE = new Set(['resources', 'policy.namespaceSelector']);
  return Object.entries(o).flatMap(([k, v]) => {
    const path = prefix + k;
    const isMap = typeof v === 'object' && v !== null && !Array.isArray(v) && Object.keys(v).length > 0;
    return isMap && !WHOLE.has(path) ? leaves(v as Record<string, unknown>, `${path}.`) : [path];
  });
}

describe('charts/meshmedic', () => {
  it('holds the CRDs of crds/, byte-identical (scripts/gen-crds.ts writes both)', () => {
    const files = Object.values(MESHMEDIC_CRDS).map(crdFileName).sort();
    expect(yamlIn(join(CHART, 'crds'))).toEqual(files);
    expect(yamlIn(join(ROOT, 'crds'))).toEqual(files);
    for (const d of Object.values(MESHMEDIC_CRDS)) {
      const chartCopy = readFileSync(join(CHART, 'crds', crdFileName(d)), 'utf8');
      expect(chartCopy, `charts/meshmedic/crds/${crdFileName(d)} (run npx tsx scripts/gen-crds.ts)`).toBe(
        readFileSync(join(ROOT, 'crds', crdFileName(d)), 'utf8'),
      );
      expect(chartCopy).toBe(crdYaml(d));
    }
  });

  it('installs this release of meshmedic, from the image deploy/ runs', () => {
    const chart = load(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as {
      apiVersion: string;
      name: string;
      appVersion: string;
      version: string;
    };
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(chart).toMatchObject({ apiVersion: 'v2', name: 'meshmedic', appVersion: pkg.version });
    const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      image: { repository: string; tag: string };
      replicaCount: number;
    };
    expect(`${values.image.repository}:${values.image.tag || chart.appVersion}`).toBe('meshmedic:0.1.0');
    expect(values.replicaCount).toBe(2);
  });

  it('documents every value in docs/operator.md#install-with-helm', () => {
    const values = load(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as Record<string, unknown>;
    const docs = readFileSync(join(ROOT, 'docs', 'operator.md'), 'utf8');
    const section = docs.slice(docs.indexOf('## Install with Helm'));
    expect(section.length, 'an "Install with Helm" section').toBeGreaterThan(100);
    const table = section.slice(0, section.indexOf('\n## ', 5) > 0 ? section.indexOf('\n## ', 5) : undefined);
    const missing = leaves(values).filter((p) => !table.includes(`| \`${p}\``));
    expect(missing).toEqual([]);
  });
});
