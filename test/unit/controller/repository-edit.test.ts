import { describe, expect, it } from 'vitest';
import { describeOwner, gitOpsOwner } from '../../../src/controller/gitops.js';
import { fixGuard } from '../../../src/controller/guards.js';
import { manifestOf, repositoryEdits } from '../../../src/controller/repository-edit.js';
import type { KubeObject } from '../../../src/model/types.js';

function dr(labels: Record<string, string> = {}, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: {
      name: 'reviews',
      namespace: 'shop',
      uid: 'u1',
      resourceVersion: '42',
      generation: 3,
      creationTimestamp: '2026-12-01T00:00:00Z',
      labels: { app: 'reviews', ...labels },
      annotations: { team: 'a', ...annotations },
    },
    spec: {
      host: 'reviews',
      trafficPolicy: { connectionPool: { tcp: { maxConnections: 1 } }, tls: { mode: 'DISABLE' } },
    },
    status: { observedGeneration: 3 },
  };
}
const FIX = [
  { op: 'test', path: '/spec/trafficPolicy/tls/mode', value: 'DISABLE' },
  { op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' },
] as const;
const ref = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'shop', name: 'reviews' };

describe('the GitOps owner of a live object', () => {
  it("Argo CD: the Application from the tracking-id, with its namespace when apps live outside Argo CD's", () => {
    expect(
      gitOpsOwner(
        dr({}, { 'argocd.argoproj.io/tracking-id': 'shop:networking.istio.io/DestinationRule:shop/reviews' }),
      ),
    ).toMatchObject({ tool: 'Argo CD', kind: 'Application', name: 'shop' });
    const other = gitOpsOwner(
      dr({}, { 'argocd.argoproj.io/tracking-id': 'team-a_shop:networking.istio.io/DestinationRule:shop/reviews' }),
    );
    expect(other && describeOwner(other)).toBe('Argo CD Application team-a/shop');
    expect(gitOpsOwner(dr({ 'argocd.argoproj.io/instance': 'legacy' }))).toMatchObject({
      tool: 'Argo CD',
      name: 'legacy',
    });
  });

  it('Flux: the Kustomization or HelmRelease from its name and namespace labels', () => {
    const k = gitOpsOwner(
      dr({ 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' }),
    );
    expect(k && describeOwner(k)).toBe('Flux Kustomization flux-system/apps');
    const h = gitOpsOwner(dr({ 'helm.toolkit.fluxcd.io/name': 'shop', 'helm.toolkit.fluxcd.io/namespace': 'shop' }));
    expect(h && describeOwner(h)).toBe('Flux HelmRelease shop/shop');
  });

  it('none for Helm or kubectl markers', () => {
    expect(
      gitOpsOwner(
        dr(
          { 'app.kubernetes.io/instance': 'shop', 'app.kubernetes.io/managed-by': 'Helm' },
          { 'meta.helm.sh/release-name': 'shop' },
        ),
      ),
    ).toBeUndefined();
  });
});

describe('repository edits of a proposal', () => {
  const live = dr(
    { 'kustomize.toolkit.fluxcd.io/name': 'apps', 'kustomize.toolkit.fluxcd.io/namespace': 'flux-system' },
    { 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
  );

  it('the manifest as a repository holds it: no status, server fields or controller markers; user labels kept', () => {
    const m = manifestOf(live);
    expect(m.status).toBeUndefined();
    expect(m.metadata).toEqual({
      name: 'reviews',
      namespace: 'shop',
      labels: { app: 'reviews' },
      annotations: { team: 'a' },
    });
    expect(live.metadata.uid).toBe('u1');
  });

  it('a GitOps-managed target gets its owner and a diff of only the lines the fix changes', () => {
    const [edit, ...rest] = repositoryEdits([{ target: ref, patch: [...FIX] }], () => live);
    expect(rest).toEqual([]);
    expect(edit?.managedBy).toEqual({ tool: 'Flux', kind: 'Kustomization', namespace: 'flux-system', name: 'apps' });
    expect(edit?.diff).toContain('--- a/shop/destinationrule-reviews.yaml');
    expect(edit?.diff?.split('\n').filter((l) => /^[+-][^+-]/.test(l))).toEqual([
      '-      mode: DISABLE',
      '+      mode: ISTIO_MUTUAL',
    ]);
  });

  it('a target nobody manages gets no repository edit (the operator writes it); a stale test gets a note, not a diff', () => {
    expect(repositoryEdits([{ target: ref, patch: [...FIX] }], () => dr())).toEqual([]);
    const stale = repositoryEdits(
      [{ target: ref, patch: [{ op: 'test', path: '/spec/trafficPolicy/tls/mode', value: 'SIMPLE' }] }],
      () => live,
    );
    expect(stale[0]?.diff).toBeUndefined();
    expect(stale[0]?.note).toMatch(/no diff for DestinationRule shop\/reviews: .*spec\.patches holds the change/);
  });

  it('the proposal says where the edit goes', () => {
    expect(fixGuard([ref], () => live)).toBe(
      'managed by Flux (kustomize.toolkit.fluxcd.io/name apps); commit the edit in spec.repositoryEdits to the source of Flux Kustomization flux-system/apps',
    );
    expect(fixGuard([ref], () => dr({}, { 'meshmedic.io/ignore': 'true' }))).toBe('annotated meshmedic.io/ignore=true');
  });
});
