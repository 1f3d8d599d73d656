import { describe, expect, it } from 'vitest';
import { writeGuard } from '../../../src/controller/guards.js';
import type { KubeObject } from '../../../src/model/types.js';

function dr(labels: Record<string, string> = {}, annotations: Record<string, string> = {}): KubeObject {
  return {
    apiVersion: 'networking.istio.io/v1',
    kind: 'DestinationRule',
    metadata: { name: 'reviews', namespace: 'shop', labels, annotations },
    spec: { host: 'reviews' },
  };
}

describe('writeGuard: objects the operator must not write itself (it proposes instead)', () => {
  it('lets a plain object be written', () => {
    expect(writeGuard(dr())).toBeUndefined();
    expect(writeGuard({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'x' } })).toBeUndefined();
  });

  it('respects meshmedic.io/ignore=true, and only "true"', () => {
    expect(writeGuard(dr({}, { 'meshmedic.io/ignore': 'true' }))).toBe('annotated meshmedic.io/ignore=true');
    expect(writeGuard(dr({}, { 'meshmedic.io/ignore': 'false' }))).toBeUndefined();
  });

  it('recognises Argo CD by its tracking-id annotation or its instance label, and says which', () => {
    expect(
      writeGuard(dr({}, { 'argocd.argoproj.io/tracking-id': 'shop:networking.istio.io/DestinationRule:shop/reviews' })),
    ).toBe('managed by Argo CD (argocd.argoproj.io/tracking-id shop:networking.istio.io/DestinationRule:shop/reviews)');
    expect(writeGuard(dr({ 'argocd.argoproj.io/instance': 'shop' }))).toBe(
      'managed by Argo CD (argocd.argoproj.io/instance shop)',
    );
  });

  it('recognises Flux kustomize-controller and helm-controller labels', () => {
    expect(writeGuard(dr({ 'kustomize.toolkit.fluxcd.io/name': 'apps' }))).toBe(
      'managed by Flux (kustomize.toolkit.fluxcd.io/name apps)',
    );
    expect(writeGuard(dr({ 'helm.toolkit.fluxcd.io/name': 'shop' }))).toBe(
      'managed by Flux (helm.toolkit.fluxcd.io/name shop)',
    );
  });

  it('does not take Helm or kubectl markers for GitOps', () => {
    expect(
      writeGuard(
        dr(
          { 'app.kubernetes.io/instance': 'shop', 'app.kubernetes.io/managed-by': 'Helm' },
          { 'meta.helm.sh/release-name': 'shop', 'kubectl.kubernetes.io/last-applied-configuration': '{}' },
        ),
      ),
    ).toBeUndefined();
  });

  it('the ignore annotation is reported first when several apply', () => {
    expect(writeGuard(dr({ 'argocd.argoproj.io/instance': 'shop' }, { 'meshmedic.io/ignore': 'true' }))).toBe(
      'annotated meshmedic.io/ignore=true',
    );
  });
});
