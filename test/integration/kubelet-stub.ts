// A stand-in for the kubelet's container-log endpoint, and a Node that points the real kube-apiserver at it.
//
// kube-apiserver serves GET /api/v1/namespaces/{ns}/pods/{pod}/log by proxying to the kubelet of the pod's
// node (k8s.io/kubernetes v1.34 pkg/registry/core/pod/strategy.go LogLocation):
//   https://{node address}:{node.status.daemonEndpoints.kubeletEndpoint.Port}/containerLogs/{ns}/{pod}/{container}
//   ?follow=true&previous=true&timestamps=true&sinceSeconds=N&sinceTime=T&tailLines=N&limitBytes=N (each only when set)
// The address is the first of node.status.addresses by --kubelet-preferred-address-types (default Hostname,
// InternalDNS, InternalIP, ExternalDNS, ExternalIP); the kubelet's certificate is not verified unless
// --kubelet-certificate-authority is set, and no client certificate is sent unless --kubelet-client-certificate
// is. The test bed sets none of them, so this stub (self-signed, 127.0.0.1) is reachable as it is.
// Only the container-log level is stubbed: the pods/log request, its authorization and proxying are the real
// API server's.
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { kubeRequest } from '../testbed/http.js';

const run = promisify(execFile);

export interface StubRequest {
  namespace: string;
  pod: string;
  container: string;
  query: URLSearchParams;
}

export interface ContainerLog {
  text: string;
  /** Answer only the last tailLines lines, as the kubelet does (default true). */
  honorTailLines?: boolean;
}

export interface KubeletStub {
  port: number;
  requests: StubRequest[];
  setLog(namespace: string, pod: string, container: string, log: ContainerLog): void;
  close(): Promise<void>;
}

async function selfSignedCert(): Promise<{ key: Buffer; cert: Buffer; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'meshmedic-kubelet-stub-'));
  await run(
    'openssl',
    [
      'req',
      '-x509',
      '-nodes',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-keyout',
      'tls.key',
      '-out',
      'tls.crt',
      '-days',
      '1',
      '-subj',
      '/CN=kubelet-stub',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { cwd: dir },
  );
  return {
    key: await readFile(join(dir, 'tls.key')),
    cert: await readFile(join(dir, 'tls.crt')),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** Starts the stub on 127.0.0.1 (a free port). */
export async function startKubeletStub(): Promise<KubeletStub> {
  const { key, cert, cleanup } = await selfSignedCert();
  const logs = new Map<string, ContainerLog>();
  const requests: StubRequest[] = [];
  const server: Server = createServer({ key, cert }, (req, res) => {
    const url = new URL(req.url ?? '/', 'https://127.0.0.1');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) {
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end(`kubelet stub: no handler for ${req.method} ${url.pathname}`);
      return;
    }
    const [, namespace = '', pod = '', container = ''] = m.map(decodeURIComponent);
    requests.push({ namespace, pod, container, query: url.searchParams });
    const log = logs.get(`${namespace}/${pod}/${container}`);
    if (!log) {
      res
        .writeHead(404, { 'Content-Type': 'text/plain' })
        .end(`container ${container} of pod ${namespace}/${pod} not found`);
      return;
    }
    let lines = log.text.split('\n');
    if (lines.at(-1) === '') lines.pop();
    const tail = url.searchParams.get('tailLines');
    if (tail !== null && log.honorTailLines !== false) lines = lines.slice(-Number(tail));
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(lines.map((l) => `${l}\n`).join(''));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('kubelet stub: no port');
  return {
    port: address.port,
    requests,
    setLog: (namespace, pod, container, log) => logs.set(`${namespace}/${pod}/${container}`, log),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await cleanup();
    },
  };
}

/**
 * Registers a Node whose kubelet is the stub: InternalIP 127.0.0.1 and kubeletEndpoint.Port = port. Node status
 * is a subresource: the Node is created, then its status patched. Returns a function that deletes it.
 */
export async function registerStubNode(
  kc: KubeConfig,
  core: CoreV1Api,
  name: string,
  port: number,
): Promise<() => Promise<void>> {
  await core.createNode({ body: { metadata: { name, labels: { 'meshmedic.io/test': 'kubelet-stub' } } } });
  const res = await kubeRequest(
    kc,
    'PATCH',
    `/api/v1/nodes/${name}/status`,
    {
      status: {
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
      },
    },
    'application/merge-patch+json',
  );
  if (res.status !== 200) throw new Error(`PATCH node ${name} status: HTTP ${res.status}: ${res.body.slice(0, 300)}`);
  return async () => {
    await core.deleteNode({ name }).catch(() => undefined);
  };
}
