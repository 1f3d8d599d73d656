import {
  makeInformer,
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  type Informer,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { KubeObject } from '../model/types.js';
import { apiVersionOf, collectionPath, type ResourceType } from '../kube/resources.js';

export type WatchEvent = 'add' | 'update' | 'delete';

/**
 * The longest wait before a failed watch is restarted. Short: after an API server restart the first
 * lists fail with 429 "storage is (re)initializing" for a few seconds, and the operator's own resources
 * (MeshRemediations, policies) must come back as fast as the mesh objects.
 */
const MAX_RETRY_MS = 4_000;

/** client-node deserialises core kinds into classes with Date fields; the model works on plain JSON. */
export function plain(o: KubernetesObject): KubeObject {
  return JSON.parse(JSON.stringify(o)) as KubeObject;
}

/**
 * One informer per resource (list + watch through client-node's ListWatch, which re-lists on 410 Gone),
 * restarted with backoff when the watch fails (API server gone, network), so the cache heals by itself.
 */
export class ResourceWatcher {
  private informer: Informer<KubernetesObject> | undefined;
  private stopped = false;
  private retryMs = 500;
  /** Errors reported by the informer so far: none during a (re)start means it lists and watches again. */
  private errors = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private resolveSynced: () => void = () => undefined;
  readonly synced: Promise<void>;

  constructor(
    private readonly kc: KubeConfig,
    private readonly resource: ResourceType,
    private readonly onEvent: (event: WatchEvent, obj: KubeObject) => void,
    private readonly log: Logger,
    private readonly namespace?: string,
    /** Shrinks each object in place on receipt, before the informer's cache keeps it (watched.ts REDUCERS). */
    private readonly reduce?: (o: Record<string, unknown>) => void,
  ) {
    this.synced = new Promise((r) => (this.resolveSynced = r));
  }

  start(): void {
    const api = KubernetesObjectApi.makeApiClient(this.kc);
    const apiVersion = apiVersionOf(this.resource);
    const path = collectionPath(this.resource, this.namespace);
    const informer = makeInformer(this.kc, path, async () => {
      const list = await api.list(apiVersion, this.resource.kind, this.namespace);
      for (const item of list.items) {
        item.apiVersion ??= apiVersion;
        item.kind ??= this.resource.kind;
        this.reduce?.(item as unknown as Record<string, unknown>);
      }
      return list;
    });
    const emit = (event: WatchEvent) => (o: KubernetesObject) => {
      o.apiVersion ??= apiVersion;
      o.kind ??= this.resource.kind;
      // A watch event's object is the one the cache keeps: reduced here, no more of it stays in memory.
      this.reduce?.(o as unknown as Record<string, unknown>);
      this.onEvent(event, plain(o));
    };
    informer.on('add', emit('add'));
    informer.on('update', emit('update'));
    informer.on('delete', emit('delete'));
    // Not reset on 'connect': ListWatch emits it before it lists or watches, so it would defeat the backoff.
    informer.on('error', (err: unknown) => {
      this.errors++;
      if (this.stopped) return;
      this.log.warn(
        { resource: this.resource.plural, err: (err as Error)?.message ?? String(err), retryMs: this.retryMs },
        'watch failed; restarting',
      );
      this.retryTimer = setTimeout(() => void this.restart(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    });
    this.informer = informer;
    const errorsBefore = this.errors;
    informer.start().then(
      // A failed first list reports an error and start() still resolves: synced waits for a list that worked.
      () => {
        if (this.errors === errorsBefore) this.resolveSynced();
      },
      (err: unknown) => {
        this.log.warn(
          { resource: this.resource.plural, err: (err as Error)?.message },
          'initial list failed; retrying',
        );
        this.retryTimer = setTimeout(() => void this.restart(), this.retryMs);
      },
    );
  }

  private async restart(): Promise<void> {
    if (this.stopped || !this.informer) return;
    try {
      const errorsBefore = this.errors;
      // A failed list or watch reports its error before start() resolves.
      await this.informer.start();
      if (this.errors === errorsBefore) {
        this.retryMs = 500;
        this.log.info({ resource: this.resource.plural }, 'watch restarted');
        this.resolveSynced();
      }
    } catch (err) {
      this.log.warn({ resource: this.resource.plural, err: (err as Error)?.message }, 'restart failed; retrying');
      this.retryTimer = setTimeout(() => void this.restart(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, MAX_RETRY_MS);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    await this.informer?.stop();
  }
}
