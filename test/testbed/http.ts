// Raw requests to the API server with a KubeConfig's credentials, for what the typed clients
// do not cover well: plain-JSON CRD manifests (the typed models drop fields they do not know),
// discovery documents, /readyz and /version.
import { request, type Agent, type RequestOptions } from 'node:https';
import type { KubeConfig } from '@kubernetes/client-node';

export interface HttpResult {
  status: number;
  body: string;
}

export async function kubeRequest(
  kc: KubeConfig,
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
  accept = 'application/json',
  /** A connection pool of the caller's (keep-alive, many sockets); default: Node's global agent. */
  agent?: Agent,
): Promise<HttpResult> {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error('kubeconfig has no current cluster');
  const url = new URL(cluster.server.replace(/\/$/, '') + path);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  const options: RequestOptions = {
    method,
    headers: {
      Accept: accept,
      ...(payload === undefined ? {} : { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(payload) }),
    },
    timeout: 30_000,
  };
  await kc.applyToHTTPSOptions(options);
  if (agent) options.agent = agent;
  return new Promise<HttpResult>((resolve, reject) => {
    const req = request(url, options, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export async function kubeGetJson<T>(kc: KubeConfig, path: string): Promise<T> {
  const res = await kubeRequest(kc, 'GET', path);
  if (res.status !== 200) throw new Error(`GET ${path}: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
  return JSON.parse(res.body) as T;
}
