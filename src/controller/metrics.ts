import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The operator's Prometheus metrics (one registry per operator instance, so tests can run several). */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: 'meshmedic_reconcile_total',
    help: 'Reconciles by kind of key.',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly reconcileErrors = new Counter({
    name: 'meshmedic_reconcile_errors_total',
    help: 'Reconciles that failed (retried with backoff).',
    labelNames: ['kind'],
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: 'meshmedic_reconcile_duration_seconds',
    help: 'Reconcile duration.',
    labelNames: ['kind'],
    buckets: [0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5],
    registers: [this.registry],
  });
  readonly queueDepth = new Gauge({
    name: 'meshmedic_queue_depth',
    help: 'Keys waiting, running or backing off.',
    registers: [this.registry],
  });
  readonly findings = new Gauge({
    name: 'meshmedic_findings',
    help: 'Current findings by rule and severity.',
    labelNames: ['rule', 'severity'],
    registers: [this.registry],
  });
  readonly remediations = new Gauge({
    name: 'meshmedic_remediations',
    help: 'MeshRemediations by phase.',
    labelNames: ['phase'],
    registers: [this.registry],
  });
  readonly apiWrites = new Counter({
    name: 'meshmedic_api_writes_total',
    help: 'Write requests sent to the API server (dry runs included).',
    labelNames: ['verb', 'kind', 'dry_run'],
    registers: [this.registry],
  });
  readonly watchedKinds = new Gauge({
    name: 'meshmedic_watched_kind',
    help: 'Mesh kinds the operator watches (watched="true") or not (not served, or not permitted; see the log).',
    labelNames: ['kind', 'watched'],
    registers: [this.registry],
  });
  readonly leader = new Gauge({
    name: 'meshmedic_leader',
    help: '1 while this instance holds the leader lease.',
    registers: [this.registry],
  });

  constructor(defaultMetrics = false) {
    if (defaultMetrics) collectDefaultMetrics({ register: this.registry });
  }

  async writesTotal(): Promise<number> {
    const m = await this.apiWrites.get();
    return m.values.filter((v) => v.labels['dry_run'] === 'false').reduce((s, v) => s + v.value, 0);
  }
}
