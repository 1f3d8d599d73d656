import { readFileSync } from 'node:fs';
import { load } from 'js-yaml';
import { describe, expect, it } from 'vitest';
import { crdFileName, crdYaml, MESHMEDIC_CRDS, undeclaredFields, validateAgainstCrd } from '../../../src/api/crds.js';
import { PARAMETERS } from '../../../src/catalogue/parameters.js';
import { decodeDocuments } from '../../../src/model/decode.js';
import { collectionPath, RESOURCES, resourceForKind } from '../../../src/kube/resources.js';

const crdFile = (name: string): string => readFileSync(new URL(`../../../crds/${name}`, import.meta.url), 'utf8');

interface Crd {
  spec: {
    versions: {
      schema: {
        openAPIV3Schema: {
          properties: {
            spec: {
              properties: {
                rules: {
                  items: { properties: { parameters: { properties: Record<string, Record<string, unknown>> } } };
                };
              };
            };
          };
        };
      };
    }[];
  };
}

describe("meshmedic's API as code (src/api)", () => {
  it.each(Object.values(MESHMEDIC_CRDS).map((d) => [crdFileName(d), d] as const))(
    'crds/%s is what scripts/gen-crds.ts generates (run npx tsx scripts/gen-crds.ts)',
    (file, d) => {
      expect(crdFile(file)).toBe(crdYaml(d));
    },
  );

  it("the installed CRD's spec.rules[].parameters are the rule parameter table's, with its bounds", () => {
    const crd = load(crdFile('meshmedic.io_meshhealthpolicies.yaml')) as Crd;
    const params =
      crd.spec.versions[0]?.schema.openAPIV3Schema.properties.spec.properties.rules.items.properties.parameters
        .properties ?? {};
    expect(Object.keys(params).sort()).toEqual(Object.keys(PARAMETERS).sort());
    const mep = PARAMETERS.maxEjectionPercent;
    expect(params['maxEjectionPercent']).toMatchObject({ type: 'integer', minimum: mep.minimum, maximum: mep.maximum });
    expect(params['minRouteTimeout']).toMatchObject({ type: 'string', pattern: expect.any(String) });
  });

  it('refuses what the API server refuses, in its words', () => {
    const policy = (spec: unknown): unknown => ({
      apiVersion: 'meshmedic.io/v1alpha1',
      kind: 'MeshHealthPolicy',
      metadata: { name: 'p' },
      spec,
    });
    expect(
      validateAgainstCrd(
        'MeshHealthPolicy',
        policy({ rules: [{ id: 'MM107', parameters: { maxEjectionPercent: 100 } }] }),
      ),
    ).toEqual([
      {
        field: 'spec.rules[0].parameters.maxEjectionPercent',
        message:
          'Invalid value: 100: spec.rules[0].parameters.maxEjectionPercent in body should be less than or equal to 99',
      },
    ]);
    expect(
      validateAgainstCrd(
        'MeshHealthPolicy',
        policy({ mode: 'Sometimes', rules: [{ id: 'MM101' }, { id: 'MM101' }, {}] }),
      ),
    ).toEqual([
      {
        field: 'spec.mode',
        message: 'Unsupported value: "Sometimes": supported values: "Observe", "Propose", "Enforce"',
      },
      { field: 'spec.rules[2].id', message: 'Required value' },
      { field: 'spec.rules[1]', message: 'Duplicate value: {"id":"MM101"}' },
    ]);
    // the first failing string check only, as kube-openapi's stringValidator
    expect(
      validateAgainstCrd('MeshHealthPolicy', policy({ evidence: { accessLogs: { container: '' } } })).map(
        (c) => c.message,
      ),
    ).toEqual(['Invalid value: "": spec.evidence.accessLogs.container in body should be at least 1 chars long']);
    expect(
      validateAgainstCrd(
        'MeshHealthPolicy',
        policy({ namespaces: ['shop'], rules: [{ id: 'MM107', parameters: { maxEjectionPercent: 99 } }] }),
      ),
    ).toEqual([]);
  });

  it('names the fields the CRD does not declare (a typo, the removed externalServiceDefaults), not those it keeps', () => {
    const object = {
      apiVersion: 'meshmedic.io/v1alpha1',
      kind: 'MeshHealthPolicy',
      metadata: { name: 'p', labels: { a: 'b' } },
      spec: {
        namespaceSelector: { matchLabels: { env: 'prod' } },
        rules: [{ id: 'MM104', parameters: { externalServiceDefaults: {}, maxEjectionPercnt: 3 } }],
      },
    };
    expect(undeclaredFields('MeshHealthPolicy', object)).toEqual([
      'spec.rules[0].parameters.externalServiceDefaults',
      'spec.rules[0].parameters.maxEjectionPercnt',
    ]);
    const remediation = {
      spec: {
        rule: 'MM101',
        severity: 'error',
        target: { apiVersion: 'v1', kind: 'Service', name: 's' },
        create: [{ anything: 1 }],
        patches: [
          {
            target: { apiVersion: 'v1', kind: 'Service', name: 's' },
            patch: [{ op: 'add', path: '/x', value: { deep: 1 } }],
          },
        ],
      },
    };
    expect(undeclaredFields('MeshRemediation', remediation)).toEqual([]);
  });
});

describe('one kinds registry (model/kinds.ts)', () => {
  it("gives the operator the API paths of every kind, meshmedic's own from their CRDs", () => {
    expect(collectionPath(RESOURCES.MeshHealthPolicy)).toBe(
      `/apis/meshmedic.io/v1alpha1/${MESHMEDIC_CRDS.MeshHealthPolicy.plural}`,
    );
    expect(collectionPath(RESOURCES.MeshRemediation, 'shop')).toBe(
      '/apis/meshmedic.io/v1alpha1/namespaces/shop/meshremediations',
    );
    expect(collectionPath(RESOURCES.DestinationRule, 'shop')).toBe(
      '/apis/networking.istio.io/v1/namespaces/shop/destinationrules',
    );
    expect(collectionPath(RESOURCES.Namespace, 'shop')).toBe('/api/v1/namespaces');
    expect(resourceForKind('CronJob')).toBeUndefined();
  });

  it('reads a MeshRemediation in the input as a known kind it does not analyze (no "unknown kind" warning)', () => {
    const doc = (kind: string): { value: unknown; file: string; line: number } => ({
      value: { apiVersion: 'meshmedic.io/v1alpha1', kind, metadata: { name: 'x', namespace: 'shop' }, spec: {} },
      file: 'f.yaml',
      line: 1,
    });
    const known = decodeDocuments([doc('MeshRemediation')]);
    expect(known.diagnostics).toEqual([]);
    expect(known.passthrough.map((o) => o.object.kind)).toEqual(['MeshRemediation']);
    expect(decodeDocuments([doc('MeshRemedy')]).diagnostics[0]?.message).toContain('unknown kind MeshRemedy');
  });
});
