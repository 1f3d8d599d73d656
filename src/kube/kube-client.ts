import {
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  setHeaderOptions,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { createHash } from 'node:crypto';
import { kindKey } from '../model/kinds.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import type { PatchOperation } from '../rules/types.js';
import { resourceForKind, type ResourceType } from './resources.js';

export const FIELD_MANAGER = 'meshmedic';

/** A failed API call, with the HTTP status when there is one. */
export class ApiError extends Error {
  constructor(
    message: string,
    readonly code: number | undefined,
  ) {
    super(message);
  }
}

function toApiError(err: unknown): ApiError {
  const e = err as { code?: number; statusCode?: number; body?: unknown; message?: string };
  const code = e.code ?? e.statusCode;
  let detail = e.message ?? String(err);
  const body = typeof e.body === 'string' ? safeJson(e.body) : e.body;
  const msg = (body as { message?: string } | undefined)?.message;
  if (msg) detail = msg;
  return new ApiError(detail, typeof code === 'number' ? code : undefined);
}

function safeJson(s: string): unknown {
  try {
    return JSON.parse(s);
  } catch {
    return undefined;
  }
}

/** A write refused before it was sent, because this instance may no longer write (it is not the leader). */
export class FencedError extends Error {
  override readonly name = 'FencedError';
}

export type WriteVerb = 'create' | 'patch' | 'apply' | 'delete' | 'status' | 'event';

/**
 * The few API calls the operator makes, with every write counted (the steady state must make none) and
 * errors turned into ApiError with the HTTP status.
 */
export class KubeClient {
  readonly objects: KubernetesObjectApi;
  readonly custom: CustomObjectsApi;
  readonly core: CoreV1Api;
  private readonly onWrite: (verb: WriteVerb, kind: string, dryRun: boolean) => void;
  private readonly fence: () => void;

  /**
   * `fence` is called before every write (dry runs too, as they also reach the API server) and throws
   * (FencedError) when this instance must not write; a fenced write is neither sent nor counted.
   */
  constructor(
    readonly kc: KubeConfig,
    onWrite: (verb: WriteVerb, kind: string, dryRun: boolean) => void = () => undefined,
    fence: () => void = () => undefined,
  ) {
    this.objects = KubernetesObjectApi.makeApiClient(kc);
    this.custom = kc.makeApiClient(CustomObjectsApi);
    this.core = kc.makeApiClient(CoreV1Api);
    this.onWrite = onWrite;
    this.fence = fence;
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw toApiError(err);
    }
  }

  async read(ref: ObjectRef): Promise<KubeObject | undefined> {
    try {
      return (await this.call(() =>
        this.objects.read({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        }),
      )) as unknown as KubeObject;
    } catch (err) {
      if (err instanceof ApiError && err.code === 404) return undefined;
      throw err;
    }
  }

  /** RFC 6902 patch, attributed to the meshmedic field manager. */
  async jsonPatch(ref: ObjectRef, ops: PatchOperation[], dryRun = false): Promise<KubeObject> {
    this.fence();
    const r = this.resource(kindKey(ref));
    this.onWrite('patch', ref.kind, dryRun);
    const params = { name: ref.name, body: ops, fieldManager: FIELD_MANAGER, ...(dryRun ? { dryRun: 'All' } : {}) };
    const opts = setHeaderOptions('Content-Type', PatchStrategy.JsonPatch);
    if (!r.group) {
      if (ref.kind === 'Service')
        return (await this.call(() =>
          this.core.patchNamespacedService({ ...params, namespace: ref.namespace ?? 'default' }, opts),
        )) as unknown as KubeObject;
      throw new ApiError(`json patch of core kind ${ref.kind} is not supported`, undefined);
    }
    return (await this.call(() =>
      r.namespaced
        ? this.custom.patchNamespacedCustomObject(
            { ...params, group: r.group, version: r.version, plural: r.plural, namespace: ref.namespace ?? 'default' },
            opts,
          )
        : this.custom.patchClusterCustomObject(
            { ...params, group: r.group, version: r.version, plural: r.plural },
            opts,
          ),
    )) as KubeObject;
  }

  /** JSON merge patch of the status subresource of one of our own objects. */
  async patchStatus(ref: ObjectRef, status: Record<string, unknown>): Promise<KubeObject> {
    this.fence();
    const r = this.resource(kindKey(ref));
    this.onWrite('status', ref.kind, false);
    const opts = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);
    const params = {
      group: r.group,
      version: r.version,
      plural: r.plural,
      name: ref.name,
      body: { status },
      fieldManager: FIELD_MANAGER,
    };
    return (await this.call(() =>
      r.namespaced
        ? this.custom.patchNamespacedCustomObjectStatus({ ...params, namespace: ref.namespace ?? 'default' }, opts)
        : this.custom.patchClusterCustomObjectStatus(params, opts),
    )) as KubeObject;
  }

  /** JSON merge patch (metadata or spec) of one of our own objects. */
  async mergePatch(ref: ObjectRef, body: Record<string, unknown>): Promise<KubeObject> {
    this.fence();
    this.onWrite('patch', ref.kind, false);
    // The body's own metadata (annotations, labels) is merged into the name and namespace, never in place of them.
    const { metadata, ...rest } = body as { metadata?: Record<string, unknown> };
    const target = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { ...metadata, name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
      ...rest,
    };
    return (await this.call(() =>
      this.objects.patch(
        target as KubernetesObject,
        undefined,
        undefined,
        FIELD_MANAGER,
        undefined,
        PatchStrategy.MergePatch,
      ),
    )) as unknown as KubeObject;
  }

  /** Server-side apply (create or update) with the meshmedic field manager. */
  async apply(obj: KubeObject, options: { dryRun?: boolean; force?: boolean } = {}): Promise<KubeObject> {
    this.fence();
    this.onWrite('apply', obj.kind, options.dryRun ?? false);
    const { status: _status, ...body } = obj;
    return (await this.call(() =>
      this.objects.patch(
        body as KubernetesObject,
        undefined,
        options.dryRun ? 'All' : undefined,
        FIELD_MANAGER,
        options.force ?? false,
        PatchStrategy.ServerSideApply,
      ),
    )) as unknown as KubeObject;
  }

  async delete(ref: ObjectRef): Promise<void> {
    this.fence();
    this.onWrite('delete', ref.kind, false);
    try {
      await this.call(() =>
        this.objects.delete({
          apiVersion: ref.apiVersion,
          kind: ref.kind,
          metadata: { name: ref.name, ...(ref.namespace ? { namespace: ref.namespace } : {}) },
        }),
      );
    } catch (err) {
      if (!(err instanceof ApiError && err.code === 404)) throw err;
    }
  }

  /**
   * Records an Event on an object. With `once`, the Event's name is derived from it, so the same
   * occurrence is recorded once whoever leads and however often it is retried: false when it already was.
   */
  async event(
    involved: KubeObject,
    type: 'Normal' | 'Warning',
    reason: string,
    message: string,
    once?: string,
  ): Promise<boolean> {
    this.fence();
    const ns = involved.metadata.namespace ?? 'default';
    this.onWrite('event', 'Event', false);
    const now = new Date();
    const name = once
      ? {
          name: `${involved.metadata.name.slice(0, 200)}.mm-${createHash('sha256')
            .update(`${involved.metadata.uid ?? ''}|${once}`)
            .digest('hex')
            .slice(0, 16)}`,
        }
      : { generateName: `${involved.metadata.name}.` };
    try {
      await this.createEvent(ns, name, involved, type, reason, message, now);
      return true;
    } catch (err) {
      if (once && err instanceof ApiError && err.code === 409) return false;
      throw err;
    }
  }

  private async createEvent(
    ns: string,
    name: { name: string } | { generateName: string },
    involved: KubeObject,
    type: string,
    reason: string,
    message: string,
    now: Date,
  ): Promise<void> {
    await this.call(() =>
      this.core.createNamespacedEvent({
        namespace: ns,
        body: {
          metadata: { ...name, namespace: ns },
          involvedObject: {
            apiVersion: involved.apiVersion,
            kind: involved.kind,
            name: involved.metadata.name,
            namespace: ns,
            ...(involved.metadata.uid ? { uid: involved.metadata.uid } : {}),
          },
          type,
          reason,
          message: message.slice(0, 1024),
          source: { component: 'meshmedic' },
          firstTimestamp: now,
          lastTimestamp: now,
          count: 1,
          reportingComponent: 'meshmedic',
          reportingInstance: process.env['HOSTNAME'] ?? 'meshmedic',
        },
      }),
    );
  }

  resource(kind: string): ResourceType {
    const r = resourceForKind(kind);
    if (!r) throw new ApiError(`meshmedic does not know the API resource of kind ${kind}`, undefined);
    return r;
  }
}
