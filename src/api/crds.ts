import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import { crdValidator, type CrdValidator, type OpenApiSchema } from './crd-validation.js';

interface Crd {
  spec: { names: { kind: string }; versions: { name: string; schema?: { openAPIV3Schema?: OpenApiSchema } }[] };
}

/** crds/ of the package: the one schema of meshmedic's API, read by the API server and by meshmedic alike. */
const CRDS = {
  MeshHealthPolicy: 'meshmedic.io_meshhealthpolicies.yaml',
  MeshRemediation: 'meshmedic.io_meshremediations.yaml',
} as const;

export type MeshmedicKind = keyof typeof CRDS;

const cache = new Map<MeshmedicKind, CrdValidator>();

/** The openAPIV3Schema of the CRD's first version, from crds/ (src/api and dist/api are both two levels below the root). */
export function crdSchema(kind: MeshmedicKind): OpenApiSchema {
  const file = fileURLToPath(new URL(`../../crds/${CRDS[kind]}`, import.meta.url));
  const crd = load(readFileSync(file, 'utf8')) as Crd;
  const schema = crd.spec.versions[0]?.schema?.openAPIV3Schema;
  if (!schema) throw new Error(`${file}: no openAPIV3Schema`);
  return schema;
}

/** What the API server's schema validation would refuse in this object of one of meshmedic's kinds. */
export function validateAgainstCrd(kind: MeshmedicKind, object: unknown): ReturnType<CrdValidator> {
  let v = cache.get(kind);
  if (!v) {
    v = crdValidator(crdSchema(kind));
    cache.set(kind, v);
  }
  return v(object);
}
