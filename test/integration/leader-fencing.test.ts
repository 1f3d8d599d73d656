// Fenced leadership on a real API server (never a fake one): a leader cut off from the API server stops
// leading within its renew deadline, before another instance may take over, and writes nothing after it,
// even when the link heals; a process blocked past its deadline is fenced before any of its timers runs.
import { createServer, connect, type Server, type Socket } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.js';
import { Operator } from '../../src/controller/operator.js';
import { FencedError, KubeClient } from '../../src/kube/kube-client.js';
import type { KubeObject, ObjectRef } from '../../src/model/types.js';
import { clientsFor, skipReason, type Clients } from '../testbed/client.js';
import {
  capturingLog,
  clients,
  create,
  deletePolicy,
  namespace,
  phase,
  policy,
  read,
  seed001,
  startOperator,
  waitFor,
} from './operator-harness.js';

const NET = 'networking.istio.io/v1';
const MMR = 'meshmedic.io/v1alpha1';
const FIX_ANNOTATION = 'meshmedic.io/fixed-mm101';
/** The harness's timing (startOperator): lease 4 s, renew deadline 3 s, retry period 500 ms. */
const LEASE_MS = 4_000;
const RENEW_DEADLINE_MS = 3_000;
const RETRY_MS = 500;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const seconds = (ms: number): string => `${(ms / 1000).toFixed(2)} s`;

/**
 * A TCP proxy to the API server that can be partitioned: pause() stops forwarding bytes both ways and holds
 * every connection open (new ones are accepted and held too), as a network partition does; resume() heals it
 * and what was held back flows again, as TCP retransmits it after a partition.
 */
class PausableProxy {
  private readonly sockets = new Set<Socket>();
  private paused = false;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(host: string, port: number): Promise<PausableProxy> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    if (!address || typeof address === 'string') throw new Error('the proxy has no TCP address');
    const proxy = new PausableProxy(server, address.port);
    server.on('connection', (client) => proxy.relay(client, connect(port, host)));
    return proxy;
  }

  private relay(client: Socket, upstream: Socket): void {
    for (const s of [client, upstream]) {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      if (this.paused) s.pause();
    }
    this.forward(client, upstream);
    this.forward(upstream, client);
  }

  private forward(from: Socket, to: Socket): void {
    from.on('data', (chunk: Buffer) => {
      if (!to.write(chunk)) {
        from.pause();
        to.once('drain', () => !this.paused && from.resume());
      }
    });
    from.on('end', () => to.end());
    from.on('error', () => to.destroy());
    from.on('close', () => to.destroy());
  }

  pause(): void {
    this.paused = true;
    for (const s of this.sockets) s.pause();
  }

  resume(): void {
    this.paused = false;
    for (const s of this.sockets) s.resume();
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** The same cluster and credentials, reached through the proxy (the serving certificate is for 127.0.0.1). */
function throughProxy(kc: KubeConfig, port: number): KubeConfig {
  const current = kc.getCurrentCluster();
  if (!current) throw new Error('the test bed kubeconfig has no current cluster');
  const out = new KubeConfig();
  out.loadFromOptions({
    clusters: kc.clusters.map((cl) => (cl.name === current.name ? { ...cl, server: `https://127.0.0.1:${port}` } : cl)),
    users: kc.users,
    contexts: kc.contexts,
    currentContext: kc.currentContext,
  });
  return out;
}

/** Every write the instance sent, dry runs included. */
async function writesSent(op: Operator): Promise<number> {
  return (await op.metrics.apiWrites.get()).values.reduce((s, v) => s + v.value, 0);
}

async function leaderGauge(op: Operator): Promise<number | undefined> {
  return (await op.metrics.leader.get()).values[0]?.value;
}

async function appliedEvents(c: Clients, ns: string): Promise<number> {
  const events = await c.core.listNamespacedEvent({ namespace: ns });
  return events.items.filter(
    (e) =>
      e.reason === 'RemediationApplied' &&
      e.involvedObject.kind === 'DestinationRule' &&
      e.involvedObject.name === 'httpbin',
  ).length;
}

/**
 * Polls the two instances after the partition (at tPause) until b leads: when a stopped leading, when its
 * leader gauge fell to 0, when b took over (ms after tPause). Throws on two leaders at once, or no failover.
 */
async function watchFailover(
  a: Operator,
  b: Operator,
  tPause: number,
): Promise<{ aStopped: number | undefined; gaugeDown: number | undefined; bLeads: number }> {
  let aStopped: number | undefined;
  let gaugeDown: number | undefined;
  for (;;) {
    const now = performance.now() - tPause;
    if (a.isLeader && b.isLeader) throw new Error(`two leaders ${seconds(now)} after the partition`);
    if (aStopped === undefined && !a.isLeader) aStopped = now;
    if (gaugeDown === undefined && (await leaderGauge(a)) === 0) gaugeDown = now;
    if (now > 3 * LEASE_MS)
      throw new Error(`no failover ${seconds(now)} after the partition (a leading: ${a.isLeader})`);
    if (b.isLeader) return { aStopped, gaugeDown, bLeads: now };
    await sleep(25);
  }
}

function tlsMode(dr: KubeObject | undefined): string | undefined {
  return (dr?.spec as { trafficPolicy?: { tls?: { mode?: string } } } | undefined)?.trafficPolicy?.tls?.mode;
}

describe.skipIf(skipReason() !== undefined)('fenced leadership', () => {
  let c: Clients;
  let leaseNs: { name: string; remove: () => Promise<void> };
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    leaseNs = await namespace(c, 'mm-fence');
  });
  afterAll(async () => {
    for (const f of cleanups.reverse()) await f();
    await leaseNs?.remove();
  });

  it('a leader cut off from the API server stops leading within its renew deadline, before the other takes over, and writes nothing after, even once the link heals', async () => {
    const server = new URL(c.kc.getCurrentCluster()?.server ?? '');
    const proxy = await PausableProxy.start(server.hostname, Number(server.port));
    cleanups.push(() => proxy.close());
    const leaseName = `fence-${Date.now().toString(36)}`;
    const a = await startOperator(clientsFor(throughProxy(c.kc, proxy.port)), leaseNs.name, {
      identity: 'fenced-a',
      leaseName,
      log: capturingLog().log,
    });
    cleanups.push(() => a.stop());
    const b = new Operator({
      kubeConfig: c.kc,
      log: capturingLog().log,
      namespace: leaseNs.name,
      identity: 'direct-b',
      leaseName,
      leaseDurationSeconds: LEASE_MS / 1000,
      renewDeadlineMs: RENEW_DEADLINE_MS,
      retryPeriodMs: RETRY_MS,
      resyncIntervalMs: 3_600_000,
    });
    cleanups.push(() => b.stop());
    b.start();
    await sleep(4 * RETRY_MS); // b has tried and found the lease held
    expect([a.isLeader, b.isLeader]).toEqual([true, false]);
    await a.idle();
    const writesAtPause = await writesSent(a);

    const tPause = performance.now();
    proxy.pause();
    // Work that a leader would write: a faulty DestinationRule under an Enforce policy (a sees none of it).
    const ns = await namespace(c, 'fence');
    const policyName = `${ns.name}-policy`;
    cleanups.push(ns.remove, () => deletePolicy(c, policyName));
    for (const o of seed001(ns.name)) await create(c, o);
    await create(c, policy(policyName, ns.name, 'Enforce'));

    // a steps down by itself (no answer from the API server tells it to), and never while b leads.
    const { aStopped, gaugeDown, bLeads } = await watchFailover(a, b, tPause);
    console.info(
      `[fencing] after the partition: a stopped leading in ${seconds(aStopped ?? NaN)}, its leader gauge 0 after ${seconds(gaugeDown ?? NaN)}, b took over after ${seconds(bLeads)}`,
    );
    expect(aStopped).toBeDefined();
    expect(aStopped).toBeLessThanOrEqual(RENEW_DEADLINE_MS + RETRY_MS);
    expect(gaugeDown).toBeLessThanOrEqual(RENEW_DEADLINE_MS + RETRY_MS);
    expect(bLeads).toBeGreaterThan(aStopped ?? Infinity);
    // A standby is ready (/readyz), the leader gauge says it no longer leads.
    expect([a.isLeader, a.ready, await leaderGauge(a)]).toEqual([false, true, 0]);

    // b does the work: the DestinationRule fixed once, recorded in its annotation.
    const fixed = await waitFor(
      'b to fix the DestinationRule',
      async () => {
        const dr = await read(c, NET, 'DestinationRule', ns.name, 'httpbin');
        return tlsMode(dr) === 'ISTIO_MUTUAL' && dr?.metadata.annotations?.[FIX_ANNOTATION] ? dr : undefined;
      },
      30_000,
    );
    await waitFor(
      'the remediation Applied',
      async () => phase(await read(c, MMR, 'MeshRemediation', ns.name, 'mm101-destinationrule-httpbin')) === 'Applied',
    );
    await b.idle();
    const record = await read(c, MMR, 'MeshRemediation', ns.name, 'mm101-destinationrule-httpbin');
    expect(await appliedEvents(c, ns.name)).toBe(1);

    // The partition heals after two lease durations; what a held back flows again.
    await sleep(Math.max(0, 2 * LEASE_MS - (performance.now() - tPause)));
    proxy.resume();
    await sleep(LEASE_MS);
    await a.idle();
    await b.idle();

    expect(await writesSent(a)).toBe(writesAtPause);
    expect([a.isLeader, b.isLeader]).toEqual([false, true]);
    const after = await read(c, NET, 'DestinationRule', ns.name, 'httpbin');
    expect(after?.metadata.resourceVersion).toBe(fixed.metadata.resourceVersion);
    expect(after?.metadata.annotations?.[FIX_ANNOTATION]).toBe(fixed.metadata.annotations?.[FIX_ANNOTATION]);
    expect(
      (await read(c, MMR, 'MeshRemediation', ns.name, 'mm101-destinationrule-httpbin'))?.metadata.resourceVersion,
    ).toBe(record?.metadata.resourceVersion);
    expect(await appliedEvents(c, ns.name)).toBe(1);
  }, 90_000);

  it('a process blocked past its renew deadline holds no lease before any of its timers has run, and its writes reach no server', async () => {
    const renewDeadlineMs = 1_500;
    let stoppedLeading = 0;
    const elector = new LeaderElector(
      c.kc,
      {
        namespace: leaseNs.name,
        name: `blocked-${Date.now().toString(36)}`,
        identity: 'blocked',
        leaseDurationSeconds: 3,
        renewDeadlineMs,
        retryPeriodMs: 300,
      },
      capturingLog().log,
      { onStartedLeading: () => undefined, onStoppedLeading: () => void stoppedLeading++ },
    );
    cleanups.push(() => elector.stop());
    let sent = 0;
    const fenced = new KubeClient(
      c.kc,
      () => void sent++,
      () => {
        if (!elector.holdsLease()) throw new FencedError('not the leader');
      },
    );
    const ns = await namespace(c, 'fence-blocked');
    cleanups.push(ns.remove);
    const cm = await create(c, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'target', namespace: ns.name },
      data: { v: '1' },
    });
    const ref: ObjectRef = { apiVersion: 'v1', kind: 'ConfigMap', namespace: ns.name, name: 'target' };

    expect(elector.holdsLease()).toBe(false); // not started: not leading
    await expect(fenced.mergePatch(ref, { metadata: { annotations: { early: 'x' } } })).rejects.toBeInstanceOf(
      FencedError,
    );
    elector.start();
    await waitFor('the elector to lead', () => elector.isLeader);
    // Holding the lease, writes go through.
    await fenced.mergePatch(ref, { metadata: { annotations: { held: 'yes' } } });
    const before = await read(c, 'v1', 'ConfigMap', ns.name, 'target');
    expect(before?.metadata.annotations?.['held']).toBe('yes');
    expect(sent).toBe(1);

    // Blocked (like a process stopped and continued) past the deadline: from here to the writes no timer or I/O callback can run.
    expect([elector.isLeader, elector.holdsLease()]).toEqual([true, true]);
    const until = performance.now() + renewDeadlineMs + 300;
    while (performance.now() < until) {
      // spinning
    }
    const state = [elector.isLeader, elector.holdsLease()];
    const writes: Promise<unknown>[] = [
      fenced.mergePatch(ref, { metadata: { annotations: { late: 'x' } } }),
      fenced.apply({ ...cm, metadata: { name: 'target', namespace: ns.name }, data: { v: '2' } }),
      fenced.apply({ ...cm, metadata: { name: 'target', namespace: ns.name }, data: { v: '3' } }, { dryRun: true }),
      fenced.jsonPatch(ref, [{ op: 'replace', path: '/data/v', value: '4' }], true),
      fenced.patchStatus(ref, { phase: 'x' }),
      fenced.delete(ref),
      fenced.event(cm, 'Normal', 'Late', 'written after the deadline'),
    ];
    const refused = Promise.all(
      writes.map((w) =>
        w.then(
          () => 'sent',
          (err: unknown) => (err instanceof FencedError ? 'fenced' : String(err)),
        ),
      ),
    );
    // The elector's own timers have not run yet (it still believes it leads), but the clock fences it.
    expect(state).toEqual([true, false]);
    expect(await refused).toEqual(writes.map(() => 'fenced'));
    expect(sent).toBe(1);
    const unchanged = await read(c, 'v1', 'ConfigMap', ns.name, 'target');
    expect(unchanged?.metadata.resourceVersion).toBe(before?.metadata.resourceVersion);
    expect((await c.core.listNamespacedEvent({ namespace: ns.name })).items.filter((e) => e.reason === 'Late')).toEqual(
      [],
    );
    // Once its timers run, the elector steps down by itself (and may lead again: the lease was still its own).
    await waitFor('the elector to step down', () => stoppedLeading >= 1, 5_000);
  });
});
