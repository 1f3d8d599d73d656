import { readFileSync } from 'node:fs';
import type { ValidateFunction } from 'ajv';
import AjvModule from 'ajv-draft-04';
import { describe, expect, it } from 'vitest';
import { cli } from './run-cli-in-process.js';

const schema = JSON.parse(
  readFileSync(new URL('../fixtures/sarif/sarif-2.1.0-rtm.5.json', import.meta.url), 'utf8'),
) as object;
// A CommonJS module: its default export is the module object under Node's ESM interop.
type Draft04 = new (options: { strict: boolean; allErrors: boolean; unicodeRegExp: boolean }) => {
  compile(schema: object): ValidateFunction;
};
const Ajv = (AjvModule as unknown as { default: Draft04 }).default;
// The schema's language-tag pattern is not valid as a Unicode regular expression.
const validate = new Ajv({ strict: false, allErrors: true, unicodeRegExp: false }).compile(schema);

interface Result {
  ruleId: string;
  level: string;
  locations: {
    physicalLocation?: { artifactLocation: { uri: string }; region?: { startLine: number } };
    logicalLocations?: { fullyQualifiedName: string }[];
  }[];
}

describe('analyze -o sarif', () => {
  it('is valid SARIF 2.1.0, with each finding at its manifest line and rule', async () => {
    const r = await cli(['analyze', '-o', 'sarif', 'examples/001-dr-overrides-mtls']);
    const log = JSON.parse(r.out) as { runs: { results: Result[]; tool: { driver: { rules: { id: string }[] } } }[] };
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const [run] = log.runs;
    const mm101 = run?.results.find((x) => x.ruleId === 'MM101');
    expect(mm101?.level).toBe('error');
    expect(mm101?.locations[0]?.physicalLocation?.artifactLocation.uri).toMatch(
      /^examples\/001-dr-overrides-mtls\/[\w.-]+\.yaml$/,
    );
    expect(mm101?.locations[0]?.physicalLocation?.region?.startLine).toBeGreaterThan(0);
    expect(mm101?.locations[0]?.logicalLocations?.[0]?.fullyQualifiedName).toContain('DestinationRule');
    expect(run?.results.find((x) => x.ruleId === 'MM107')?.level).toBe('warning');
    expect(run?.tool.driver.rules.map((x) => x.id)).toContain('MM101');
    expect(r.code).toBe(1);
  });

  it('carries input problems as tool notifications, still valid', async () => {
    const r = await cli(
      ['analyze', '-o', 'sarif', '-'],
      'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: bad, namespace: foo}\nspec: {host: x, trafficPolicy: {tls: {mode: 42}}}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: ok, namespace: foo}\nspec: {ports: [{port: 80}]}\n',
    );
    const log = JSON.parse(r.out) as {
      runs: { invocations: { toolExecutionNotifications: { level: string; message: { text: string } }[] }[] }[];
    };
    expect(validate(log), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    expect(log.runs[0]?.invocations[0]?.toolExecutionNotifications[0]?.message.text).toContain(
      'spec.trafficPolicy.tls.mode',
    );
  });
});

describe('--fail-on', () => {
  it('decides which findings fail the run; unreadable input always does', async () => {
    const warningsOnly = 'examples/004-tls-alias-serviceentry-sidecar';
    expect((await cli(['analyze', warningsOnly])).code).toBe(0);
    expect((await cli(['analyze', '--fail-on', 'warning', warningsOnly])).code).toBe(1);
    expect((await cli(['analyze', '--fail-on', 'never', 'examples/001-dr-overrides-mtls'])).code).toBe(0);
    expect(
      (
        await cli(
          ['analyze', '--fail-on', 'never', '-'],
          'apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: bad}\nspec: {host: 7}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: ok}\nspec: {ports: [{port: 80}]}\n',
        )
      ).code,
    ).toBe(1);
    expect((await cli(['analyze', '--fail-on', 'sometimes', warningsOnly])).code).toBe(2);
  });
});
