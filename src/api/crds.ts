/**
 * meshmedic's own API: its CRDs as code. crds/*.yaml is generated from here (scripts/gen-crds.ts; a unit
 * test fails when they differ), and objects are validated offline against the same schemas.
 */
import { dump } from 'js-yaml';
import { crdValidator, unknownFields, type CrdValidator, type SchemaCause } from './crd-validation.js';
import { MESH_HEALTH_POLICY } from './meshhealthpolicy.js';
import { MESH_REMEDIATION } from './meshremediation.js';
import type { CrdDefinition } from './openapi.js';

export const MESHMEDIC_CRDS = {
  MeshHealthPolicy: MESH_HEALTH_POLICY,
  MeshRemediation: MESH_REMEDIATION,
} as const satisfies Record<string, CrdDefinition>;

export type MeshmedicKind = keyof typeof MESHMEDIC_CRDS;

/** The apiextensions.k8s.io/v1 CustomResourceDefinition of one definition. */
export function crdManifest(d: CrdDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${d.plural}.${d.group}`, labels: { 'app.kubernetes.io/name': 'meshmedic' } },
    spec: {
      group: d.group,
      scope: d.namespaced ? 'Namespaced' : 'Cluster',
      names: {
        kind: d.kind,
        listKind: `${d.kind}List`,
        plural: d.plural,
        singular: d.singular,
        shortNames: d.shortNames,
        categories: ['meshmedic'],
      },
      versions: [
        {
          name: d.version,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: d.printerColumns,
          schema: { openAPIV3Schema: d.schema },
        },
      ],
    },
  };
}

/** crds/<file> of one definition, as kubebuilder names them. */
export function crdFileName(d: CrdDefinition): string {
  return `${d.group}_${d.plural}.yaml`;
}

/** The text of crds/<file>: what `kubectl apply -f crds/` installs. */
export function crdYaml(d: CrdDefinition): string {
  const header = `# ${d.summary}\n# Generated from src/api/ by scripts/gen-crds.ts: edit the source, then run npx tsx scripts/gen-crds.ts.\n`;
  return header + dump(crdManifest(d), { lineWidth: -1, noRefs: true });
}

const validators = new Map<MeshmedicKind, CrdValidator>();

/** What the API server's schema validation would refuse in this object of one of meshmedic's kinds, in its words. */
export function validateAgainstCrd(kind: MeshmedicKind, object: unknown): SchemaCause[] {
  let v = validators.get(kind);
  if (!v) {
    v = crdValidator(MESHMEDIC_CRDS[kind].schema);
    validators.set(kind, v);
  }
  return v(object);
}

/** The fields of an object of one of meshmedic's kinds that its CRD does not declare (see unknownFields). */
export function undeclaredFields(kind: MeshmedicKind, object: unknown): string[] {
  return unknownFields(MESHMEDIC_CRDS[kind].schema, object);
}
