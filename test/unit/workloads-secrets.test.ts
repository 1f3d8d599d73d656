import { describe, expect, it } from 'vitest';
import { loadMesh } from '../../src/analysis/load-mesh.js';
import { parseDocuments } from '../../src/input/parse-documents.js';
import { decodeDocuments } from '../../src/model/decode.js';
import { MeshIndex } from '../../src/model/mesh-index.js';
import type { KubeObject } from '../../src/model/types.js';
import { indexFrom } from './helpers.js';
import { texts, write } from './input-helpers.js';
import { cli } from './run-cli-in-process.js';

const workloads = `
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web, version: v1}}
    spec: {containers: [{name: web, ports: [{containerPort: 8080, name: http}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: web-abc, namespace: shop, labels: {app: web, version: v1, pod-template-hash: abc}}
spec: {nodeName: node-1, containers: [{name: web}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: data}
spec: {template: {metadata: {labels: {app: db}}}}
`;

const VALUE = 'c2VjcmV0LXZhbHVlLW5ldmVyLXNob3du';
const secret = `apiVersion: v1
kind: Secret
metadata:
  name: cred
  namespace: istio-system
  annotations: {kubectl.kubernetes.io/last-applied-configuration: '{"data":{"tls.key":"${VALUE}"}}'}
type: kubernetes.io/tls
data: {tls.crt: ${VALUE}, tls.key: ${VALUE}}
stringData: {ca.crt: plain-${VALUE}}
`;

describe('workloads in the MeshIndex', () => {
  it('finds pods and pod templates matching a selector, in one namespace or all', () => {
    const index = indexFrom(workloads);
    expect(index.hasWorkloads()).toBe(true);
    expect(
      index
        .workloadsMatching({ app: 'web' }, 'shop')
        .map((w) => w.object.kind)
        .sort(),
    ).toEqual(['Deployment', 'Pod']);
    expect(index.workloadsMatching({ app: 'web', version: 'v2' }, 'shop')).toEqual([]);
    expect(index.workloadsMatching({ app: 'web' }, 'data')).toEqual([]);
    expect(index.workloadsMatching({ app: 'db' }).map((w) => w.object.metadata.name)).toEqual(['db']);
    expect(index.workloadsMatching({}).length).toBe(3);
    const pod = index.workloadsMatching({ app: 'web' }, 'shop').find((w) => w.isPod);
    expect(pod?.spec?.nodeName).toBe('node-1');
    index.remove('Pod/shop/web-abc');
    index.remove('Deployment/shop/web');
    expect(index.workloadsMatching({ app: 'web' })).toEqual([]);
  });

  it('an index without pods or workloads says so', () => {
    expect(
      indexFrom(
        'apiVersion: v1\nkind: Service\nmetadata: {name: a, namespace: b}\nspec: {ports: [{port: 80}]}\n',
      ).hasWorkloads(),
    ).toBe(false);
  });

  it('a workload whose pod template labels have the wrong type is reported and skipped', () => {
    const { documents } = parseDocuments(
      'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: x}\nspec: {template: {metadata: {labels: [a]}}}\n',
      'd.yaml',
    );
    const d = decodeDocuments(documents);
    expect(d.objects).toEqual([]);
    expect(d.diagnostics[0]?.field).toBe('spec.template.metadata.labels');
  });
});

describe('Secrets: name, type and key names only', () => {
  it('are decoded to their key names: no value reaches the index or asWritten', () => {
    const { documents } = parseDocuments(secret, 's.yaml');
    const d = decodeDocuments(documents);
    expect(d.diagnostics).toEqual([]);
    const view = d.objects[0]?.object as KubeObject;
    expect(view).toEqual({
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'cred', namespace: 'istio-system' },
      type: 'kubernetes.io/tls',
      keys: ['ca.crt', 'tls.crt', 'tls.key'],
    });
    expect(JSON.stringify(d.objects)).not.toContain(VALUE);
    expect(JSON.stringify(d.asWritten)).not.toContain(VALUE);
    // --fix writes the input back as it was read
    expect(JSON.stringify(d.inOrder[0]?.object)).toContain(VALUE);
  });

  it('the index keeps only the view, whoever hands it a Secret', () => {
    const raw = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 's', namespace: 'a' },
      data: { cert: VALUE, key: VALUE },
    } as KubeObject;
    const index = new MeshIndex([{ object: raw, source: { file: 'x', line: 1 } }]);
    const kept = index.get('Secret/a/s')?.object as KubeObject;
    expect(kept['keys']).toEqual(['cert', 'key']);
    expect(JSON.stringify(index.all())).not.toContain(VALUE);
  });

  it('a malformed value field is reported without its content', () => {
    const { documents } = parseDocuments(
      `apiVersion: v1\nkind: Secret\nmetadata: {name: s, namespace: a}\ndata: [${VALUE}]\n---\napiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: a}\nstringData: {pin: 123456789012345678901234}\n`,
      's.yaml',
    );
    const d = decodeDocuments(documents, 'default');
    expect(d.objects).toEqual([]);
    expect(d.diagnostics.map((x) => x.field)).toEqual(['data', 'stringData']);
    expect(JSON.stringify(d.diagnostics)).not.toContain(VALUE);
    expect(JSON.stringify(d.diagnostics)).not.toContain('1234567');
  });

  it('analyze never shows a value; --fix -o yaml reprints the Secret as given', async () => {
    const gw = `---\napiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: istio-system}\nspec:\n  selector: {istio: ingressgateway}\n  servers: [{port: {number: 443, name: https, protocol: HTTPS}, hosts: ['*'], tls: {mode: SIMPLE, credentialName: missing}}]\n`;
    const dir = await write({ 's.yaml': secret + gw });
    const mesh = await loadMesh([dir]);
    expect(texts(mesh.diagnostics).join('\n')).not.toContain(VALUE);
    for (const o of ['json', 'yaml', 'text']) {
      const r = await cli(['analyze', '-o', o, dir]);
      expect(r.out + r.err).not.toContain(VALUE);
    }
    const fixed = await cli(['analyze', '--fix', '-o', 'yaml', dir]);
    expect(fixed.out).toContain(`tls.crt: ${VALUE}`);
    expect(fixed.out).toContain(`ca.crt: plain-${VALUE}`);
    expect(fixed.out).toContain('last-applied-configuration');
    expect(fixed.out).not.toContain('keys:');
  });
});
