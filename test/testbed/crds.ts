// Installs CustomResourceDefinitions from YAML files and waits until they are usable: the CRD is
// Established and discovery lists its resource under every served group/version.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { repoRoot } from './binaries.js';
import { kubeGetJson, kubeRequest } from './http.js';
import { waitFor } from './processes.js';

export const FIELD_MANAGER = 'meshmedic-testbed';

interface CrdManifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string };
  spec: { group: string; names: { plural: string }; versions: { name: string; served: boolean }[] };
}

interface CrdStatus {
  status?: { conditions?: { type: string; status: string; reason?: string; message?: string }[] };
}

/**
 * apply: server-side apply (force) with the test bed's field manager.
 * create-only: create when absent, leave an existing CRD as it is (a real cluster's Istio owns its CRDs).
 */
export type CrdPolicy = 'apply' | 'create-only';

function isCrd(doc: unknown): doc is CrdManifest {
  if (typeof doc !== 'object' || doc === null) return false;
  const d = doc as Partial<CrdManifest>;
  return (
    d.kind === 'CustomResourceDefinition' && typeof d.metadata?.name === 'string' && Array.isArray(d.spec?.versions)
  );
}

/** meshmedic's own CRD manifests: crds/*.yaml, sorted. */
export async function meshmedicCrdFiles(): Promise<string[]> {
  const dir = join(repoRoot, 'crds');
  return (await readdir(dir))
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .map((f) => join(dir, f));
}

/** The CRDs a mesh brings: Istio's and, unless left out, the Gateway API's. */
export interface MeshCrdFiles {
  istio: string;
  gatewayApi?: string;
}

/**
 * The test bed's CRDs: the mesh's (Istio's, the Gateway API's: with the given policy) and meshmedic's own
 * (applied).
 */
export async function installTestbedCrds(kc: KubeConfig, mesh: MeshCrdFiles, meshPolicy: CrdPolicy): Promise<string[]> {
  const own = (await meshmedicCrdFiles()).map((file) => ({ file, policy: 'apply' as const }));
  const meshFiles = [mesh.istio, ...(mesh.gatewayApi ? [mesh.gatewayApi] : [])];
  return installCrds(kc, [...meshFiles.map((file) => ({ file, policy: meshPolicy })), ...own]);
}

export async function readCrds(file: string): Promise<CrdManifest[]> {
  const docs = loadAll(await readFile(file, 'utf8'));
  const crds = docs.filter(isCrd);
  if (crds.length === 0) throw new Error(`${file} holds no CustomResourceDefinition`);
  return crds;
}

async function install(kc: KubeConfig, crd: CrdManifest, policy: CrdPolicy): Promise<void> {
  const base = '/apis/apiextensions.k8s.io/v1/customresourcedefinitions';
  const name = crd.metadata.name;
  if (policy === 'create-only') {
    const res = await kubeRequest(kc, 'POST', `${base}?fieldManager=${FIELD_MANAGER}`, crd);
    if (res.status === 201 || res.status === 409) return;
    throw new Error(`creating CRD ${name}: HTTP ${res.status}: ${res.body.slice(0, 1000)}`);
  }
  const res = await kubeRequest(
    kc,
    'PATCH',
    `${base}/${name}?fieldManager=${FIELD_MANAGER}&force=true`,
    crd,
    'application/apply-patch+yaml',
  );
  if (res.status !== 200 && res.status !== 201) {
    throw new Error(`applying CRD ${name}: HTTP ${res.status}: ${res.body.slice(0, 1000)}`);
  }
}

async function waitUsable(kc: KubeConfig, crd: CrdManifest, timeoutMs: number): Promise<void> {
  const name = crd.metadata.name;
  await waitFor(
    `CRD ${name} Established`,
    async () => {
      const got = await kubeGetJson<CrdStatus>(kc, `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${name}`);
      return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ?? false;
    },
    timeoutMs,
  );
  for (const v of crd.spec.versions.filter((x) => x.served)) {
    const path = `/apis/${crd.spec.group}/${v.name}`;
    await waitFor(
      `discovery of ${crd.spec.names.plural} in ${path}`,
      async () => {
        const res = await kubeRequest(kc, 'GET', path);
        if (res.status !== 200) return false;
        const list = JSON.parse(res.body) as { resources?: { name: string }[] };
        return list.resources?.some((r) => r.name === crd.spec.names.plural) ?? false;
      },
      timeoutMs,
    );
  }
  // Discovery lists a resource before its storage is ready: a list answers 429 "storage is (re)initializing"
  // for a moment, which a client starting then (the operator after testbed:up) logs as a failed watch.
  const served = crd.spec.versions.find((x) => x.served);
  if (served)
    await waitFor(
      `a list of ${crd.spec.names.plural}`,
      async () =>
        (await kubeRequest(kc, 'GET', `/apis/${crd.spec.group}/${served.name}/${crd.spec.names.plural}?limit=1`))
          .status === 200,
      timeoutMs,
    );
}

/** Installs every CRD of the files, then waits for all of them; returns the CRD names. */
export async function installCrds(
  kc: KubeConfig,
  files: { file: string; policy: CrdPolicy }[],
  timeoutMs = 60_000,
): Promise<string[]> {
  const all: CrdManifest[] = [];
  for (const { file, policy } of files) {
    const crds = await readCrds(file);
    // a few at a time: each Istio CRD is a large document
    for (let i = 0; i < crds.length; i += 4) {
      await Promise.all(crds.slice(i, i + 4).map((crd) => install(kc, crd, policy)));
    }
    all.push(...crds);
  }
  await Promise.all(all.map((crd) => waitUsable(kc, crd, timeoutMs)));
  return all.map((crd) => crd.metadata.name);
}
