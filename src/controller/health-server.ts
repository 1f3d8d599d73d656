import { createServer, type Server } from 'node:http';
import type { Registry } from 'prom-client';

/** /healthz (process alive), /readyz (caches synced or standing by), /metrics (Prometheus). */
export function startHealthServer(
  port: number,
  registry: Registry,
  ready: () => boolean,
  host = '0.0.0.0',
): Promise<Server> {
  const server = createServer((req, res) => {
    const url = req.url ?? '/';
    if (url.startsWith('/healthz')) {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
    } else if (url.startsWith('/readyz')) {
      const ok = ready();
      res.writeHead(ok ? 200 : 503, { 'content-type': 'text/plain' }).end(ok ? 'ready\n' : 'not ready\n');
    } else if (url.startsWith('/metrics')) {
      registry.metrics().then(
        (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
        (err: unknown) => res.writeHead(500).end(String(err)),
      );
    } else {
      res.writeHead(404).end();
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}
