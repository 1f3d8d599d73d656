import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, stat, chmod, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { applyPatch, parsePatch } from 'diff';
import { afterEach, describe, expect, it } from 'vitest';
import { loadMesh } from '../../../src/analysis/load-mesh.js';
import { planInPlace } from '../../../src/fix/write-in-place.js';
import type { FixedPointResult } from '../../../src/fix/fixed-point.js';
import type { Finding } from '../../../src/rules/types.js';
import { cli } from '../run-cli-in-process.js';

const roots: string[] = [];
afterEach(async () => {
  for (const r of roots.splice(0)) await rm(r, { recursive: true, force: true });
});

async function tempCopyOfExamples(): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'meshmedic-write-'));
  roots.push(root);
  await cp('examples', join(root, 'examples'), { recursive: true });
  return root;
}

async function tempDir(files: Record<string, string>): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'meshmedic-write-'));
  roots.push(root);
  for (const [name, text] of Object.entries(files)) {
    await mkdir(join(root, name, '..'), { recursive: true });
    await writeFile(join(root, name), text);
  }
  return root;
}

/** Every file under `dir`, by path relative to it, with its bytes. */
async function snapshot(dir: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else out.set(relative(dir, p), await readFile(p, 'utf8'));
    }
  };
  await walk(dir);
  return out;
}

/** Lines of `before` missing from `after`, and lines of `after` not in `before`, as multisets in order. */
function lineChanges(before: string, after: string): { removed: string[]; added: string[] } {
  const count = (lines: string[]): Map<string, number> =>
    lines.reduce((m, l) => m.set(l, (m.get(l) ?? 0) + 1), new Map<string, number>());
  const b = before.split('\n');
  const a = after.split('\n');
  const cb = count(b);
  const ca = count(a);
  return {
    removed: b.filter((l) => (ca.get(l) ?? 0) < (cb.get(l) ?? 0)),
    added: a.filter((l) => (cb.get(l) ?? 0) < (ca.get(l) ?? 0)),
  };
}

const DR_DISABLE = `apiVersion: v1
kind: Namespace
metadata:
  name: foo
  labels:
    istio-injection: enabled
---
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: default
  namespace: foo
spec:
  mtls:
    mode: STRICT
---
apiVersion: v1
kind: Service
metadata: {name: a, namespace: foo}
spec: {selector: {app: a}, ports: [{name: http, port: 80}]}
`;

const DR_A = `# keep me
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: a
  namespace: foo
spec:
  host: a   # the service
  trafficPolicy:
    tls:
      mode: DISABLE
`;

/**
 * The CLI on each example of a copy of examples/, one mesh each (as npm start runs them: example 001's mesh
 * config, auto mTLS off, is mesh-wide and would reach the others if they were read as one mesh).
 */
async function perExample(examples: string, args: string[]): Promise<{ out: string; err: string; code: number }> {
  const runs = [];
  for (const ex of (await readdir(examples)).sort()) runs.push(await cli(['analyze', join(examples, ex), ...args]));
  return {
    out: runs.map((r) => r.out).join(''),
    err: runs.map((r) => r.err).join(''),
    code: Math.max(...runs.map((r) => r.code)),
  };
}

describe('analyze --fix --write', () => {
  it('edits a copy of examples/ in place: comments and untouched lines byte-identical, the error findings gone', async () => {
    const root = await tempCopyOfExamples();
    const dir = join(root, 'examples');
    const before = await snapshot(dir);
    expect((await perExample(dir, ['-o', 'json'])).code).toBe(1); // error findings

    const r = await perExample(dir, ['--fix', '--write']);
    expect(r.err).toMatch(/wrote .*001-dr-overrides-mtls\/mesh\.yaml/);
    expect(r.err).toMatch(/created .*000-gateway-external-sni\/mesh\.meshmedic\.yaml/);
    expect(r.err).toMatch(/fixed \d+; 0 remain/);
    expect(r.err).not.toMatch(/[1-9]\d* remain/);
    expect(r.code).toBe(0);
    expect(r.out).toBe('');

    const after = await snapshot(dir);
    for (const [file, text] of before) {
      const now = after.get(file) as string;
      const { removed, added } = lineChanges(text, now);
      // every comment line stays; a removed line is a fixed field's line, and the new text holds the rest in order
      expect(removed.filter((l) => l.trimStart().startsWith('#'))).toEqual([]);
      expect(removed.every((l) => /^\s*-? ?(timeout|consecutiveErrors|maxEjectionPercent):/.test(l))).toBe(true);
      expect(added.filter((l) => l.includes('#'))).toEqual([]);
      const kept = text.split('\n').filter((l) => !removed.includes(l));
      const nowLines = now.split('\n');
      let k = 0;
      for (const l of nowLines) if (l === kept[k]) k++;
      expect(k).toBe(kept.length);
    }
    expect(
      lineChanges(
        before.get('001-dr-overrides-mtls/mesh.yaml') as string,
        after.get('001-dr-overrides-mtls/mesh.yaml') as string,
      ),
    ).toEqual({
      removed: ['      consecutiveErrors: 1', '      maxEjectionPercent: 100'],
      // No MM106 idleTimeout: example 002's policy (keepAliveIdleTimeout) covers only its own namespace.
      added: ['      consecutive5xxErrors: 1', '      maxEjectionPercent: 50', '    tls:', '      mode: ISTIO_MUTUAL'],
    });
    expect([...after.keys()].filter((f) => !before.has(f)).sort()).toEqual([
      '000-gateway-external-sni/mesh.meshmedic.yaml',
      '001-dr-overrides-mtls/mesh.meshmedic.yaml',
      '002-external-passthrough-timeouts/mesh.meshmedic.yaml',
    ]);

    expect((await perExample(dir, ['-o', 'json'])).code).toBe(0); // no error finding left

    // a second run changes nothing, and says so
    const second = await perExample(dir, ['--fix', '--write']);
    expect(second.err).toContain('nothing to change');
    expect(second.code).toBe(r.code);
    expect(await snapshot(dir)).toEqual(after);
  });

  it('--diff prints what --write writes: applied with jsdiff or patch -p0 it gives the same bytes', async () => {
    const written = await tempCopyOfExamples();
    const diffed = await tempCopyOfExamples();
    const original = await snapshot(join(diffed, 'examples'));
    await perExample(join(written, 'examples'), ['--fix', '--write']);
    const d = await perExample(join(diffed, 'examples'), ['--fix', '--diff']);
    expect(d.code).toBe(0);
    expect(await snapshot(join(diffed, 'examples'))).toEqual(original); // --diff writes nothing
    const want = await snapshot(join(written, 'examples'));

    // as if run from the copy's root: the paths in the diff are relative to it
    const patchText = d.out.split(`${diffed}/`).join('');
    const viaJsdiff = new Map(original);
    for (const p of parsePatch(patchText)) {
      const file = (p.newFileName ?? '').replace(/^examples\//, '');
      const result = applyPatch(p.oldFileName === '/dev/null' ? '' : (viaJsdiff.get(file) ?? ''), p);
      expect(result).not.toBe(false);
      viaJsdiff.set(file, result as string);
    }
    expect(viaJsdiff).toEqual(want);

    if (existsSync('/usr/bin/patch')) {
      const r = spawnSync('/usr/bin/patch', ['-p0', '--batch', '--silent'], {
        cwd: diffed,
        input: patchText,
        encoding: 'utf8',
      });
      expect(r.status, r.stderr + r.stdout).toBe(0);
      expect(await snapshot(join(diffed, 'examples'))).toEqual(want);
    }
  });

  it('never writes a file with a YAML error (the other files are written), and exits 1', async () => {
    const bad = DR_A + '---\nkind: [\n';
    const root = await tempDir({
      'ns.yaml': DR_DISABLE,
      'bad.yaml': bad,
      'good.yaml': DR_A.replace(/\ba\b/g, 'b') + '',
    });
    await writeFile(
      join(root, 'ns.yaml'),
      DR_DISABLE + DR_DISABLE.split('---\n')[2]?.replace(/\ba\b/g, 'b').replace(/^/, '---\n'),
    );
    const r = await cli(['analyze', root, '--fix', '--write']);
    expect(r.err).toMatch(/bad\.yaml: not written: the file did not read cleanly \(line \d+: invalid YAML/);
    expect(await readFile(join(root, 'bad.yaml'), 'utf8')).toBe(bad);
    expect(await readFile(join(root, 'good.yaml'), 'utf8')).toContain('      mode: ISTIO_MUTUAL\n');
    expect(r.code).toBe(1);
  });

  it('never writes a file whose document uses YAML aliases', async () => {
    const aliased = DR_A.replace(
      '    tls:\n      mode: DISABLE\n',
      '    tls: &tls\n      mode: DISABLE\n  other: *tls\n',
    );
    const root = await tempDir({ 'ns.yaml': DR_DISABLE, 'a.yaml': aliased });
    const r = await cli(['analyze', root, '--fix', '--write']);
    expect(r.err).toMatch(/a\.yaml: not written: it uses YAML aliases/);
    expect(await readFile(join(root, 'a.yaml'), 'utf8')).toBe(aliased);
    expect(r.code).toBe(1);
  });

  it('keeps the file mode, and refuses stdin', async () => {
    const root = await tempDir({ 'ns.yaml': DR_DISABLE, 'a.yaml': DR_A });
    await chmod(join(root, 'a.yaml'), 0o600);
    await cli(['analyze', root, '--fix', '--write']);
    expect((await stat(join(root, 'a.yaml'))).mode & 0o777).toBe(0o600);
    expect(await readdir(root)).toEqual(['a.yaml', 'ns.yaml']); // no temporary file left
    const s = await cli(['analyze', '-', '--fix', '--write'], DR_A);
    expect(s.code).toBe(2);
    expect(s.err).toContain('stdin (-) cannot be written back');
  });

  it('a file named alone: the objects it creates go beside it, and the next run reads them', async () => {
    const root = await tempCopyOfExamples();
    const file = join(root, 'examples/000-gateway-external-sni/mesh.yaml');
    const first = await cli(['analyze', file, '--fix', '--write']);
    expect(first.err).toContain(`created ${join(root, 'examples/000-gateway-external-sni/mesh.meshmedic.yaml')}`);
    const created = await readFile(join(root, 'examples/000-gateway-external-sni/mesh.meshmedic.yaml'), 'utf8');
    expect(created).toMatch(/^# Created by meshmedic analyze --fix --write/);
    const second = await cli(['analyze', file, '--fix', '--write']);
    expect(second.err).toContain('also reading');
    expect(second.err).toContain('nothing to change');
    expect(second.code).toBe(first.code);
  });

  it('JSON: edited when laid out as JSON.stringify writes it, refused otherwise', async () => {
    const value =
      JSON.stringify(
        {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'a', namespace: 'foo' },
          spec: { host: 'a', trafficPolicy: { tls: { mode: 'DISABLE' } } },
        },
        null,
        4,
      ) + '\n';
    const root = await tempDir({ 'ns.yaml': DR_DISABLE, 'a.json': value });
    await cli(['analyze', root, '--fix', '--write']);
    expect(await readFile(join(root, 'a.json'), 'utf8')).toBe(value.replace('"DISABLE"', '"ISTIO_MUTUAL"'));

    const compact = value.replace(/\n\s*/g, ' ');
    await writeFile(join(root, 'a.json'), compact);
    const r = await cli(['analyze', root, '--fix', '--write']);
    expect(r.err).toContain('a JSON file not laid out as JSON.stringify writes it');
    expect(await readFile(join(root, 'a.json'), 'utf8')).toBe(compact);
    expect(r.code).toBe(1);
  });

  it('an object defined through a kustomize patch: says which files hold it, edits neither', async () => {
    const patch =
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: a\n  namespace: foo\nspec:\n  host: a\n  trafficPolicy:\n    tls:\n      mode: DISABLE\n';
    const kustomization = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
    const root = await tempDir({
      'base/ns.yaml': DR_DISABLE,
      'base/dr.yaml': DR_A.replace('mode: DISABLE', 'mode: ISTIO_MUTUAL'),
      'base/kustomization.yaml': kustomization + 'resources:\n- ns.yaml\n- dr.yaml\n',
      'overlay/kustomization.yaml': kustomization + 'resources:\n- ../base\npatches:\n- path: dr-patch.yaml\n',
      'overlay/dr-patch.yaml': patch,
    });
    const r = await cli(['analyze', root, '--fix', '--write']);
    expect(r.err).toMatch(
      /dr-patch\.yaml: not written: this file is a kustomize patch listed by .*overlay\/kustomization\.yaml/,
    );
    expect(await readFile(join(root, 'overlay/dr-patch.yaml'), 'utf8')).toBe(patch);
    expect(r.code).toBe(1);
  });

  it('an object in a base that a kustomize overlay patches: names both files, edits neither', async () => {
    // a strategic-merge patch without spec.host is skipped by the reader, so the finding is on the base
    const patch =
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata:\n  name: a\n  namespace: foo\nspec:\n  trafficPolicy:\n    connectionPool:\n      tcp:\n        maxConnections: 10\n';
    const kustomization = 'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n';
    const root = await tempDir({
      'base/ns.yaml': DR_DISABLE,
      'base/dr.yaml': DR_A,
      'base/kustomization.yaml': kustomization + 'resources:\n- ns.yaml\n- dr.yaml\n',
      'overlay/kustomization.yaml': kustomization + 'resources:\n- ../base\npatchesStrategicMerge:\n- dr-patch.yaml\n',
      'overlay/dr-patch.yaml': patch,
    });
    const r = await cli(['analyze', root, '--fix', '--write']);
    expect(r.err).toMatch(
      /base\/dr\.yaml: not written: DestinationRule foo\/a is defined in .*base\/dr\.yaml and patched by .*overlay\/dr-patch\.yaml \(a patch listed by .*overlay\/kustomization\.yaml\)/,
    );
    expect(await readFile(join(root, 'base/dr.yaml'), 'utf8')).toBe(DR_A);
    expect(r.code).toBe(1);
  });

  it('a test operation that fails on the file’s text leaves the file as it is, and says what it found', async () => {
    const root = await tempDir({ 'a.yaml': DR_A });
    const mesh = await loadMesh([join(root, 'a.yaml')]);
    const target = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'foo', name: 'a' };
    const patch = {
      target,
      patch: [
        { op: 'test' as const, path: '/spec/trafficPolicy/tls/mode', value: 'SIMPLE' },
        { op: 'replace' as const, path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' },
      ],
    };
    const finding = {
      rule: 'MM101',
      messageType: 'X',
      severity: 'error',
      resource: target,
      related: [],
      message: '',
      symptom: '',
      fix: { patches: [patch], create: [] },
    } as Finding;
    const fixed: FixedPointResult = {
      objects: mesh.inputs.map((i) => i.object),
      created: [],
      changed: new Set(['DestinationRule/foo/a']),
      failures: [],
      passes: 1,
      converged: true,
      conflicts: [],
      applied: [{ pass: 1, finding, patch }],
    };
    const plan = await planInPlace(mesh.inputs, mesh.diagnostics, fixed);
    expect(plan.changes).toEqual([]);
    expect(plan.refused[0]?.message).toMatch(
      /the fix of MM101 to DestinationRule foo\/a cannot be applied to the file: test failed: \/spec\/trafficPolicy\/tls\/mode is "DISABLE", the fix expected "SIMPLE"/,
    );
  });

  it('usage: --write with -o, with --diff, or on stdin is refused', async () => {
    expect((await cli(['analyze', 'examples', '--write', '-o', 'json'])).code).toBe(2);
    expect((await cli(['analyze', 'examples', '--write', '--diff'])).code).toBe(2);
    expect((await cli(['analyze', '-', '--diff'], DR_A)).err).toContain('stdin (-) cannot be written back');
  });

  it('a created file beside a kustomization: says to list it in the kustomization’s resources', async () => {
    const root = await tempDir({
      'mesh.yaml': await readFile('examples/000-gateway-external-sni/mesh.yaml', 'utf8'),
      'kustomization.yaml':
        'apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n- mesh.yaml\n',
    });
    const r = await cli(['analyze', root, '--fix', '--write']);
    expect(r.err).toContain(
      `created ${join(root, 'mesh.meshmedic.yaml')} (1 object created by the fixes): add mesh.meshmedic.yaml to the resources of ${join(root, 'kustomization.yaml')}`,
    );
  });
});
