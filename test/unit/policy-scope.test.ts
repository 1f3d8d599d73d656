// Offline, a MeshHealthPolicy applies where the operator would apply it: its namespaces, its selector, not its exclusions.
import { describe, expect, it } from 'vitest';
import { buildMesh } from '../../src/analysis/load-mesh.js';
import { analyzeUnderPolicy } from '../../src/analysis/policy-parameters.js';
import { parseDocuments } from '../../src/input/parse-documents.js';
import { RULES } from '../../src/rules/registry.js';

const route = (ns: string, name = 'r'): string => `apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: ${name}, namespace: ${ns}}
spec:
  hosts: [web.${ns}.svc.cluster.local]
  http: [{timeout: 1s, route: [{destination: {host: web.${ns}.svc.cluster.local}}]}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: ${ns}}
spec: {ports: [{name: http, port: 80}]}
`;
const policy = (scope: string): string => `apiVersion: meshmedic.io/v1alpha1
kind: MeshHealthPolicy
metadata: {name: p}
spec:
${scope}  rules: [{id: MM105, parameters: {minRouteTimeout: 30s}}]
`;

async function flagged(...docs: string[]): Promise<string[]> {
  const mesh = await buildMesh({ ...parseDocuments(docs.join('---\n'), 'in.yaml'), filesRead: 1 });
  const { findings } = analyzeUnderPolicy(mesh.index, mesh.policy, { rules: RULES });
  return findings
    .filter((f) => f.messageType === 'TimeoutBelowMinimum')
    .map((f) => `${f.resource.namespace}/${f.resource.name}`)
    .sort();
}

describe('a policy applies offline where the operator applies it', () => {
  it('without namespaces or selector: everywhere', async () => {
    expect(await flagged(policy(''), route('a'), route('b'))).toEqual(['a/r', 'b/r']);
  });

  it('spec.namespaces: only there; other namespaces keep the rule defaults', async () => {
    expect(await flagged(policy('  namespaces: [a]\n'), route('a'), route('b'))).toEqual(['a/r']);
  });

  it("spec.namespaceSelector: matched against the input's Namespace labels", async () => {
    const ns = (name: string, team: string): string =>
      `apiVersion: v1\nkind: Namespace\nmetadata: {name: ${name}, labels: {team: ${team}}}\n`;
    expect(
      await flagged(
        policy('  namespaceSelector: {matchLabels: {team: x}}\n'),
        ns('a', 'y'),
        ns('b', 'x'),
        route('a'),
        route('b'),
      ),
    ).toEqual(['b/r']);
  });

  it('spec.exclusions: an excluded object keeps the defaults', async () => {
    const p = `apiVersion: meshmedic.io/v1alpha1\nkind: MeshHealthPolicy\nmetadata: {name: p}\nspec:\n  exclusions: [{kind: VirtualService, name: skip}]\n  rules: [{id: MM105, parameters: {minRouteTimeout: 30s}}]\n`;
    expect(await flagged(p, route('a'), route('b', 'skip'))).toEqual(['a/r']);
  });

  it('a rule the policy disables stays enabled outside its namespaces', async () => {
    const p = `apiVersion: meshmedic.io/v1alpha1\nkind: MeshHealthPolicy\nmetadata: {name: p}\nspec:\n  namespaces: [a]\n  rules: [{id: MM201, enabled: false}]\n`;
    const dangling = (ns: string): string =>
      `apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: d, namespace: ${ns}}\nspec:\n  hosts: [x]\n  http: [{route: [{destination: {host: nowhere.${ns}.svc.cluster.local}}]}]\n`;
    const mesh = await buildMesh({
      ...parseDocuments([p, dangling('a'), dangling('b')].join('---\n'), 'in.yaml'),
      filesRead: 1,
    });
    const { findings } = analyzeUnderPolicy(mesh.index, mesh.policy, { rules: RULES });
    expect(findings.filter((f) => f.rule === 'MM201').map((f) => f.resource.namespace)).toEqual(['b']);
  });
});
