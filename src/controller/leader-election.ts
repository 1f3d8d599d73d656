import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface LeaderElectionOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationSeconds: number;
  renewIntervalMs: number;
}

/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go does it: acquire when the lease is free
 * or expired, renew before it expires, with optimistic concurrency on resourceVersion (a 409 means another
 * instance won). Written by hand: @kubernetes/client-node has no leader election.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private timer: NodeJS.Timeout | undefined;
  /** The attempt under way (stop() waits for it, so it cannot take the lease after stop() returned). */
  private inflight: Promise<void> = Promise.resolve();
  private leading = false;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    private readonly options: LeaderElectionOptions,
    private readonly log: Logger,
    private readonly callbacks: { onStartedLeading: () => Promise<void> | void; onStoppedLeading: () => Promise<void> | void },
  ) {
    this.api = kc.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.leading;
  }

  start(): void {
    this.stopped = false;
    this.inflight = this.tick();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.inflight = this.tick();
    }, this.options.renewIntervalMs);
  }

  private async tick(): Promise<void> {
    try {
      const ok = await this.tryAcquireOrRenew();
      if (ok && !this.leading) {
        this.leading = true;
        // stop() came while this attempt was under way: do not start leading; stop() gives the lease back.
        if (this.stopped) return;
        this.log.info({ lease: this.options.name, identity: this.options.identity }, 'became leader');
        // Not awaited: starting to lead (listing every cache) must not hold up the lease renewals.
        void Promise.resolve()
          .then(() => this.callbacks.onStartedLeading())
          .catch((err: unknown) => this.log.error({ err: (err as Error).message }, 'starting to lead failed'));
      } else if (!ok && this.leading) {
        this.leading = false;
        this.log.warn({ lease: this.options.name }, 'lost leadership');
        await this.callbacks.onStoppedLeading();
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'leader election attempt failed');
    } finally {
      this.schedule();
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity, leaseDurationSeconds } = this.options;
    const now = new V1MicroTime();
    let lease: V1Lease | undefined;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (err) {
      if ((err as { code?: number }).code !== 404) throw err;
    }
    if (!lease) {
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: { metadata: { name, namespace }, spec: { holderIdentity: identity, leaseDurationSeconds, acquireTime: now, renewTime: now, leaseTransitions: 0 } },
        });
        return true;
      } catch (err) {
        if ((err as { code?: number }).code === 409) return false;
        throw err;
      }
    }
    const spec = lease.spec ?? {};
    const renew = spec.renewTime ? new Date(spec.renewTime).getTime() : 0;
    const expired = renew + (spec.leaseDurationSeconds ?? leaseDurationSeconds) * 1000 < now.getTime();
    const mine = spec.holderIdentity === identity;
    if (!mine && !expired && spec.holderIdentity) return false;
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
      await this.api.replaceNamespacedLease({ name, namespace, body: updated });
      return true;
    } catch (err) {
      if ((err as { code?: number }).code === 409) return false;
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
    if (!this.leading) return;
    this.leading = false;
    if (options.release === false) {
      await this.callbacks.onStoppedLeading();
      return;
    }
    try {
      const lease = await this.api.readNamespacedLease({ name: this.options.name, namespace: this.options.namespace });
      if (lease.spec?.holderIdentity === this.options.identity) {
        await this.api.replaceNamespacedLease({
          name: this.options.name,
          namespace: this.options.namespace,
          body: { ...lease, spec: { ...lease.spec, holderIdentity: '', renewTime: new V1MicroTime(0) } },
        });
      }
    } catch (err) {
      this.log.warn({ err: (err as Error).message }, 'could not release the lease');
    }
    await this.callbacks.onStoppedLeading();
  }
}
