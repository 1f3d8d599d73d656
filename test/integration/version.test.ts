// The API server the tests run against is the real, pinned Kubernetes release.
import { describe, expect, it } from 'vitest';
import { clients, skipReason, testbed } from '../testbed/client.js';
import { kubeGetJson } from '../testbed/http.js';

describe.skipIf(skipReason() !== undefined)('kube-apiserver /version', () => {
  it.skipIf(testbed().source !== 'local')('reports the pinned release', async () => {
    const pinned = testbed().kubernetesVersion;
    expect(pinned).toMatch(/^v1\.\d+\.\d+$/);
    const info = await clients().version.getCode();
    expect(info.gitVersion).toBe(pinned);
    const [major, minor] = (pinned ?? '').slice(1).split('.');
    expect(info.major).toBe(major);
    expect(info.minor).toBe(minor);
  });

  it('answers /version and lists the Istio, Gateway API and meshmedic API groups', async () => {
    const { kc } = clients();
    const version = await kubeGetJson<{ gitVersion: string }>(kc, '/version');
    expect(version.gitVersion).toMatch(/^v1\.\d+\.\d+/);
    const groups = await kubeGetJson<{ groups: { name: string }[] }>(kc, '/apis');
    const names = groups.groups.map((g) => g.name);
    expect(names).toEqual(
      expect.arrayContaining(['networking.istio.io', 'security.istio.io', 'gateway.networking.k8s.io', 'meshmedic.io']),
    );
    expect(testbed().crds).toEqual(
      expect.arrayContaining([
        'destinationrules.networking.istio.io',
        'httproutes.gateway.networking.k8s.io',
        'meshhealthpolicies.meshmedic.io',
        'meshremediations.meshmedic.io',
      ]),
    );
  });
});
