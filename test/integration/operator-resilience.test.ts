// The operator's resilience on a real API server (never a fake one): kube-apiserver restarted under a
// running operator, real 409 Conflicts on the operator's writes and on its leader lease, and two operator
// instances electing one leader and failing over (graceful stop and crash).
import { CoordinationV1Api, KubernetesObjectApi, V1MicroTime, type V1Lease } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { LeaderElector } from '../../src/controller/leader-election.js';
import { Operator } from '../../src/controller/operator.js';
import type { KubeObject } from '../../src/model/types.js';
import { clientsFor, skipReason, type Clients } from '../testbed/client.js';
import {
  dedicatedBinaries,
  dedicatedSkipReason,
  startDedicatedControlPlane,
  type DedicatedControlPlane,
} from '../testbed/dedicated.js';
import {
  annotate,
  capturingLog,
  clients,
  create,
  deletePolicy,
  fingerprintOf,
  namespace,
  phase,
  policy,
  read,
  remediations,
  seed000,
  seed001,
  seed003,
  startOperator,
  waitFor,
} from './operator-harness.js';

const MMR = 'meshmedic.io/v1alpha1';
const NET = 'networking.istio.io/v1';
const noCluster = skipReason() !== undefined;
const bins = noCluster ? undefined : await dedicatedBinaries();

type LogRecord = Record<string, unknown>;

/** rule|kind/namespace/name of a MeshRemediation's target. */
function ruleAndTarget(mmr: KubeObject): string {
  const s = mmr.spec as { rule: string; target: { kind: string; namespace?: string; name: string } };
  return `${s.rule}|${s.target.kind}/${s.target.namespace ?? ''}/${s.target.name}`;
}

function countBy<T>(xs: T[], key: (x: T) => string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const x of xs) out[key(x)] = (out[key(x)] ?? 0) + 1;
  return out;
}

/** RemediationProposed Events (sent once, when a proposal is created) by the MeshRemediation they name. */
async function proposedEvents(c: Clients, ns: string): Promise<Record<string, number>> {
  const events = await c.core.listNamespacedEvent({ namespace: ns });
  return countBy(
    events.items.filter((e) => e.reason === 'RemediationProposed'),
    (e) => `${e.involvedObject.kind}/${e.involvedObject.name} ${(e.message ?? '').split(':')[0]}`,
  );
}

/** Objects in dependency order (what they refer to first), so no transient finding arises while they are created. */
function referencedFirst(objects: KubeObject[]): KubeObject[] {
  const rank = (o: KubeObject): number =>
    ['Service', 'ServiceEntry', 'Gateway', 'PeerAuthentication'].includes(o.kind) ? 0 : 1;
  return [...objects].sort((a, b) => rank(a) - rank(b));
}

async function proposal(c: Clients, ns: string, name: string): Promise<KubeObject | undefined> {
  const r = await read(c, MMR, 'MeshRemediation', ns, name);
  return phase(r) === 'Proposed' ? r : undefined;
}

async function reconcilesTotal(op: Operator): Promise<number> {
  return (await op.metrics.reconciles.get()).values.reduce((s, v) => s + v.value, 0);
}

const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

// ---- 1. kube-apiserver restarted under a running operator (a control plane of this file's own) -------

describe.skipIf(noCluster || bins === undefined)(
  `kube-apiserver restarted under a running operator${bins || noCluster ? '' : ` (skipped: ${dedicatedSkipReason})`}`,
  () => {
    let dedicated: DedicatedControlPlane | undefined;
    let c: Clients;
    let op: Operator | undefined;
    const captured = capturingLog();

    beforeAll(async () => {
      if (!bins) return;
      dedicated = await startDedicatedControlPlane(bins);
      c = clientsFor(dedicated.kc);
    });
    afterAll(async () => {
      await op?.stop();
      await dedicated?.plane.stop();
    });

    it('recovers by itself after a graceful stop and after a kill: watches reconnect, new findings are proposed, nothing is proposed twice', async () => {
      if (!dedicated) throw new Error('no dedicated control plane');
      const plane = dedicated.plane;
      const leaseNs = await namespace(c, 'mm-system');
      // A renew deadline longer than the outage: this test is about the watches healing under a leader that
      // keeps its lease (a leader past its deadline steps down: test/integration/leader-fencing.test.ts).
      op = await startOperator(c, leaseNs.name, {
        log: captured.log,
        leaseDurationSeconds: 30,
        renewDeadlineMs: 20_000,
      });
      const ns = (await namespace(c, 'restart')).name;
      for (const o of seed001(ns)) await create(c, o);
      await create(c, policy(`${ns}-policy`, ns, 'Propose'));
      const first = await waitFor('the seed 001 proposal', () => proposal(c, ns, 'mm101-destinationrule-httpbin'));
      await op.idle();
      const firstVersion = (await read(c, MMR, 'MeshRemediation', ns, first.metadata.name))?.metadata.resourceVersion;
      const timings: string[] = [];

      // Round 1: SIGTERM (kube-apiserver's graceful shutdown; SIGKILL if it takes more than 5 s).
      // Round 2: SIGKILL at once, like a crash or an OOM kill.
      const rounds = [
        { how: 'graceful stop', graceMs: 5_000, seed: seed003, expected: 'mm103-serviceentry-mysql' },
        { how: 'kill', graceMs: 0, seed: seed000, expected: 'mm102-virtualservice-nginx-vs-dev' },
      ];
      for (const round of rounds) {
        const failuresBefore = captured.records.length;
        const watchFailures = (): LogRecord[] =>
          captured.records.slice(failuresBefore).filter((r) => r['msg'] === 'watch failed; restarting');
        const t0 = performance.now();
        await plane.stopApiserver(round.graceMs);
        const tStopped = performance.now();
        // While it is down the operator sees its watches fail and backs off instead of hammering the API
        // server (one watcher's retries are spaced out more and more), keeps its leadership and stays ready.
        const drRetries = (): number[] =>
          watchFailures()
            .filter((r) => r['resource'] === 'destinationrules')
            .map((r) => r['retryMs'] as number);
        while (drRetries().length < 3) {
          expect([op.isLeader, op.ready]).toEqual([true, true]);
          if (performance.now() - tStopped > 60_000)
            throw new Error(`the DestinationRule watcher failed only ${drRetries().length} times in 60 s`);
          await sleep(100);
        }
        expect(drRetries().slice(0, 3)).toEqual([500, 1000, 2000]);

        const upFrom = captured.records.length; // (a watch may reconnect before /readyz answers 200)
        const tStart = performance.now();
        await plane.startApiserver();
        const tUp = performance.now();
        // Every watch that failed reconnects by itself (each on its own backoff schedule).
        const failed = new Set(watchFailures().map((r) => r['resource'] as string));
        expect([...failed]).toEqual(
          expect.arrayContaining([
            'destinationrules',
            'virtualservices',
            'serviceentries',
            'gateways',
            'sidecars',
            'peerauthentications',
            'services',
            'namespaces',
            'configmaps',
            'meshhealthpolicies',
            'meshremediations',
          ]),
        );
        const restarted = (): Set<string> =>
          new Set(
            captured.records
              .slice(upFrom)
              .filter((r) => r['msg'] === 'watch restarted')
              .map((r) => r['resource'] as string),
          );
        await waitFor('every watch to reconnect', () => [...failed].every((r) => restarted().has(r)), 90_000);
        const reconnected = performance.now() - tUp;
        // Nothing was created while it was down; now a new faulty object: its proposal proves the watches work.
        for (const o of referencedFirst(round.seed(ns))) await create(c, o);
        const got = await waitFor(
          `the proposal ${round.expected} after the restart`,
          () => proposal(c, ns, round.expected),
          30_000,
        );
        const proposed = performance.now() - tUp;
        expect(got.metadata.name).toBe(round.expected);
        timings.push(
          `${round.how}: stopped in ${seconds(tStopped - t0)}, down ${seconds(tStart - t0)}, /readyz after ${seconds(tUp - tStart)}, ` +
            `all watches back ${seconds(reconnected)} after /readyz, new finding proposed ${seconds(proposed)} after /readyz`,
        );
        expect([op.isLeader, op.ready]).toEqual([true, true]);
      }
      console.info(`[resilience] kube-apiserver restarts: ${timings.join('; ')}`);

      await op.idle();
      // One MeshRemediation per (rule, target), one proposal Event per MeshRemediation; the open proposals are
      // exactly the three findings.
      const all = await remediations(c, ns);
      expect(countBy(all, ruleAndTarget)).toEqual(Object.fromEntries(all.map((r) => [ruleAndTarget(r), 1])));
      expect(
        all
          .filter((r) => phase(r) === 'Proposed')
          .map(ruleAndTarget)
          .sort(),
      ).toEqual([
        `MM101|DestinationRule/${ns}/httpbin`,
        `MM102|VirtualService/${ns}/nginx-vs-dev`,
        `MM103|ServiceEntry/${ns}/mysql`,
      ]);
      const events = await proposedEvents(c, ns);
      expect(Object.values(events).every((n) => n === 1)).toBe(true);
      expect(Object.keys(events)).toEqual(
        expect.arrayContaining([
          'DestinationRule/httpbin mm101-destinationrule-httpbin',
          'ServiceEntry/mysql mm103-serviceentry-mysql',
          'VirtualService/nginx-vs-dev mm102-virtualservice-nginx-vs-dev',
        ]),
      );
      // The first proposal was not written again after the restarts.
      expect((await read(c, MMR, 'MeshRemediation', ns, first.metadata.name))?.metadata.resourceVersion).toBe(
        firstVersion,
      );
      // An unchanged mesh after the restarts: a full resync writes nothing.
      const writes = await op.metrics.writesTotal();
      op.resyncAll();
      await op.idle();
      expect(await op.metrics.writesTotal()).toBe(writes);
      expect([op.isLeader, op.ready]).toEqual([true, true]);
    }, 240_000);
  },
);

// ---- the shared test bed cluster from here on --------------------------------------------------

describe.skipIf(noCluster)('409 Conflict from the real API server', () => {
  let c: Clients;
  let leaseNs: { name: string; remove: () => Promise<void> };
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    leaseNs = await namespace(c, 'mm-lease');
  });
  afterEach(() => {
    vi.restoreAllMocks();
  });
  afterAll(async () => {
    for (const f of cleanups.reverse()) await f();
    await leaseNs?.remove();
  });

  it('a server-side apply conflict (409) on an object a fix creates is retried with backoff until it goes through', async () => {
    const captured = capturingLog();
    const ns = await namespace(c, 'conflict');
    const policyName = `${ns.name}-policy`;
    cleanups.push(ns.remove, () => deletePolicy(c, policyName));
    // Another team owns a DestinationRule under the name MM102's fix creates, for another host.
    const squatter = {
      apiVersion: NET,
      kind: 'DestinationRule',
      metadata: { name: 'dev-bar-org-tls', namespace: ns.name },
      spec: { host: 'legacy.bar.org' },
    };
    await c.objects.create(squatter, undefined, undefined, 'platform-team');
    for (const o of seed000(ns.name)) await create(c, o);
    const op = await startOperator(c, leaseNs.name, {
      log: captured.log,
      leaseName: `conflict-${Date.now().toString(36)}`,
    });
    cleanups.push(() => op.stop());
    // A fix that creates an object is proposed even in Enforce: approved, its write meets the conflict.
    await create(c, policy(policyName, ns.name, 'Propose'));
    const mmr = await waitFor('the MM102 proposal', () => proposal(c, ns.name, 'mm102-virtualservice-nginx-vs-dev'));
    await annotate(
      c,
      { apiVersion: MMR, kind: 'MeshRemediation', namespace: ns.name, name: mmr.metadata.name },
      { 'meshmedic.io/approve': fingerprintOf(mmr) },
    );

    const key = `s|VirtualService/${ns.name}/nginx-vs-dev`;
    const failures = (): LogRecord[] =>
      captured.records.filter((r) => r['msg'] === 'reconcile failed; retrying with backoff' && r['key'] === key);
    await waitFor('two failed attempts of the VirtualService', () => failures().length >= 2);
    for (const f of failures()) {
      expect(f['code']).toBe(409);
      expect(f['err']).toMatch(/conflict with "platform-team".*\.spec\.host/);
    }
    // Retried by the queue alone (nothing in the cluster changed): attempts 1, 2, ... with growing delays.
    expect(failures().map((f) => f['attempt'])).toEqual(failures().map((_f, i) => i + 1));
    // The other team's object was not overwritten, and nothing was recorded as applied.
    const untouched = await read(c, NET, 'DestinationRule', ns.name, 'dev-bar-org-tls');
    expect((untouched?.spec as { host: string }).host).toBe('legacy.bar.org');
    const waiting = await waitFor('the proposal to say it waits on a conflict', async () => {
      const r = await read(c, MMR, 'MeshRemediation', ns.name, mmr.metadata.name);
      return (r?.status as { reason?: string } | undefined)?.reason === 'Conflict' ? r : undefined;
    });
    expect(phase(waiting)).toBe('Proposed');
    expect((waiting.status as { message: string }).message).toContain('platform-team');

    // The other team removes its object; that event concerns no subject of MM102, so only the retry can pick it up.
    await c.objects.delete(squatter);
    const created = await waitFor(
      'the DestinationRule created by the retried fix',
      async () => {
        const dr = await read(c, NET, 'DestinationRule', ns.name, 'dev-bar-org-tls');
        return (dr?.spec as { host?: string } | undefined)?.host === 'dev.bar.org' ? dr : undefined;
      },
      60_000,
    );
    expect((created.spec as { trafficPolicy: unknown }).trafficPolicy).toEqual({
      tls: { mode: 'SIMPLE', sni: 'dev.bar.org', subjectAltNames: ['dev.bar.org'] },
    });
    await waitFor(
      'the remediation Applied',
      async () =>
        phase(await read(c, MMR, 'MeshRemediation', ns.name, 'mm102-virtualservice-nginx-vs-dev')) === 'Applied',
    );
    await waitFor('the operator to log the fix applied', () =>
      captured.records.some((r) => r['msg'] === 'approved fix applied'),
    );
    expect([op.isLeader, op.ready]).toEqual([true, true]);
  });

  /** Two electors race for one lease: both read it before either writes, so the API server must refuse one write. */
  async function race(leaseName: string, existing: 'absent' | 'expired'): Promise<void> {
    const leases = c.kc.makeApiClient(CoordinationV1Api);
    if (existing === 'expired') {
      const long = new V1MicroTime(Date.now() - 60_000);
      await leases.createNamespacedLease({
        namespace: leaseNs.name,
        body: {
          metadata: { name: leaseName },
          spec: {
            holderIdentity: 'crashed-instance',
            leaseDurationSeconds: 3,
            acquireTime: long,
            renewTime: long,
            leaseTransitions: 4,
          },
        },
      });
    }
    const originalRead = CoordinationV1Api.prototype.readNamespacedLease;
    const originalCreate = CoordinationV1Api.prototype.createNamespacedLease;
    const originalReplace = CoordinationV1Api.prototype.replaceNamespacedLease;
    // Barrier: the first read of each elector returns only when both have read (the same resourceVersion).
    let arrived = 0;
    let releaseAll: () => void = () => undefined;
    const allRead = new Promise<void>((r) => (releaseAll = r));
    vi.spyOn(CoordinationV1Api.prototype, 'readNamespacedLease').mockImplementation(async function (
      this: CoordinationV1Api,
      ...args: Parameters<CoordinationV1Api['readNamespacedLease']>
    ) {
      const outcome = originalRead.apply(this, args).then(
        (v) => ({ v }),
        (e: unknown) => ({ e }),
      );
      if (args[0].name === leaseName && arrived < 2) {
        await outcome;
        if (++arrived === 2) releaseAll();
        await allRead;
      }
      const o = await outcome;
      if ('e' in o) throw o.e;
      return o.v;
    });
    // What the API server answered to each write, by the identity that sent it.
    const writes: { verb: string; identity: string | undefined; code: number }[] = [];
    const record = async (
      verb: string,
      identity: string | undefined,
      call: () => Promise<V1Lease>,
    ): Promise<V1Lease> => {
      try {
        const out = await call();
        writes.push({ verb, identity, code: verb === 'create' ? 201 : 200 });
        return out;
      } catch (err) {
        writes.push({ verb, identity, code: (err as { code?: number }).code ?? 0 });
        throw err;
      }
    };
    vi.spyOn(CoordinationV1Api.prototype, 'createNamespacedLease').mockImplementation(function (
      this: CoordinationV1Api,
      ...args: Parameters<CoordinationV1Api['createNamespacedLease']>
    ) {
      return record('create', args[0].body.spec?.holderIdentity, () => originalCreate.apply(this, args));
    });
    vi.spyOn(CoordinationV1Api.prototype, 'replaceNamespacedLease').mockImplementation(function (
      this: CoordinationV1Api,
      ...args: Parameters<CoordinationV1Api['replaceNamespacedLease']>
    ) {
      return record('replace', args[0].body.spec?.holderIdentity, () => originalReplace.apply(this, args));
    });

    const captured = capturingLog();
    const started: Record<string, number> = { a: 0, b: 0 };
    const elector = (id: 'a' | 'b'): LeaderElector =>
      new LeaderElector(
        c.kc,
        { namespace: leaseNs.name, name: leaseName, identity: id, leaseDurationSeconds: 3, retryPeriodMs: 300 },
        captured.log,
        {
          onStartedLeading: () => void (started[id] = (started[id] ?? 0) + 1),
          onStoppedLeading: () => undefined,
        },
      );
    const a = elector('a');
    const b = elector('b');
    try {
      a.start();
      b.start();
      const verb = existing === 'absent' ? 'create' : 'replace';
      // Each elector's first write (under load the winner may already have renewed before the loser's answer).
      const firstOf = (id: string): (typeof writes)[number] | undefined =>
        writes.find((w) => w.verb === verb && w.identity === id);
      await waitFor(
        'a leader, and both first writes answered',
        () => (a.isLeader || b.isLeader) && firstOf('a') && firstOf('b'),
      );
      // One write won, the other got 409 from the API server and that instance is not leader this round.
      const firstRound = [firstOf('a'), firstOf('b')].filter((w): w is (typeof writes)[number] => w !== undefined);
      expect(firstRound.map((w) => w.code).sort()).toEqual([verb === 'create' ? 201 : 200, 409]);
      const winner = firstRound.find((w) => w.code !== 409)?.identity;
      const [leader, follower] = winner === 'a' ? [a, b] : [b, a];
      expect([leader.isLeader, follower.isLeader]).toEqual([true, false]);
      // Later rounds: the leader renews, the follower keeps trying and keeps following; nobody failed.
      await sleep(1_500);
      expect([leader.isLeader, follower.isLeader]).toEqual([true, false]);
      expect(started).toEqual(winner === 'a' ? { a: 1, b: 0 } : { a: 0, b: 1 });
      expect(writes.filter((w) => w.identity === winner && w.code === 200).length).toBeGreaterThanOrEqual(3);
      expect(captured.records.filter((r) => r['msg'] === 'leader election attempt failed')).toEqual([]);
      const held = await leases.readNamespacedLease({ name: leaseName, namespace: leaseNs.name });
      expect(held.spec?.holderIdentity).toBe(winner);
      // The leader steps down (releasing the lease): the follower, retrying every tick, takes it.
      await leader.stop();
      await waitFor('the follower to take over', () => follower.isLeader, 5_000);
    } finally {
      await a.stop();
      await b.stop();
    }
  }

  it('two electors creating the same absent lease at once: one wins, the other gets 409 AlreadyExists and follows', async () => {
    await race(`race-create-${Date.now().toString(36)}`, 'absent');
  });

  it('two electors taking over the same expired lease at once: one update wins, the other gets 409 Conflict and follows', async () => {
    await race(`race-update-${Date.now().toString(36)}`, 'expired');
  });

  it('stop() while an acquisition is under way: the instance does not start leading, and the lease is given back', async () => {
    const leaseName = `stop-race-${Date.now().toString(36)}`;
    const originalRead = CoordinationV1Api.prototype.readNamespacedLease;
    let letGo: () => void = () => undefined;
    const held = new Promise<void>((r) => (letGo = r));
    let reading: () => void = () => undefined;
    const inRead = new Promise<void>((r) => (reading = r));
    vi.spyOn(CoordinationV1Api.prototype, 'readNamespacedLease').mockImplementation(async function (
      this: CoordinationV1Api,
      ...args: Parameters<CoordinationV1Api['readNamespacedLease']>
    ) {
      if (args[0].name === leaseName) {
        reading();
        await held;
      }
      return originalRead.apply(this, args);
    });
    let startedLeading = 0;
    const e = new LeaderElector(
      c.kc,
      { namespace: leaseNs.name, name: leaseName, identity: 'late', leaseDurationSeconds: 30, retryPeriodMs: 300 },
      capturingLog().log,
      {
        onStartedLeading: () => void startedLeading++,
        onStoppedLeading: () => undefined,
      },
    );
    e.start();
    await inRead;
    const stopping = e.stop();
    letGo();
    await stopping;
    await sleep(500);
    expect(e.isLeader).toBe(false);
    expect(startedLeading).toBe(0);
    vi.restoreAllMocks();
    const lease = await c.kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: leaseName, namespace: leaseNs.name });
    // Released, so another instance need not wait 30 s for it to expire.
    expect(lease.spec?.holderIdentity).toBe('');
  });
});

describe.skipIf(noCluster)('two operator instances with one lease', () => {
  let c: Clients;
  let leaseNs: { name: string; remove: () => Promise<void> };
  const operators: Operator[] = [];
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    leaseNs = await namespace(c, 'mm-ha');
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    // Every instance watches the whole cluster: none may outlive its test.
    for (const op of operators.splice(0)) await op.stop();
  });
  afterAll(async () => {
    for (const f of cleanups.reverse()) await f();
    await leaseNs?.remove();
  });

  function instance(identity: string, leaseName: string): Operator {
    const captured = capturingLog();
    const op = new Operator({
      kubeConfig: c.kc,
      log: captured.log,
      namespace: leaseNs.name,
      identity,
      leaseName,
      leaseDurationSeconds: 3,
      retryPeriodMs: 300,
      resyncIntervalMs: 3_600_000,
    });
    operators.push(op);
    op.start();
    return op;
  }

  async function faultyNamespace(prefix: string): Promise<string> {
    const ns = await namespace(c, prefix);
    cleanups.push(ns.remove, () => deletePolicy(c, `${ns.name}-policy`));
    for (const o of seed001(ns.name)) await create(c, o);
    await create(c, policy(`${ns.name}-policy`, ns.name, 'Propose'));
    return ns.name;
  }

  /** Starts two instances; returns them as [leader, follower] once one leads and the other has had time to try. */
  async function pair(leaseName: string): Promise<[Operator, Operator]> {
    const a = instance('replica-a', leaseName);
    await waitFor('replica-a to lead with synced caches', () => a.isLeader && a.ready, 30_000);
    const b = instance('replica-b', leaseName);
    await sleep(1_500); // five renew intervals: b has tried and found the lease held
    return [a, b];
  }

  async function expectIdleFollower(follower: Operator): Promise<void> {
    expect(follower.isLeader).toBe(false);
    expect(follower.ready).toBe(true); // a healthy standby is ready
    expect(await reconcilesTotal(follower)).toBe(0);
    expect(await follower.metrics.writesTotal()).toBe(0);
  }

  it('one leads, the follower does nothing; stop() on the leader hands over at once and the new leader reconciles', async () => {
    const leaseName = `ha-stop-${Date.now().toString(36)}`;
    const [leader, follower] = await pair(leaseName);
    expect([leader.isLeader, follower.isLeader]).toEqual([true, false]);

    const ns = await faultyNamespace('ha-stop');
    await waitFor('the leader to propose', () => proposal(c, ns, 'mm101-destinationrule-httpbin'));
    // A user rejects it: the decision must survive the change of leader.
    await annotate(
      c,
      { apiVersion: MMR, kind: 'MeshRemediation', namespace: ns, name: 'mm101-destinationrule-httpbin' },
      { 'meshmedic.io/reject': 'true' },
    );
    await waitFor(
      'Rejected',
      async () => phase(await read(c, MMR, 'MeshRemediation', ns, 'mm101-destinationrule-httpbin')) === 'Rejected',
    );
    await leader.idle();
    const rejectedVersion = (await read(c, MMR, 'MeshRemediation', ns, 'mm101-destinationrule-httpbin'))?.metadata
      .resourceVersion;
    expect(await reconcilesTotal(leader)).toBeGreaterThan(0);
    expect(await leader.metrics.writesTotal()).toBeGreaterThan(0);
    await expectIdleFollower(follower);

    // The new leader's list of MeshRemediations comes back last (as a large collection would): it must not
    // judge a subject before it knows the subject's remediations.
    const originalList = KubernetesObjectApi.prototype.list;
    vi.spyOn(KubernetesObjectApi.prototype, 'list').mockImplementation(async function (
      this: KubernetesObjectApi,
      ...args: Parameters<KubernetesObjectApi['list']>
    ) {
      const out = await originalList.apply(this, args);
      if (args[1] === 'MeshRemediation') await sleep(1_000);
      return out;
    });
    const t0 = performance.now();
    await leader.stop();
    await waitFor('the follower to take over', () => follower.isLeader && follower.ready, 10_000);
    const failover = performance.now() - t0;
    console.info(`[resilience] failover after the leader's stop() (lease released): ${seconds(failover)}`);
    expect(failover).toBeLessThan(3_000); // well before the 3 s lease could have expired
    expect(leader.isLeader).toBe(false);

    // The new leader reconciles: a new faulty object gets its proposal, the old one is not proposed again.
    for (const o of seed003(ns)) await create(c, o);
    await waitFor('the new leader to propose', () => proposal(c, ns, 'mm103-serviceentry-mysql'));
    await follower.idle();
    // The rejected proposal was not touched by the new leader (not re-proposed, not even rewritten).
    expect((await read(c, MMR, 'MeshRemediation', ns, 'mm101-destinationrule-httpbin'))?.metadata.resourceVersion).toBe(
      rejectedVersion,
    );
    expect(countBy(await remediations(c, ns), ruleAndTarget)).toEqual({
      [`MM101|DestinationRule/${ns}/httpbin`]: 1,
      [`MM103|ServiceEntry/${ns}/mysql`]: 1,
    });
    expect(await proposedEvents(c, ns)).toEqual({
      'DestinationRule/httpbin mm101-destinationrule-httpbin': 1,
      'ServiceEntry/mysql mm103-serviceentry-mysql': 1,
    });
    const lease = await c.kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: leaseName, namespace: leaseNs.name });
    expect(lease.spec?.holderIdentity).toBe('replica-b');
  });

  it('a leader that dies without releasing the lease is replaced once the lease expires', async () => {
    const leaseName = `ha-crash-${Date.now().toString(36)}`;
    const [leader, follower] = await pair(leaseName);
    expect([leader.isLeader, follower.isLeader]).toEqual([true, false]);
    await expectIdleFollower(follower);

    const t0 = performance.now();
    await leader.stop({ releaseLease: false }); // crash: it stops acting and never gives the lease back
    const writesAfterCrash = await leader.metrics.writesTotal();
    await sleep(1_500);
    expect(follower.isLeader).toBe(false); // the lease is still held by the dead leader
    await waitFor('the follower to take over', () => follower.isLeader && follower.ready, 15_000);
    const failover = performance.now() - t0;
    console.info(
      `[resilience] failover after a leader crash (lease left to expire, leaseDurationSeconds 3): ${seconds(failover)}`,
    );
    expect(failover).toBeGreaterThan(2_000);

    const ns = await faultyNamespace('ha-crash');
    await waitFor('the new leader to propose', () => proposal(c, ns, 'mm101-destinationrule-httpbin'));
    await follower.idle();
    expect(await reconcilesTotal(follower)).toBeGreaterThan(0);
    expect(await leader.metrics.writesTotal()).toBe(writesAfterCrash);
    const lease = await c.kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name: leaseName, namespace: leaseNs.name });
    expect([lease.spec?.holderIdentity, lease.spec?.leaseTransitions]).toEqual(['replica-b', 1]);
  });

  it('an instance that loses its lease and wins it back reconciles again, from a fresh view of the cluster', async () => {
    const leaseName = `ha-regain-${Date.now().toString(36)}`;
    const leases = c.kc.makeApiClient(CoordinationV1Api);
    const op = instance('replica-c', leaseName);
    await waitFor('replica-c to lead with synced caches', () => op.isLeader && op.ready, 30_000);
    // Seed 001 without a policy yet: the operator indexes its STRICT PeerAuthentication.
    const stale = await namespace(c, 'ha-stale');
    cleanups.push(stale.remove, () => deletePolicy(c, `${stale.name}-policy`));
    for (const o of seed001(stale.name)) await create(c, o);
    await waitFor('the PeerAuthentication indexed', () => op.index.get(`PeerAuthentication/${stale.name}/default`));

    // Another instance takes the lease over (as after a renewal this one could not make in time).
    const taken = await leases.readNamespacedLease({ name: leaseName, namespace: leaseNs.name });
    await leases.replaceNamespacedLease({
      name: leaseName,
      namespace: leaseNs.name,
      body: {
        ...taken,
        spec: { ...taken.spec, holderIdentity: 'replica-z', renewTime: new V1MicroTime(), leaseDurationSeconds: 3600 },
      },
    });
    await waitFor('replica-c to lose its leadership', () => !op.isLeader, 10_000);

    // While it follows: mTLS is relaxed in the first namespace (its DestinationRule is no longer faulty) and
    // policies cover both namespaces; a second namespace gets a faulty DestinationRule.
    await c.objects.delete({
      apiVersion: 'security.istio.io/v1',
      kind: 'PeerAuthentication',
      metadata: { name: 'default', namespace: stale.name },
    });
    await create(c, policy(`${stale.name}-policy`, stale.name, 'Propose'));
    const fresh = await faultyNamespace('ha-regain');
    await sleep(1_000);
    expect(await remediations(c, fresh)).toEqual([]);

    // The other instance goes away and gives the lease back: replica-c leads again.
    const back = await leases.readNamespacedLease({ name: leaseName, namespace: leaseNs.name });
    await leases.replaceNamespacedLease({
      name: leaseName,
      namespace: leaseNs.name,
      body: { ...back, spec: { ...back.spec, holderIdentity: '', renewTime: new V1MicroTime(0) } },
    });
    await waitFor('replica-c to lead again', () => op.isLeader && op.ready, 10_000);
    await waitFor(
      'the proposal in the second namespace',
      () => proposal(c, fresh, 'mm101-destinationrule-httpbin'),
      15_000,
    );
    await op.idle();
    // Nothing proposed from the PeerAuthentication that was deleted while it followed.
    expect(await remediations(c, stale.name)).toEqual([]);
  });
});
