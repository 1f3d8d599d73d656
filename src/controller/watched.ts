import {
  AuthorizationV1Api,
  CoreV1Api,
  CustomObjectsApi,
  type KubeConfig,
  type V1APIResourceList,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { CATALOGUE } from '../catalogue/index.js';
import { RESOURCES, type ResourceType } from '../kube/resources.js';
import { KINDS, kindName, type Kind, type KindInfo } from '../model/kinds.js';
import { secretView } from '../model/secrets.js';
import type { KubeObject } from '../model/types.js';
import type { OperatorMetrics } from './metrics.js';

/** Watched by watchers of their own in operator.ts: the mesh config (one ConfigMap of the root namespace), the policies. */
const OWN_WATCHERS: ReadonlySet<string> = new Set(['ConfigMap', 'MeshHealthPolicy']);

/** The kinds a rule judges or reads (src/catalogue): what the analysis uses. */
const USED: ReadonlySet<string> = new Set(CATALOGUE.flatMap((e) => [...e.subjects, ...e.reads]));

/**
 * The mesh kinds the operator watches cluster-wide: every kind of the registry (model/kinds.ts) that is
 * read and that a rule judges or reads, and Namespace (its labels choose the policy that covers a subject).
 */
export const WATCHED_KINDS: readonly Kind[] = (Object.keys(KINDS) as Kind[]).filter(
  (k) => (KINDS[k] as KindInfo).read && !OWN_WATCHERS.has(k) && (USED.has(k) || k === 'Namespace'),
);

/**
 * Kinds watched only when the operator's identity may list and watch them cluster-wide: reading every
 * Secret is a sensitive permission, granted by the opt-in ClusterRole meshmedic-secrets (deploy/rbac.yaml,
 * chart value rbac.secrets). Unwatched, the index holds no Secret, and MM213 (the only rule reading them)
 * judges nothing on an index without Secrets: no finding rests on their absence.
 */
const OPT_IN: Partial<Record<Kind, string>> = {
  Secret: 'bind the ClusterRole meshmedic-secrets (Helm: rbac.secrets=true) to let the operator read Secrets',
};

/** Shrinks an object, in place, to what rules read: the informer's cache keeps the same object. */
export type Reducer = (o: Record<string, unknown>) => void;

export interface WatchPlan {
  kind: Kind;
  resource: ResourceType;
  reduce?: Reducer;
}

export interface Unwatched {
  kind: Kind;
  reason: string;
}

type Obj = Record<string, unknown>;
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function isRecord(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The metadata rules and the informer read: identity, labels, annotations (without kubectl's copy of the object). */
function slimMetadata(m: unknown, annotations: boolean): Obj {
  const meta = isRecord(m) ? m : {};
  const out: Obj = {};
  for (const k of ['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'labels'])
    if (meta[k] !== undefined) out[k] = meta[k];
  if (annotations && isRecord(meta['annotations'])) {
    const { [LAST_APPLIED]: _dropped, ...rest } = meta['annotations'];
    out['annotations'] = rest;
  }
  return out;
}

/** A container as rules read it (types.ts PodSpecK8s; MM101 looks for an istio-proxy init container). */
function slimContainers(v: unknown): Obj[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.filter(isRecord).map((c) => ({
    ...(c['name'] !== undefined ? { name: c['name'] } : {}),
    ...(Array.isArray(c['ports']) ? { ports: c['ports'] } : {}),
  }));
}

function slimPod(o: Obj): Obj {
  const spec = isRecord(o['spec']) ? o['spec'] : {};
  const slim: Obj = {};
  if (spec['nodeName'] !== undefined) slim['nodeName'] = spec['nodeName'];
  for (const f of ['containers', 'initContainers']) {
    const c = slimContainers(spec[f]);
    if (c) slim[f] = c;
  }
  return { apiVersion: o['apiVersion'], kind: o['kind'], metadata: slimMetadata(o['metadata'], true), spec: slim };
}

function inPlace(view: (o: Obj) => Obj): Reducer {
  return (o) => {
    const v = view(o);
    for (const k of Object.keys(o)) delete o[k];
    Object.assign(o, v);
  };
}

/**
 * Kinds reduced on receipt, before the informer caches them: a Secret to its name, type and key names
 * (model/secrets.ts: no value is kept beyond the event, none is logged), a Pod to its labels, annotations,
 * node and container ports, a Node to its labels (its status lists every image it holds).
 */
export const REDUCERS: Partial<Record<Kind, Reducer>> = {
  Secret: inPlace((o) => secretView(o).view),
  Pod: inPlace(slimPod),
  Node: inPlace((o) => ({
    apiVersion: o['apiVersion'],
    kind: o['kind'],
    metadata: slimMetadata(o['metadata'], false),
  })),
};

function withoutVersion(o: KubeObject): string {
  const {
    resourceVersion: _rv,
    managedFields: _mf,
    ...metadata
  } = o.metadata as KubeObject['metadata'] & {
    managedFields?: unknown;
  };
  return JSON.stringify({ ...o, metadata });
}

/**
 * Whether an update says nothing new of what rules read: only the resourceVersion moved (a Pod's status
 * changed, which its reduction drops). Such an update re-evaluates nothing and restarts no settling clock.
 */
export function unchangedButVersion(before: KubeObject, after: KubeObject): boolean {
  return withoutVersion(before) === withoutVersion(after);
}

function statusCode(err: unknown): number | undefined {
  return (err as { code?: number }).code;
}

/** API discovery (/api/v1, /apis/<group>/<version>), one request per group version; undefined: not served (404). */
type Discover = (group: string, version: string) => Promise<V1APIResourceList | undefined>;

function discovery(kc: KubeConfig): Discover {
  const core = kc.makeApiClient(CoreV1Api);
  const custom = kc.makeApiClient(CustomObjectsApi);
  const cache = new Map<string, Promise<V1APIResourceList | undefined>>();
  return (group, version) => {
    const key = `${group}/${version}`;
    let got = cache.get(key);
    if (!got) {
      const request = group === '' ? core.getAPIResources() : custom.getAPIResources({ group, version });
      got = request.catch((err: unknown) => {
        if (statusCode(err) === 404) return undefined;
        throw err;
      });
      cache.set(key, got);
    }
    return got;
  };
}

/** The version of a kind the API server serves (the registry's served version first), or none. */
async function servedResource(discover: Discover, kind: Kind): Promise<ResourceType | undefined> {
  const info = KINDS[kind] as KindInfo;
  const base = RESOURCES[kind];
  for (const version of [...info.versions].reverse()) {
    const list = await discover(info.group, version);
    if (list?.resources.some((r) => r.name === info.plural && r.kind === kindName(kind))) return { ...base, version };
  }
  return undefined;
}

async function mayWatch(authz: AuthorizationV1Api, r: ResourceType): Promise<boolean> {
  for (const verb of ['list', 'watch']) {
    const review = await authz.createSelfSubjectAccessReview({
      body: { spec: { resourceAttributes: { verb, group: r.group, resource: r.plural } } },
    });
    if (!review.status?.allowed) return false;
  }
  return true;
}

async function planFor(kind: Kind, discover: Discover, authz: AuthorizationV1Api): Promise<WatchPlan | Unwatched> {
  let resource: ResourceType | undefined;
  try {
    resource = await servedResource(discover, kind);
  } catch {
    // Discovery failed (not "not served"): watch as registered; the watcher retries until it lists.
    resource = RESOURCES[kind];
  }
  if (!resource) {
    const info = KINDS[kind] as KindInfo;
    return { kind, reason: `not served by the API server (no ${info.group || 'core'} ${info.versions.join('/')})` };
  }
  const optIn = OPT_IN[kind];
  if (optIn) {
    const allowed = await mayWatch(authz, resource).catch(() => false);
    if (!allowed)
      return { kind, reason: `not permitted: may not list and watch ${resource.plural} cluster-wide; ${optIn}` };
  }
  const reduce = REDUCERS[kind];
  return { kind, resource, ...(reduce ? { reduce } : {}) };
}

/**
 * What the operator watches of WATCHED_KINDS, decided at start: the kinds the API server serves (the
 * Gateway API's CRDs may not be installed: nothing of them can exist, so none is missing), and the
 * opt-in kinds its identity may read. The others are logged and reported by meshmedic_watched_kind.
 */
export async function watchPlan(
  kc: KubeConfig,
  log: Logger,
  metrics: OperatorMetrics,
): Promise<{ watch: WatchPlan[]; unwatched: Unwatched[] }> {
  const discover = discovery(kc);
  const authz = kc.makeApiClient(AuthorizationV1Api);
  const plans = await Promise.all(WATCHED_KINDS.map((k) => planFor(k, discover, authz)));
  const watch = plans.filter((p): p is WatchPlan => 'resource' in p);
  const unwatched = plans.filter((p): p is Unwatched => !('resource' in p));
  metrics.watchedKinds.reset();
  for (const p of watch) metrics.watchedKinds.set({ kind: p.kind, watched: 'true' }, 1);
  for (const u of unwatched) {
    metrics.watchedKinds.set({ kind: u.kind, watched: 'false' }, 1);
    log.info({ kind: u.kind, reason: u.reason }, `${u.kind} not watched: rules that read it judge without it`);
  }
  return { watch, unwatched };
}
