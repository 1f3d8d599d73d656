import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { readInputs } from '../input/read-inputs.js';
import { decodeDocuments, type LoadedObject } from '../model/decode.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import { parseMeshConfig } from '../model/mesh-config.js';
import { objectKey } from '../model/kinds.js';
import { MeshIndex, type IndexOptions } from '../model/mesh-index.js';
import type { KubeObject } from '../model/types.js';

export interface LoadedMesh {
  index: MeshIndex;
  /** Everything read, in input order: analyzed objects and pass-through kinds (for --fix output). */
  inputs: LoadedObject[];
  policy: KubeObject | undefined;
  /** Every named object as written, also those meshmedic could not read (for Istio's own judgement). */
  asWritten: KubeObject[];
  /** What `index` was built with (the --mesh-config settings, the Gateway API Gateways read): to index fixed objects alike. */
  indexOptions: IndexOptions;
  diagnostics: InputDiagnostic[];
  filesRead: number;
}

export interface LoadOptions {
  meshConfigFile?: string;
  policyFile?: string;
  stdin?: Readable;
}

/**
 * Two objects with one kind, namespace and name: as with `kubectl apply`, the later one is what the
 * cluster gets, and the earlier one is said to be replaced (never silently merged).
 */
function duplicates(objects: LoadedObject[]): InputDiagnostic[] {
  const last = new Map<string, LoadedObject>();
  for (const o of objects) last.set(objectKey(o.object), o);
  return objects
    .filter((o) => last.get(objectKey(o.object)) !== o)
    .map((o) => {
      const later = last.get(objectKey(o.object))?.source;
      return {
        severity: 'warning' as const,
        file: o.source.file,
        line: o.source.line,
        object: { kind: o.object.kind, name: o.object.metadata.name, ...(o.object.metadata.namespace ? { namespace: o.object.metadata.namespace } : {}) },
        message: `duplicate: ${later ? `${later.file}:${later.line}` : 'a later object'} has the same kind, namespace and name and replaces this one (as kubectl apply would)`,
      };
    });
}

/** Reads manifests (I/O) and builds the indexed snapshot. */
export async function loadMesh(paths: string[], options: LoadOptions = {}): Promise<LoadedMesh> {
  const read = await readInputs(paths, options.stdin);
  const decoded = decodeDocuments(read.documents);
  const diagnostics = [...read.diagnostics, ...decoded.diagnostics];
  const meshConfig = options.meshConfigFile ? parseMeshConfig(await readFile(options.meshConfigFile, 'utf8'), options.meshConfigFile) : undefined;
  const objects = decoded.objects.filter((o) => o.object.kind !== 'MeshHealthPolicy');
  diagnostics.push(...duplicates(objects));
  let policy = decoded.objects.find((o) => o.object.kind === 'MeshHealthPolicy')?.object;
  if (options.policyFile) {
    const p = await readInputs([options.policyFile]);
    const d = decodeDocuments(p.documents);
    diagnostics.push(...p.diagnostics, ...d.diagnostics);
    policy = d.objects.find((o) => o.object.kind === 'MeshHealthPolicy')?.object;
    if (!policy && d.diagnostics.length === 0) diagnostics.push({ severity: 'error', file: options.policyFile, message: 'no MeshHealthPolicy in this file' });
  }
  const gatewayApiGateways = decoded.passthrough
    .filter((o) => o.object.kind === 'Gateway' && o.object.apiVersion.startsWith('gateway.networking.k8s.io/'))
    .map((o) => `${o.object.metadata.namespace ?? 'default'}/${o.object.metadata.name}`);
  const indexOptions: IndexOptions = { ...(meshConfig ? { meshConfig } : {}), gatewayApiGateways };
  const index = new MeshIndex(objects, indexOptions);
  if (index.meshConfigError) diagnostics.push({ severity: 'error', file: 'ConfigMap istio', message: `${index.meshConfigError}; Istio defaults used` });
  const inputOrder = new Map(read.documents.map((d, i) => [`${d.file}:${d.line}`, i]));
  const inputs = [...decoded.objects, ...decoded.passthrough].sort(
    (a, b) => (inputOrder.get(`${a.source.file}:${a.source.line}`) ?? 0) - (inputOrder.get(`${b.source.file}:${b.source.line}`) ?? 0),
  );
  return { index, inputs, policy, asWritten: decoded.asWritten, indexOptions, diagnostics, filesRead: read.filesRead };
}
