// Every bundled example applies, as it is, to a real kube-apiserver with the Istio CRDs and meshmedic's
// (a control plane of this file's own: the examples set mesh-wide objects in istio-system that the shared
// one must not get). What a newcomer does after `npm run testbed:up`: kubectl apply -f examples/<one>/.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clientsFor, skipReason, type Clients } from '../testbed/client.js';
import { dedicatedBinaries, startDedicatedControlPlane, type DedicatedControlPlane } from '../testbed/dedicated.js';

const bins = skipReason() !== undefined ? undefined : await dedicatedBinaries();
const EXAMPLES = readdirSync('examples').sort();

function manifests(example: string): KubernetesObject[] {
  const dir = join('examples', example);
  return readdirSync(dir)
    .filter((f) => /\.ya?ml$/.test(f))
    .sort()
    .flatMap((f) => loadAll(readFileSync(join(dir, f), 'utf8')) as KubernetesObject[])
    .filter((o) => o !== null && o !== undefined);
}

describe.skipIf(bins === undefined)('the bundled examples apply to a real API server as they are', () => {
  let cp: DedicatedControlPlane;
  let c: Clients;

  beforeAll(async () => {
    cp = await startDedicatedControlPlane(bins!);
    c = clientsFor(cp.kc);
  }, 120_000);
  afterAll(async () => {
    await cp?.plane.stop();
  });

  for (const example of EXAMPLES) {
    it(`${example}: every object is accepted (server-side apply), its Namespaces included`, async () => {
      const refused: string[] = [];
      for (const o of manifests(example)) {
        try {
          await c.objects.patch(o, undefined, undefined, 'kubectl', true, PatchStrategy.ServerSideApply);
        } catch (err) {
          refused.push(
            `${o.kind} ${o.metadata?.namespace ?? ''}/${o.metadata?.name}: ${(err as Error).message.slice(0, 300)}`,
          );
        }
      }
      expect(refused).toEqual([]);
    });
  }

  it('each example creates the namespaces its objects live in, and its policy covers only those', () => {
    for (const example of EXAMPLES) {
      const objects = manifests(example);
      const created = new Set(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata?.name));
      const used = new Set(
        objects.map((o) => o.metadata?.namespace).filter((n): n is string => n !== undefined && n !== 'default'),
      );
      expect(
        [...used].filter((n) => !created.has(n)),
        example,
      ).toEqual([]);
      for (const p of objects.filter((o) => o.kind === 'MeshHealthPolicy')) {
        const spec = (p as KubernetesObject & { spec: { namespaces?: string[]; namespaceSelector?: unknown } }).spec;
        expect(spec.namespaces ?? [], `${example}: policy ${p.metadata?.name} names its namespaces`).not.toEqual([]);
        expect(
          spec.namespaces?.filter((n) => !created.has(n)),
          example,
        ).toEqual([]);
      }
    }
  });
});
