import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeDocuments, precompiledValidator } from '../../src/model/decode.js';
import { compileKind, generatedValidatorsModule, validatedKinds } from '../../src/model/validator-source.js';

// Objects with fields of the wrong type at several depths, for every kind: what the two validators must agree on.
const BAD_VALUES: unknown[] = [5, 'text', true, null, [], [1, 'a'], { x: 1 }, -1, 1.5, { name: 7 }];

function badObjects(kind: string): unknown[] {
  const out: unknown[] = [
    { apiVersion: 'v1', kind, metadata: { name: '' } },
    { apiVersion: 'v1', kind, metadata: { labels: { a: 1 } } },
  ];
  for (const v of BAD_VALUES) {
    out.push({ apiVersion: 'v1', kind, metadata: { name: 'n', annotations: v }, spec: v, data: v, status: v });
    out.push({
      apiVersion: 'v1',
      kind,
      metadata: { name: 'n' },
      spec: {
        host: v,
        hosts: v,
        ports: [{ number: v, protocol: v }],
        selector: v,
        mtls: { mode: v },
        trafficPolicy: { tls: { mode: v } },
        http: [{ route: [{ destination: { host: v } }], timeout: v }],
      },
    });
  }
  return out;
}

describe('precompiled schema validators (npm run validators)', () => {
  it('src/model/validators.generated.ts is current', () => {
    expect(readFileSync('src/model/validators.generated.ts', 'utf8')).toBe(generatedValidatorsModule());
  });

  it('every decoded kind has a precompiled validator that reports what the compiled one reports', () => {
    for (const kind of validatedKinds()) {
      const fast = precompiledValidator(kind);
      expect(fast, kind).toBeDefined();
      const slow = compileKind(kind);
      for (const o of badObjects(kind)) {
        expect(fast?.(o), `${kind} ${JSON.stringify(o)}`).toBe(slow(o));
        expect(fast?.errors ?? null).toEqual(slow.errors ?? null);
      }
    }
  });

  it('a precompiled validator still rejects a field of the wrong type, with file, line, object and field', () => {
    const r = decodeDocuments([
      {
        value: {
          apiVersion: 'networking.istio.io/v1',
          kind: 'DestinationRule',
          metadata: { name: 'r', namespace: 'a' },
          spec: { host: 5 },
        },
        file: 'f.yaml',
        line: 3,
      },
    ]);
    expect(r.objects).toEqual([]);
    expect(r.diagnostics).toHaveLength(1);
    expect(r.diagnostics[0]).toMatchObject({
      severity: 'error',
      file: 'f.yaml',
      line: 3,
      object: { kind: 'DestinationRule', name: 'r' },
      field: 'spec.host',
    });
  });
});
