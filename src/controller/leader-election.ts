import {
  CoordinationV1Api,
  Observable,
  V1MicroTime,
  type ConfigurationOptions,
  type KubeConfig,
  type RequestContext,
  type ResponseContext,
  type V1Lease,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  /** How long the others wait after the holder's last renewal before they take the lease over. */
  leaseDurationSeconds: number;
  /**
   * How long after the start of its last successful renewal a leader keeps trying before it stops leading.
   * Default: two thirds of the lease duration (client-go's 10 s of 15 s).
   */
  renewDeadlineMs?: number;
  /** The pause between two attempts to acquire or renew. */
  retryPeriodMs: number;
}

export interface ElectionTiming {
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
}

/** client-go's JitterFactor: its renew deadline must leave room for one jittered retry period. */
const JITTER_FACTOR = 1.2;

/** The timing of an election, checked as client-go checks it (lease > renew deadline > 1.2 × retry period). */
export function electionTiming(options: LeaderElectionOptions): ElectionTiming {
  const leaseDurationMs = options.leaseDurationSeconds * 1000;
  const { retryPeriodMs } = options;
  const renewDeadlineMs = options.renewDeadlineMs ?? (leaseDurationMs * 2) / 3;
  for (const [name, v] of [
    ['leaseDurationSeconds', options.leaseDurationSeconds],
    ['renewDeadlineMs', renewDeadlineMs],
    ['retryPeriodMs', retryPeriodMs],
  ] as const) {
    if (!Number.isFinite(v) || v <= 0) throw new Error(`leader election: ${name} must be a positive number, got ${v}`);
  }
  if (leaseDurationMs <= renewDeadlineMs) {
    throw new Error(
      `leader election: the lease duration (${leaseDurationMs} ms) must be greater than the renew deadline (${renewDeadlineMs} ms)`,
    );
  }
  if (renewDeadlineMs <= retryPeriodMs * JITTER_FACTOR) {
    throw new Error(
      `leader election: the renew deadline (${renewDeadlineMs} ms) must be greater than ${JITTER_FACTOR} × the retry period (${retryPeriodMs} ms)`,
    );
  }
  return { leaseDurationMs, renewDeadlineMs, retryPeriodMs };
}

/** What one attempt found: the lease is ours now, another instance holds it, or our write lost a race (409). */
type Outcome = 'holding' | 'held-by-other' | 'conflict';

/** Per-request options that make the HTTP request abortable (the generated client takes the signal from a middleware). */
function abortableBy(signal: AbortSignal): ConfigurationOptions {
  return {
    middlewareMergeStrategy: 'append',
    middleware: [
      {
        pre: (ctx: RequestContext) => {
          ctx.setSignal(signal);
          return new Observable(Promise.resolve(ctx));
        },
        post: (ctx: ResponseContext) => new Observable(Promise.resolve(ctx)),
      },
    ],
  };
}

/** Runs fn with an AbortSignal; rejects after ms whether or not fn ever settles. */
async function withTimeout<T>(ms: number, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const abort = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => {
      abort.abort();
      reject(new Error(`lease request timed out after ${Math.round(ms)} ms`));
    }, ms);
  });
  try {
    return await Promise.race([fn(abort.signal), timeout]);
  } finally {
    clearTimeout(timer);
    // A request still under way after the race (its answer would be ignored) is not left to hold a socket.
    abort.abort();
  }
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when the lease is free
 * or expired, renew every retry period, with optimistic concurrency on resourceVersion (a 409 means another
 * instance wrote first). A leader that has not renewed successfully within the renew deadline (measured
 * from the start of its last successful renewal, on the monotonic clock) stops leading, before the others
 * may take over at the end of the lease duration. Written by hand: @kubernetes/client-node has none.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly timing: ElectionTiming;
  private timer: NodeJS.Timeout | undefined;
  /** The attempt under way (stop() waits for it, so it cannot take the lease after stop() returned). */
  private inflight: Promise<void> = Promise.resolve();
  private leading = false;
  private stopped = false;
  /** performance.now() at the start of the last successful acquire or renew. */
  private lastRenewStart = Number.NEGATIVE_INFINITY;
  /** Counts leadership terms, so a term's start callback that was delayed does not run in a later term. */
  private term = 0;
  /** The last onStoppedLeading: a new term starts only when the previous one has wound down. */
  private stoppedLeading: Promise<void> = Promise.resolve();

  constructor(
    kc: KubeConfig,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
    private readonly callbacks: {
      onStartedLeading: () => Promise<void> | void;
      onStoppedLeading: () => Promise<void> | void;
    },
  ) {
    this.timing = electionTiming(options);
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /**
   * The fence for writes: leading, and the last successful renewal started less than the renew deadline
   * ago. Read from the clock, not from a timer, so it turns false as soon as the deadline passes (a process
   * resumed from SIGSTOP, or blocked, sees it false before any of its timers has run).
   */
  holdsLease(): boolean {
    return this.leading && performance.now() - this.lastRenewStart < this.timing.renewDeadlineMs;
  }

  start(): void {
    this.stopped = false;
    this.inflight = this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    // A leader that keeps failing checks again right at its deadline, not up to a retry period after it.
    const delay = this.leading
      ? Math.max(0, Math.min(this.timing.retryPeriodMs, this.msToDeadline()))
      : this.timing.retryPeriodMs;
    this.timer = setTimeout(() => {
      this.inflight = this.tick();
    }, delay);
  }

  private msToDeadline(): number {
    return this.lastRenewStart + this.timing.renewDeadlineMs - performance.now();
  }

  private async tick(): Promise<void> {
    try {
      if (this.leading && !this.holdsLease()) this.stepDown('the lease was not renewed within the renew deadline');
      // The monotonic start and the renewTime written are taken together: the deadline counts from the
      // moment the others' lease duration counts from.
      const startedAt = performance.now();
      const outcome = await this.attempt(new V1MicroTime());
      this.onOutcome(outcome, startedAt);
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'leader election attempt failed');
      this.onFailure();
    } finally {
      this.schedule();
    }
  }

  /** One attempt, bounded in time: half the renew deadline, and for a leader never past its deadline. */
  private attempt(now: V1MicroTime): Promise<Outcome> {
    const half = this.timing.renewDeadlineMs / 2;
    const limit = this.leading ? Math.min(half, this.msToDeadline()) : half;
    return withTimeout(limit, (signal) => this.tryAcquireOrRenew(now, abortableBy(signal)));
  }

  private onOutcome(outcome: Outcome, startedAt: number): void {
    if (outcome === 'holding') {
      this.lastRenewStart = startedAt;
      if (!this.leading) this.becomeLeader();
    } else if (outcome === 'held-by-other') {
      // client-go would keep trying until its deadline; another holder of a valid lease means we lead no more.
      if (this.leading) this.stepDown('another instance holds the lease');
    } else {
      this.onFailure();
    }
  }

  private onFailure(): void {
    if (this.leading && !this.holdsLease()) this.stepDown('the lease was not renewed within the renew deadline');
  }

  private becomeLeader(): void {
    this.leading = true;
    const term = ++this.term;
    // stop() came while this attempt was under way: do not start leading; stop() gives the lease back.
    if (this.stopped) return;
    this.log.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
    // Not awaited: starting to lead (listing every cache) must not hold up the lease renewals.
    void this.stoppedLeading
      .then(() => (this.term === term && this.leading ? this.callbacks.onStartedLeading() : undefined))
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'starting to lead failed'));
  }

  /** Not awaited either: winding down (in-flight reconciles) must not keep this instance from campaigning. */
  private stepDown(reason: string, level: 'info' | 'warn' = 'warn'): void {
    this.leading = false;
    this.term++;
    this.log[level]({ lease: this.options.name, reason }, 'lost leadership');
    this.stoppedLeading = this.stoppedLeading
      .then(() => this.callbacks.onStoppedLeading())
      .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'stopping to lead failed'));
  }

  private async tryAcquireOrRenew(now: V1MicroTime, request: ConfigurationOptions): Promise<Outcome> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace }, request);
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    if (!lease) {
      try {
        await this.api.createNamespacedLease(
          {
            namespace,
            body: {
              metadata: { name, namespace },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds,
                acquireTime: now,
                renewTime: now,
                leaseTransitions: 0,
              },
            },
          },
          request,
        );
        return 'holding';
      } catch (err) {
        if ((err as { code?: number }).code === 409) return 'conflict';
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const renew = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renew + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    const mine = spec.holderIdentity === identity;
    if (!mine && !expired && spec.holderIdentity) return 'held-by-other';
    const updated: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds,
        renewTime: now,
        ...(mine ? {} : { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }),
      },
    };
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: updated }, request);
      return 'holding';
    } catch (err) {
      if ((err as { code?: number }).code === 409) return 'conflict';
      throw err;
    }
  }

  /**
   * Stops campaigning; when leading, gives the lease up so another instance takes over at once.
   * `release: false` leaves the lease to expire, as a crashed instance would (client-go's ReleaseOnCancel).
   */
  async stop(options: { release?: boolean } = {}): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inflight;
    if (this.leading) {
      if (options.release !== false) await this.release();
      this.stepDown('stopped', 'info');
    }
    await this.stoppedLeading;
  }

  private async release(): Promise<void> {
    const { name, namespace, identity } = this.options;
    try {
      await withTimeout(this.timing.renewDeadlineMs / 2, async (signal) => {
        const request = abortableBy(signal);
        const lease = await this.api.readNamespacedLease({ name, namespace }, request);
        if (lease.spec?.holderIdentity !== identity) return;
        await this.api.replaceNamespacedLease(
          {
            name,
            namespace,
            body: { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: new V1MicroTime(0) } },
          },
          request,
        );
      });
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not release the lease');
    }
  }
}
