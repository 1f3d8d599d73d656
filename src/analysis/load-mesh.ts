import { isDeepStrictEqual } from 'node:util';
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { readInputs, type ReadResult } from '../input/read-inputs.js';
import { decodeDocuments, type LoadedObject } from '../model/decode.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import { parseMeshConfig } from '../model/mesh-config.js';
import { groupOf, objectKey } from '../model/kinds.js';
import { MeshIndex, type IndexOptions } from '../model/mesh-index.js';
import { judgePolicy } from './policy-input.js';
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

/** kind, namespace and name, and the API group: an Istio Gateway and a Gateway API Gateway are two objects. */
function identityKey(o: KubeObject): string {
  return `${groupOf(o.apiVersion)}/${objectKey(o)}`;
}

/**
 * Two objects with one kind, namespace and name (any kind): as with `kubectl apply`, the later one is what
 * the cluster gets, and the earlier one is said to be replaced (never silently merged). An identical copy
 * loses nothing (two examples that each create the Namespace they need): it is not reported.
 */
export function duplicates(objects: readonly LoadedObject[]): InputDiagnostic[] {
  const last = new Map<string, LoadedObject>();
  for (const o of objects) last.set(identityKey(o.object), o);
  const out: InputDiagnostic[] = [];
  for (const o of objects) {
    const later = last.get(identityKey(o.object));
    if (later === undefined || later === o || isDeepStrictEqual(later.object, o.object)) continue;
    out.push({
      severity: 'warning',
      file: o.source.file,
      line: o.source.line,
      object: {
        kind: o.object.kind,
        name: o.object.metadata.name,
        ...(o.object.metadata.namespace ? { namespace: o.object.metadata.namespace } : {}),
      },
      message: `duplicate: ${later.source.file}:${later.source.line} has the same kind, namespace and name and replaces this one (as kubectl apply would)`,
    });
  }
  return out;
}

/** Appends without spreading into arguments (`push(...xs)` overflows the stack for some 100,000 items). */
function append<T>(to: T[], items: readonly T[]): void {
  for (const item of items) to.push(item);
}

/** The mesh from what was read (no I/O but the --policy and --mesh-config files). */
export async function buildMesh(read: ReadResult, options: LoadOptions = {}): Promise<LoadedMesh> {
  const decoded = decodeDocuments(read.documents);
  const diagnostics: InputDiagnostic[] = [];
  append(diagnostics, read.diagnostics);
  append(diagnostics, decoded.diagnostics);
  const meshConfig = options.meshConfigFile
    ? parseMeshConfig(await readFile(options.meshConfigFile, 'utf8'), options.meshConfigFile)
    : undefined;
  const objects = decoded.objects.filter((o) => o.object.kind !== 'MeshHealthPolicy');
  append(diagnostics, duplicates(decoded.inOrder));
  // the last one, as for any duplicate
  let policyInput = decoded.objects.findLast((o) => o.object.kind === 'MeshHealthPolicy');
  if (options.policyFile) {
    const p = await readInputs([options.policyFile]);
    const d = decodeDocuments(p.documents);
    append(diagnostics, p.diagnostics);
    append(diagnostics, d.diagnostics);
    policyInput = d.objects.findLast((o) => o.object.kind === 'MeshHealthPolicy');
    if (!policyInput && d.diagnostics.length === 0)
      diagnostics.push({ severity: 'error', file: options.policyFile, message: 'no MeshHealthPolicy in this file' });
  }
  // Read as the cluster reads it: a policy the API server would refuse is not applied, and says why.
  const verdict = policyInput ? judgePolicy(policyInput) : undefined;
  if (verdict) append(diagnostics, verdict.diagnostics);
  const policy = verdict?.accepted ? policyInput?.object : undefined;
  // Gateway API Gateways are indexed objects (kinds.ts K8S_GATEWAY): the index answers hasGatewayApiGateway itself.
  const indexOptions: IndexOptions = meshConfig ? { meshConfig } : {};
  const index = new MeshIndex(objects, indexOptions);
  if (index.meshConfigError)
    diagnostics.push({
      severity: 'error',
      file: 'ConfigMap istio',
      message: `${index.meshConfigError}; Istio defaults used`,
    });
  return {
    index,
    inputs: decoded.inOrder,
    policy,
    asWritten: decoded.asWritten,
    indexOptions,
    diagnostics,
    filesRead: read.filesRead,
  };
}

/** Reads manifests (I/O) and builds the indexed snapshot. */
export async function loadMesh(paths: string[], options: LoadOptions = {}): Promise<LoadedMesh> {
  return buildMesh(await readInputs(paths, options.stdin), options);
}
