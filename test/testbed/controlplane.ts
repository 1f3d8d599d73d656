// Starts etcd and kube-apiserver on free loopback ports the way controller-runtime's envtest does,
// with generated certificates, and writes an admin kubeconfig into a temporary directory.
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { TestbedBinaries } from './binaries.js';
import { createPki, type Pki } from './certs.js';
import { kubeRequest } from './http.js';
import { freePort, registerTempDir, removeTempDir, startProcess, waitFor, type ManagedProcess } from './processes.js';

export interface ControlPlane {
  kubeconfigPath: string;
  server: string;
  dir: string;
  stop(): Promise<void>;
  /**
   * Stops only kube-apiserver (SIGTERM, then SIGKILL after graceMs; graceMs 0 kills it at once, like a
   * crash). etcd keeps running with its data.
   */
  stopApiserver(graceMs?: number): Promise<void>;
  /**
   * Starts kube-apiserver again on the same port with the same certificates and etcd, so the kubeconfig
   * stays valid; resolves when /readyz answers 200.
   */
  startApiserver(): Promise<void>;
}

const ATTEMPTS = 3;

async function kubeconfigYaml(server: string, pki: Pki): Promise<string> {
  const b64 = async (file: string): Promise<string> => (await readFile(file)).toString('base64');
  // JSON is YAML: kubectl, client-go and @kubernetes/client-node all read it.
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'meshmedic-testbed', cluster: { server, 'certificate-authority-data': await b64(pki.caCert) } }],
    users: [
      {
        name: 'meshmedic-testbed-admin',
        user: { 'client-certificate-data': await b64(pki.adminCert), 'client-key-data': await b64(pki.adminKey) },
      },
    ],
    contexts: [
      { name: 'meshmedic-testbed', context: { cluster: 'meshmedic-testbed', user: 'meshmedic-testbed-admin' } },
    ],
    'current-context': 'meshmedic-testbed',
  };
  return `${JSON.stringify(config, null, 2)}\n`;
}

async function startEtcd(bins: TestbedBinaries, dir: string): Promise<{ proc: ManagedProcess; url: string }> {
  const [clientPort, peerPort] = [await freePort(), await freePort()];
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const proc = startProcess(
    'etcd',
    bins.etcd,
    [
      '--name=testbed',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${url}`,
      `--advertise-client-urls=${url}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=testbed=${peer}`,
      '--unsafe-no-fsync=true',
      '--log-level=warn',
    ],
    join(dir, 'etcd.log'),
    dir,
  );
  await waitFor(
    'etcd /health',
    async () => {
      const res = await fetch(`${url}/health`);
      return res.ok && ((await res.json()) as { health?: string }).health === 'true';
    },
    30_000,
    proc,
  );
  return { proc, url };
}

async function startApiserver(
  bins: TestbedBinaries,
  dir: string,
  pki: Pki,
  etcdUrl: string,
  reusePort?: number,
): Promise<{ proc: ManagedProcess; server: string; kubeconfigPath: string; port: number }> {
  const port = reusePort ?? (await freePort());
  const server = `https://127.0.0.1:${port}`;
  const certDir = join(dir, 'apiserver-certs');
  await mkdir(certDir, { recursive: true });
  const proc = startProcess(
    'kube-apiserver',
    bins.kubeApiserver,
    [
      `--etcd-servers=${etcdUrl}`,
      `--cert-dir=${certDir}`,
      `--tls-cert-file=${pki.servingCert}`,
      `--tls-private-key-file=${pki.servingKey}`,
      `--client-ca-file=${pki.caCert}`,
      `--secure-port=${port}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      // kubeadm's default (and README's): the examples' fixed ClusterIPs are inside it.
      '--service-cluster-ip-range=10.96.0.0/12',
      '--allow-privileged=true',
      '--disable-admission-plugins=ServiceAccount',
      '--authorization-mode=RBAC',
      `--service-account-issuer=${server}/`,
      `--service-account-key-file=${pki.serviceAccountPub}`,
      `--service-account-signing-key-file=${pki.serviceAccountKey}`,
      '--v=0',
    ],
    join(dir, 'kube-apiserver.log'),
    dir,
  );
  const kubeconfigPath = join(dir, 'kubeconfig');
  await writeFile(kubeconfigPath, await kubeconfigYaml(server, pki), { mode: 0o600 });
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfigPath);
  await waitFor(
    'kube-apiserver /readyz',
    async () => (await kubeRequest(kc, 'GET', '/readyz')).status === 200,
    120_000,
    proc,
  );
  return { proc, server, kubeconfigPath, port };
}

async function attempt(bins: TestbedBinaries): Promise<ControlPlane> {
  const dir = await mkdtemp(join(tmpdir(), 'meshmedic-testbed-'));
  registerTempDir(dir);
  let etcdProc: ManagedProcess | undefined;
  let apiProc: ManagedProcess | undefined;
  const stop = async (): Promise<void> => {
    // apiserver first, then its storage
    for (const p of [apiProc, etcdProc]) await p?.stop();
    removeTempDir(dir);
  };
  try {
    const pki = await createPki(dir);
    const etcd = await startEtcd(bins, dir);
    etcdProc = etcd.proc;
    const api = await startApiserver(bins, dir, pki, etcd.url);
    apiProc = api.proc;
    const stopApiserver = async (graceMs = 15_000): Promise<void> => {
      await apiProc?.stop(graceMs);
      apiProc = undefined;
    };
    const restart = async (): Promise<void> => {
      if (apiProc && !apiProc.hasExited()) throw new Error('kube-apiserver is running: stopApiserver() first');
      apiProc = (await startApiserver(bins, dir, pki, etcd.url, api.port)).proc;
    };
    return {
      kubeconfigPath: api.kubeconfigPath,
      server: api.server,
      dir,
      stop,
      stopApiserver,
      startApiserver: restart,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** Starts a fresh control plane; retries with new ports when one was taken meanwhile. */
export async function startControlPlane(bins: TestbedBinaries): Promise<ControlPlane> {
  let last: unknown;
  for (let i = 1; i <= ATTEMPTS; i++) {
    try {
      return await attempt(bins);
    } catch (err) {
      last = err;
      if (!/address already in use|bind:/i.test(String(err))) break;
      console.warn(`[testbed] port clash, retrying (${i}/${ATTEMPTS})`);
    }
  }
  throw last;
}
