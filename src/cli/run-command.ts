import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { startHealthServer } from '../controller/health-server.js';
import { OperatorMetrics } from '../controller/metrics.js';
import { Operator } from '../controller/operator.js';
import { preflight } from '../controller/preflight.js';
import type { CliIo } from './io.js';

export const RUN_USAGE = `Usage: meshmedic run [options]

Starts the controller: in cluster (service account) or out of cluster (--kubeconfig, KUBECONFIG, ~/.kube/config).

Options:
      --kubeconfig FILE         kubeconfig to use (default: in-cluster config, else the default kubeconfig)
      --namespace NS            namespace of the leader Lease (default: the pod's namespace, else meshmedic-system)
      --metrics-port PORT       /metrics, /healthz, /readyz (default 8080; 0 = off)
      --resync DURATION_SECONDS periodic full re-evaluation (default 300)
      --log-level LEVEL         pino level (default info)
  -h, --help
`;

function podNamespace(): string | undefined {
  try {
    return readFileSync('/var/run/secrets/kubernetes.io/serviceaccount/namespace', 'utf8').trim();
  } catch {
    return undefined;
  }
}

export async function runCommand(args: string[], io: CliIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      kubeconfig: { type: 'string' },
      namespace: { type: 'string' },
      'metrics-port': { type: 'string', default: '8080' },
      resync: { type: 'string', default: '300' },
      'log-level': { type: 'string', default: 'info' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    io.stdout.write(RUN_USAGE);
    return 0;
  }
  const log = pino({ level: values['log-level'], base: { component: 'meshmedic' } });
  const kc = new KubeConfig();
  if (values.kubeconfig) kc.loadFromFile(values.kubeconfig);
  else if (process.env['KUBERNETES_SERVICE_HOST'] && !process.env['KUBECONFIG']) kc.loadFromCluster();
  else kc.loadFromDefault();
  const namespace = values.namespace ?? podNamespace() ?? 'meshmedic-system';
  const problems = await preflight(kc, namespace);
  if (problems.length > 0) {
    for (const p of problems) io.stderr.write(`meshmedic run: ${p}\n`);
    return 2;
  }
  const metrics = new OperatorMetrics(true);
  const operator = new Operator({
    kubeConfig: kc,
    log,
    namespace,
    resyncIntervalMs: Number(values.resync) * 1000,
    metrics,
  });
  const port = Number(values['metrics-port']);
  const server = port > 0 ? await startHealthServer(port, metrics.registry, () => operator.ready) : undefined;
  operator.start();
  log.info({ cluster: kc.getCurrentCluster()?.server, metricsPort: port }, 'meshmedic controller started');
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info({ signal }, 'shutting down: finishing in-flight work, releasing the lease');
      void operator.stop().finally(() => {
        server?.close();
        resolve();
      });
    };
    process.once('SIGTERM', () => shutdown('SIGTERM'));
    process.once('SIGINT', () => shutdown('SIGINT'));
  });
  return 0;
}
