import { createReadStream, readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { podLogPath, podsToRead } from '../../../src/controller/access-log-source.js';
import {
  evidenceRemediationName,
  evidenceSubjects,
  EVIDENCE_KIND,
  type EvidenceInput,
} from '../../../src/controller/evidence-subjects.js';
import { effectiveFor, parsePolicy } from '../../../src/controller/policies.js';
import { remediationObject } from '../../../src/controller/remediation.js';
import { LogAggregator, type LogGroup } from '../../../src/evidence/aggregate.js';
import { feedAccessLog, readAccessLog } from '../../../src/evidence/read-log.js';
import { MeshIndex } from '../../../src/model/mesh-index.js';
import { analyze } from '../../../src/analysis/analyze.js';
import { indexFrom } from '../helpers.js';
import { currentLine } from '../evidence/helpers.js';

const SEED_002 = 'test/fixtures/logs/seed-002-istio-proxy.log';

async function seedGroups(copies = 1): Promise<LogGroup[]> {
  const text = readFileSync(SEED_002, 'utf8').repeat(copies);
  return (await readAccessLog(Readable.from([text]))).groups();
}

function effective(spec: Record<string, unknown>, ns = 'shop'): EvidenceInput['effective'] {
  const p = parsePolicy({
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshHealthPolicy',
    metadata: { name: 'p', creationTimestamp: '2026-01-01T00:00:00Z' },
    spec,
  });
  return effectiveFor([p], ns, {});
}

const ENABLED = { mode: 'Propose', evidence: { accessLogs: { enabled: true } } };

function input(groups: LogGroup[], overrides: Partial<EvidenceInput> = {}): EvidenceInput {
  return {
    namespace: 'shop',
    groups,
    index: new MeshIndex(),
    effective: effective(ENABLED),
    staticFindings: [],
    ...overrides,
  };
}

describe('access-log evidence as operator subjects', () => {
  it('seed 002 in namespace shop: one subject per (rule, fixed object), named <rule>-logs-<kind>-<name>', async () => {
    const r = evidenceSubjects(input(await seedGroups()));
    expect([...r.subjects.keys()].sort()).toEqual([
      'mm104-logs-serviceentry-external-service-com',
      'mm105-logs-virtualservice-apisvc-prod-com',
      'mm105-logs-virtualservice-testservice-prod-com',
    ]);
    const s = r.subjects.get('mm104-logs-serviceentry-external-service-com');
    expect(s?.subject).toMatchObject({
      apiVersion: 'meshmedic.io/v1alpha1',
      kind: EVIDENCE_KIND,
      metadata: { name: 'mm104-logs-serviceentry-external-service-com', namespace: 'shop' },
    });
    expect(s?.group).toMatchObject({
      rule: 'MM104',
      name: 'mm104-logs-serviceentry-external-service-com',
      source: 'access-logs',
      resource: { kind: 'ServiceEntry', namespace: 'shop', name: 'external-service-com' },
    });
    expect(s?.group.create.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'ServiceEntry/shop/external-service-com',
    ]);
    // The keep-alive fix of the inbound 503 UC would create a DestinationRule in xyz (srv-a.xyz): not this namespace's.
    expect(r.elsewhere.map((f) => `${f.rule} ${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`)).toEqual([
      'MM106 DestinationRule xyz/srv-a-keepalive',
    ]);
  });

  it('the remediation of a subject carries the subject as target, the fixed object as targetRef, and the source label', async () => {
    const s = evidenceSubjects(input(await seedGroups())).subjects.get(
      'mm105-logs-virtualservice-testservice-prod-com',
    );
    if (!s) throw new Error('no MM105 subject');
    const mmr = remediationObject(s.group, s.subject, []);
    expect(mmr.metadata.name).toBe('mm105-logs-virtualservice-testservice-prod-com');
    expect(mmr.metadata.namespace).toBe('shop');
    expect(mmr.metadata.labels?.['meshmedic.io/source']).toBe('access-logs');
    expect(mmr.spec).toMatchObject({
      rule: 'MM105',
      targetRef: 'VirtualService/testservice-prod-com',
      target: { kind: EVIDENCE_KIND, namespace: 'shop', name: 'mm105-logs-virtualservice-testservice-prod-com' },
    });
  });

  it('names and fingerprints do not change with the counts: three times the same log, the same subjects', async () => {
    const once = evidenceSubjects(input(await seedGroups(1))).subjects;
    const thrice = evidenceSubjects(input(await seedGroups(3))).subjects;
    expect([...thrice.keys()]).toEqual([...once.keys()]);
    for (const [name, s] of once)
      expect(thrice.get(name)?.subject.metadata.resourceVersion).toBe(s.subject.metadata.resourceVersion);
    expect(thrice.get('mm104-logs-serviceentry-external-service-com')?.group.message).toContain('3 requests');
  });

  it('the namespace of the logs is where srv-a lives: the MM106 fix is then a subject of it (propose only)', async () => {
    const text = readFileSync(SEED_002, 'utf8').replaceAll('.xyz', '.shop');
    const groups = (await readAccessLog(Readable.from([text]))).groups();
    const s = evidenceSubjects(input(groups)).subjects.get('mm106-logs-destinationrule-srv-a-keepalive');
    expect(s?.group.proposeOnly).toBe(true);
    expect(s?.group.create.map((o) => `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`)).toEqual([
      'DestinationRule/shop/srv-a-keepalive',
    ]);
  });

  it('nothing without enabled evidence, without a covering policy, or for a rule the policy disables', async () => {
    const groups = await seedGroups();
    expect(evidenceSubjects(input(groups, { effective: effective({ mode: 'Propose' }) })).subjects.size).toBe(0);
    expect(evidenceSubjects(input(groups, { effective: undefined })).subjects.size).toBe(0);
    const noMm104 = evidenceSubjects(
      input(groups, { effective: effective({ ...ENABLED, rules: [{ id: 'MM104', enabled: false }] }) }),
    );
    expect([...noMm104.subjects.values()].map((s) => s.group.rule)).toEqual(['MM105', 'MM105']);
  });

  it('a policy exclusion of the object a fix creates drops that fix', async () => {
    const r = evidenceSubjects(
      input(await seedGroups(), {
        excluded: (ref) => ref.kind === 'ServiceEntry' && ref.name === 'external-service-com',
      }),
    );
    expect(r.subjects.has('mm104-logs-serviceentry-external-service-com')).toBe(false);
    expect(r.excluded.map((f) => f.rule)).toEqual(['MM104']);
    // The MM105 fixes create their own entries (apisvc-prod-com, testservice-prod-com): kept.
    expect(r.subjects.size).toBe(2);
  });

  it('an existing VirtualService whose 15s timeout matches the 504s is patched, in its namespace only', async () => {
    const vs = (ns: string): string => `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: testservice-vs, namespace: ${ns}}
spec:
  hosts: [testservice.prod.com]
  http:
  - timeout: 15s
    route:
    - destination: {host: testservice.prod.com}
`;
    const here = evidenceSubjects(input(await seedGroups(), { index: indexFrom(vs('shop')) }));
    const patched = here.subjects.get('mm105-logs-virtualservice-testservice-vs');
    expect(patched?.group.patches).toEqual([
      {
        target: {
          apiVersion: 'networking.istio.io/v1',
          kind: 'VirtualService',
          namespace: 'shop',
          name: 'testservice-vs',
        },
        patch: [
          { op: 'test', path: '/spec/http/0/timeout', value: '15s' },
          { op: 'replace', path: '/spec/http/0/timeout', value: '30s' },
        ],
      },
    ]);
    const there = evidenceSubjects(input(await seedGroups(), { index: indexFrom(vs('other')) }));
    expect([...there.subjects.keys()].some((k) => k.includes('testservice'))).toBe(false);
    expect(there.elsewhere.map((f) => `${f.rule} ${f.resource.namespace}/${f.resource.name}`)).toContain(
      'MM105 other/testservice-vs',
    );
  });

  it('a long name is cut to 63 characters with a hash, like every remediation name', () => {
    const name = evidenceRemediationName('MM104', {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      namespace: 'shop',
      name: 'a-very-long-external-host-name-that-goes-on-example-com',
    });
    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^mm104-logs-serviceentry-a-very-long.*-[0-9a-f]{8}$/);
  });
});

describe('access-log source: pure parts', () => {
  const pod = (name: string, spec: V1Pod['spec'], status?: V1Pod['status']): V1Pod => ({
    metadata: { name },
    spec,
    ...(status ? { status } : {}),
  });

  it('reads scheduled pods with the container (regular or native-sidecar init container), skips the rest', () => {
    const pods = [
      pod('meshed', { nodeName: 'n1', containers: [{ name: 'app' }, { name: 'istio-proxy' }] }),
      pod('native-sidecar', {
        nodeName: 'n1',
        containers: [{ name: 'app' }],
        initContainers: [{ name: 'istio-proxy', restartPolicy: 'Always' }],
      }),
      pod('no-sidecar', { nodeName: 'n1', containers: [{ name: 'app' }] }),
      pod('pending', { containers: [{ name: 'istio-proxy' }] }),
      pod(
        'creating',
        { nodeName: 'n2', containers: [{ name: 'istio-proxy' }] },
        {
          containerStatuses: [
            {
              name: 'istio-proxy',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ContainerCreating' } },
            },
          ],
        },
      ),
      pod(
        'crashing',
        { nodeName: 'n2', containers: [{ name: 'istio-proxy' }] },
        {
          containerStatuses: [
            {
              name: 'istio-proxy',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 3,
              state: { waiting: { reason: 'CrashLoopBackOff' } },
            },
          ],
        },
      ),
    ];
    const r = podsToRead(pods, 'istio-proxy');
    expect(r.read).toEqual([
      { name: 'meshed', node: 'n1' },
      { name: 'native-sidecar', node: 'n1' },
      { name: 'crashing', node: 'n2' },
    ]);
    expect(r.skipped).toEqual([
      { pod: 'pending', reason: 'not scheduled on a node yet' },
      { pod: 'creating', reason: 'container istio-proxy has not started (ContainerCreating)' },
    ]);
    expect(podsToRead(pods, 'app').read.map((p) => p.name)).toEqual(['meshed', 'native-sidecar', 'no-sidecar']);
  });

  it('asks pods/log for the container, sinceSeconds and tailLines = maxLinesPerPod', () => {
    const path = podLogPath('shop', 'web-1', { container: 'istio-proxy', sinceSeconds: 600, maxLinesPerPod: 5000 });
    const url = new URL(path, 'https://api.example');
    expect(url.pathname).toBe('/api/v1/namespaces/shop/pods/web-1/log');
    expect(Object.fromEntries(url.searchParams)).toEqual({
      container: 'istio-proxy',
      sinceSeconds: '600',
      tailLines: '5000',
    });
  });
});

describe('feedAccessLog', () => {
  it('aggregates several inputs into one aggregator and stops an input at maxLines', async () => {
    const agg = new LogAggregator();
    const a = await feedAccessLog(createReadStream(SEED_002), agg, { maxLines: 2 });
    expect(a).toEqual({ lines: 2, truncated: true });
    const b = await feedAccessLog(createReadStream(SEED_002), agg, { maxLines: 5 });
    expect(b).toEqual({ lines: 5, truncated: false });
    expect(agg.stats.lines).toBe(7);
    expect(agg.stats.parsed).toBe(7);
    const counts = Object.fromEntries(agg.groups().map((g) => [g.target, g.count]));
    expect(counts['inbound|80|http|srv-a.xyz.svc.cluster.local']).toBe(2);
    expect(counts['PassthroughCluster external.service.com']).toBe(1);
  });

  describe('503 UH on a subset that selects no pod (MM210, no fix)', () => {
    const yaml = `
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews-v1, namespace: shop}
spec: {template: {metadata: {labels: {app: reviews, version: v1}}}}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  subsets: [{name: v1, labels: {version: v1}}, {name: v3, labels: {version: v3}}]
`;
    const line = currentLine({
      code: 503,
      flags: 'UH',
      details: 'no_healthy_upstream',
      authority: 'reviews:9080',
      cluster: 'outbound|9080|v3|reviews.shop.svc.cluster.local',
    });
    const groups = async (): Promise<LogGroup[]> => (await readAccessLog(Readable.from([`${line}\n`]))).groups();

    it('without a static finding on the DestinationRule, the evidence is a subject of its own naming it', async () => {
      const r = evidenceSubjects(input(await groups(), { index: indexFrom(yaml) }));
      expect([...r.subjects.keys()]).toEqual(['mm210-logs-destinationrule-reviews']);
      expect(r.subjects.get('mm210-logs-destinationrule-reviews')?.group).toMatchObject({
        rule: 'MM210',
        resource: { kind: 'DestinationRule', namespace: 'shop', name: 'reviews' },
        patches: [],
        create: [],
      });
    });

    it("with the operator's static MM210 finding on the DestinationRule, it stays that object's: no second subject", async () => {
      const index = indexFrom(yaml);
      const staticFindings = analyze(index, { complete: true }).findings.filter((f) => f.rule === 'MM210');
      expect(staticFindings.map((f) => f.resource.name)).toEqual(['reviews']);
      const r = evidenceSubjects(input(await groups(), { index, staticFindings }));
      expect([...r.subjects.keys()]).toEqual([]);
      expect(r.elsewhere).toEqual([]);
    });
  });
});
