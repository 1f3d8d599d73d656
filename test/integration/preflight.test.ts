// `meshmedic run` checks once, at start-up, what would keep the operator from working, and says it plainly.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from '../../src/cli/run-command.js';
import { preflight } from '../../src/controller/preflight.js';
import { skipReason, type Clients } from '../testbed/client.js';
import { clients, namespace } from './operator-harness.js';

function sink(): { stream: Writable; text: () => string } {
  let text = '';
  return {
    stream: new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString('utf8');
        done();
      },
    }),
    text: () => text,
  };
}

describe.skipIf(skipReason() !== undefined)('start-up checks of meshmedic run (real API server)', () => {
  let c: Clients;
  let ns: { name: string; remove: () => Promise<void> };
  const dir = mkdtempSync(join(tmpdir(), 'meshmedic-preflight-'));

  beforeAll(async () => {
    c = clients();
    ns = await namespace(c, 'preflight');
  });
  afterAll(async () => {
    await ns?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('passes for an identity that has what the operator needs, in a namespace that exists', async () => {
    expect(await preflight(c.kc, ns.name)).toEqual([]);
  });

  it('names the missing namespace and exits 2 before starting (no API error every few seconds)', async () => {
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, c.kc.exportConfig());
    const out = sink();
    const err = sink();
    const code = await runCommand(['--kubeconfig', file, '--namespace', 'no-such-namespace', '--metrics-port', '0'], {
      stdout: out.stream,
      stderr: err.stream,
      color: false,
    });
    expect(code).toBe(2);
    expect(err.text()).toContain('namespace no-such-namespace does not exist');
    expect(err.text()).toContain('--namespace');
  });

  it('lists the permissions a ServiceAccount without RBAC lacks', async () => {
    await c.core.createNamespacedServiceAccount({ namespace: ns.name, body: { metadata: { name: 'bare' } } });
    const token = await c.core.createNamespacedServiceAccountToken({
      name: 'bare',
      namespace: ns.name,
      body: { spec: { audiences: [], expirationSeconds: 600 } },
    });
    const cluster = c.kc.getCurrentCluster();
    if (!cluster || !token.status?.token) throw new Error('no cluster or token');
    const kc = new KubeConfig();
    kc.loadFromClusterAndUser({ ...cluster, name: 'testbed' }, { name: 'bare', token: token.status.token });
    const problems = await preflight(kc, ns.name);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`create leases.coordination.k8s.io in namespace ${ns.name}`);
    expect(problems[0]).toContain('watch meshremediations.meshmedic.io cluster-wide');
    expect(problems[0]).toContain('deploy/rbac.yaml');
  });
});
