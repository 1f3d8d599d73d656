// The path docs/operator.md walks a newcomer through, with the commands it prints, as processes:
// npm run testbed:up → kubectl apply an example and the sample policy → meshmedic run → a proposal whose
// status prints the approve command → that command → the fix is applied and the finding is gone → testbed:down.
// kubectl is not on this machine: its three commands (apply, label, annotate) are done through the API
// with what they send (server-side apply as "kubectl", merge patches of labels and annotations).
import { spawn, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { KubeConfig, PatchStrategy, type KubernetesObject } from '@kubernetes/client-node';
import { loadAll } from 'js-yaml';
import { afterAll, describe, expect, it } from 'vitest';
import type { KubeObject } from '../../src/model/types.js';
import { clientsFor, skipReason, type Clients } from '../testbed/client.js';
import { dedicatedBinaries } from '../testbed/dedicated.js';
import { kubeRequest } from '../testbed/http.js';
import { read, waitFor } from './operator-harness.js';

const bins = skipReason() !== undefined ? undefined : await dedicatedBinaries();
const MMR = 'meshmedic.io/v1alpha1';
const NODE = 'node_modules/.bin/node';

/** Runs a command, collecting its output; resolves once `ready` matches stdout. */
function start(
  cmd: string,
  args: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; out: () => string }> {
  const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${cmd} ${args.join(' ')} not ready after 120 s:\n${out}`)),
      120_000,
    );
    const onData = (b: Buffer): void => {
      out += b.toString();
      if (ready.test(out)) {
        clearTimeout(timer);
        resolve({ child, out: () => out });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => reject(new Error(`${cmd} exited with ${code}:\n${out}`)));
  });
}

function manifests(path: string): KubernetesObject[] {
  const files = path.endsWith('.yaml')
    ? [path]
    : readdirSync(path)
        .filter((f) => f.endsWith('.yaml'))
        .map((f) => join(path, f));
  return files.flatMap((f) => loadAll(readFileSync(f, 'utf8')) as KubernetesObject[]).filter(Boolean);
}

/** kubectl apply -f PATH (server-side, field manager kubectl). */
async function kubectlApply(c: Clients, path: string): Promise<void> {
  for (const o of manifests(path))
    await c.objects.patch(o, undefined, undefined, 'kubectl', true, PatchStrategy.ServerSideApply);
}

/** `kubectl -n NS annotate meshremediation NAME KEY=VALUE --overwrite`, as printed, sent as kubectl sends it. */
async function runPrintedAnnotate(kc: KubeConfig, command: string): Promise<void> {
  const m = /^kubectl -n (\S+) annotate meshremediation (\S+) ([^=\s]+)=(\S+) --overwrite$/.exec(command);
  expect(m, `a kubectl annotate command: ${command}`).not.toBeNull();
  const [, ns, name, key, value] = m as RegExpExecArray;
  const res = await kubeRequest(
    kc,
    'PATCH',
    `/apis/meshmedic.io/v1alpha1/namespaces/${ns}/meshremediations/${name}`,
    { metadata: { annotations: { [key as string]: value } } },
    'application/merge-patch+json',
  );
  expect(res.status, res.body).toBe(200);
}

describe.skipIf(bins === undefined)('the newcomer path of docs/operator.md', () => {
  const children: ChildProcess[] = [];
  afterAll(async () => {
    for (const child of children.reverse()) {
      if (child.exitCode !== null) continue;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    }
  });

  it('testbed:up, apply seed 001, meshmedic run, approve the printed command: the fix lands and its finding is gone', async () => {
    const up = await start(NODE, ['--import', 'tsx', 'scripts/testbed/up.ts'], /export KUBECONFIG=\S+/);
    children.push(up.child);
    const kubeconfig = /export KUBECONFIG=(\S+)/.exec(up.out())?.[1] as string;
    const kc = new KubeConfig();
    kc.loadFromFile(kubeconfig);
    const c = clientsFor(kc);

    await kubectlApply(c, 'deploy/sample-policy.yaml');
    await kubectlApply(c, 'examples/001-dr-overrides-mtls');
    const label = await kubeRequest(
      kc,
      'PATCH',
      '/api/v1/namespaces/foo',
      { metadata: { labels: { 'meshmedic.io/enabled': 'true' } } },
      'application/merge-patch+json',
    );
    expect(label.status, label.body).toBe(200);

    const op = await start(NODE, ['dist/cli/main.js', 'run', '--namespace', 'default'], /"msg":"[^"]*(lead|ready)/i, {
      ...process.env,
      KUBECONFIG: kubeconfig,
    });
    children.push(op.child);

    const proposed = await waitFor(
      'the MM101 proposal with its approve command',
      async () => {
        const mmr = await read(c, MMR, 'MeshRemediation', 'foo', 'mm101-destinationrule-httpbin');
        const message = String((mmr?.status as { message?: string } | undefined)?.message ?? '');
        return /approve with (kubectl .*--overwrite)/.exec(message)?.[1];
      },
      60_000,
    );
    // Seed 001 has more than the httpbin finding (auto mTLS is off: Service sleep gets one too): count them.
    const mm101 = async (): Promise<number | undefined> => {
      const p = await read(c, 'meshmedic.io/v1alpha1', 'MeshHealthPolicy', undefined, 'sample');
      return (
        (p?.status as { findings?: { byRule?: Record<string, number | null> } } | undefined)?.findings?.byRule?.[
          'MM101'
        ] ?? undefined
      );
    };
    const before = await waitFor('the policy to count the MM101 findings', mm101, 60_000);
    await runPrintedAnnotate(kc, proposed);

    const applied = await waitFor(
      'the proposal applied',
      async () => {
        const mmr = await read(c, MMR, 'MeshRemediation', 'foo', 'mm101-destinationrule-httpbin');
        return (mmr?.status as { phase?: string } | undefined)?.phase === 'Applied' ? mmr : undefined;
      },
      60_000,
    );
    expect(applied.status).toMatchObject({ phase: 'Applied' });
    const dr = (await read(c, 'networking.istio.io/v1', 'DestinationRule', 'foo', 'httpbin')) as KubeObject;
    expect((dr.spec as { trafficPolicy?: { tls?: unknown } }).trafficPolicy?.tls).toEqual({ mode: 'ISTIO_MUTUAL' });
    await waitFor(
      "the policy to count one MM101 finding less (httpbin's is gone)",
      async () => ((await mm101()) ?? 0) < before,
      60_000,
    );
  }, 300_000);
});
