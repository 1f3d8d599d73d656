import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { cli } from './run-cli-in-process.js';
import { load, loadAll } from 'js-yaml';

interface Contract {
  findings: {
    rule: string;
    severity: string;
    resource: { apiVersion: string; kind: string; namespace: string; name: string };
    message: string;
    fix: { patches: { target: object; patch: { op: string; path: string }[] }[]; create: object[] };
  }[];
}

describe('meshmedic analyze', () => {
  it('prints the JSON contract and exits 1 on error findings', async () => {
    const { code, out } = await cli(['analyze', 'examples/001-dr-overrides-mtls', '-o', 'json']);
    expect(code).toBe(1);
    const doc = JSON.parse(out) as Contract;
    const mm101 = doc.findings.find((f) => f.rule === 'MM101');
    expect(mm101?.severity).toBe('error');
    expect(mm101?.resource).toEqual({
      apiVersion: 'networking.istio.io/v1alpha3',
      kind: 'DestinationRule',
      namespace: 'foo',
      name: 'httpbin',
    });
    expect(mm101?.fix.patches[0]?.patch).toEqual([
      { op: 'add', path: '/spec/trafficPolicy/tls', value: { mode: 'ISTIO_MUTUAL' } },
    ]);
    expect(mm101?.fix.create).toEqual([]);
  });

  it('exits 0 on a clean mesh and on warnings only', async () => {
    expect((await cli(['analyze', 'examples/clean-mesh'])).code).toBe(0);
    const warn = await cli(['analyze', 'examples/004-tls-alias-serviceentry-sidecar', '-o', 'yaml']);
    expect(warn.code).toBe(0);
    expect((load(warn.out) as Contract).findings.map((f) => f.rule).sort()).toEqual(['MM103', 'MM108']);
  });

  it('exits 2 when nothing usable can be read, naming the problem', async () => {
    const r = await cli(['analyze', '-'], 'this: [is not\n');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/<stdin>:[12]: invalid YAML/);
    expect((await cli(['analyze', 'no/such/dir'])).code).toBe(2);
    expect((await cli(['analyze', 'examples', '--rules', 'MM999'])).err).toContain('unknown rule id MM999');
  });

  it('--fix exits as the printed objects analyze: 0 when every failing finding is fixed, 1 when one remains', async () => {
    const plain = await cli(['analyze', 'examples/000-gateway-external-sni']);
    expect(plain.code).toBe(1);
    expect((await cli(['analyze', 'examples/000-gateway-external-sni', '--fix'])).code).toBe(0);
    // A route to a host nothing declares (MM201, judged complete: an error) has no automatic fix.
    const unfixable = `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: shop}
spec: {hosts: [web], http: [{route: [{destination: {host: nowhere}}]}]}
`;
    const r = await cli(['analyze', '-', '--complete', '--fix'], unfixable);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/failing finding\(s\) remain after the fixes/);
  });

  it('--fix -o yaml prints every input object repaired plus the generated ones', async () => {
    const r = await cli(['analyze', 'examples/000-gateway-external-sni', '--fix']);
    const docs = loadAll(r.out) as { kind: string; metadata: { name: string }; spec: Record<string, unknown> }[];
    expect(docs.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual([
      'Namespace/foo-dev',
      'Gateway/barl-org',
      'VirtualService/nginx-vs-dev',
      'ServiceEntry/dev-test',
      'DestinationRule/dev-bar-org-tls',
    ]);
    expect(docs[4]?.spec['trafficPolicy']).toEqual({
      tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] },
    });
  });

  it('--rules and --min-severity filter what is shown', async () => {
    const r = await cli(['analyze', 'examples', '-o', 'json', '--rules', 'MM103,MM107', '--min-severity', 'error']);
    const rules = (JSON.parse(r.out) as Contract).findings.map((f) => `${f.rule}:${f.severity}`);
    expect(rules).toEqual(['MM103:error']);
  });

  it('text output groups by severity without colour when not a TTY', async () => {
    const r = await cli(['analyze', 'examples/001-dr-overrides-mtls']);
    expect(r.out.indexOf('ERRORS (1)')).toBeLessThan(r.out.indexOf('WARNINGS ('));
    expect(r.out.indexOf('ERRORS (1)')).toBeGreaterThanOrEqual(0);
    expect(r.out).not.toContain('\x1b[');
  });

  it('reads stdin', async () => {
    const r = await cli(
      ['analyze', '-', '-o', 'json'],
      'apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: v, namespace: x}\nspec:\n  hosts: [a.example.com]\n  http: [{route: [{destination: {host: a.example.com}}]}]\n',
    );
    expect((JSON.parse(r.out) as Contract).findings.map((f) => f.rule)).toEqual(['MM104']);
  });

  it('the installed bin runs (npx meshmedic)', () => {
    if (!existsSync('dist/cli/main.js'))
      execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json']);
    const r = spawnSync(
      process.execPath,
      ['dist/cli/main.js', 'analyze', 'examples/003-tcp-serviceentry-catch-all', '-o', 'json'],
      { encoding: 'utf8' },
    );
    expect(r.status).toBe(1);
    expect((JSON.parse(r.stdout) as Contract).findings[0]?.rule).toBe('MM103');
  });
});
