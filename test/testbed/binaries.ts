// Finds the test bed's binaries through scripts/testbed/build.sh, building them when missing.
import { execFile, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
export const buildScript = fileURLToPath(new URL('../../scripts/testbed/build.sh', import.meta.url));

export interface TestbedBinaries {
  kubeApiserver: string;
  etcd: string;
  istioCrds: string;
  /** The Gateway API's standard-channel CRDs, at the version Istio requires. */
  gatewayApiCrds: string;
  gatewayApiVersion: string;
  kubernetesVersion: string;
  etcdVersion: string;
  istioApiVersion: string;
  /** The helm CLI (build.sh helm), for test/integration/helm-chart.test.ts. */
  helm: string;
  helmVersion: string;
}

function parse(output: string): TestbedBinaries {
  const env = new Map<string, string>();
  for (const line of output.split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0) env.set(line.slice(0, eq), line.slice(eq + 1).trim());
  }
  const get = (key: string): string => {
    const value = env.get(key);
    if (!value) throw new Error(`${buildScript} printed no ${key}`);
    return value;
  };
  return {
    kubeApiserver: get('KUBE_APISERVER'),
    etcd: get('ETCD'),
    istioCrds: get('ISTIO_CRDS'),
    gatewayApiCrds: get('GATEWAY_API_CRDS'),
    gatewayApiVersion: get('GATEWAY_API_VERSION'),
    kubernetesVersion: get('KUBERNETES_VERSION'),
    etcdVersion: get('ETCD_VERSION'),
    istioApiVersion: get('ISTIO_API_VERSION'),
    helm: get('HELM'),
    helmVersion: get('HELM_VERSION'),
  };
}

/** build.sh's components; the paths of those not asked for may not exist. */
export type Component = 'kube-apiserver' | 'etcd' | 'istio-crds' | 'helm';

/** The cached binaries, or undefined when they are not built (or their pins changed). */
export async function cachedBinaries(components: Component[] = []): Promise<TestbedBinaries | undefined> {
  try {
    const { stdout } = await run('bash', [buildScript, '--paths', ...components]);
    return parse(stdout);
  } catch (err) {
    if ((err as { code?: unknown }).code === 3) return undefined;
    throw err;
  }
}

/** Runs the build (minutes when cold), its progress shown on stderr, and returns the paths. */
export async function buildBinaries(components: Component[] = []): Promise<TestbedBinaries> {
  const child = spawn('bash', [buildScript, ...components], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  });
  if (code !== 0) throw new Error(`${buildScript} exited with ${String(code)}`);
  return parse(stdout);
}

export async function ensureBinaries(components: Component[] = []): Promise<TestbedBinaries> {
  return (await cachedBinaries(components)) ?? buildBinaries(components);
}
