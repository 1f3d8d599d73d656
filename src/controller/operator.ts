import { randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { analyze, type AnalyzeOptions } from '../analysis/analyze.js';
import { decodeDocuments } from '../model/decode.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import { describeRef, objectKey, refKey } from '../model/kinds.js';
import { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import { ruleById } from '../rules/registry.js';
import type { Finding, Rule } from '../rules/types.js';
import { FencedError, KubeClient } from '../kube/kube-client.js';
import { RESOURCES } from '../kube/resources.js';
import { affectedSubjects, SUBJECT_KINDS } from './affected.js';
import { enforceRefusal, jointRefusal, unsafeFix } from './enforce-safety.js';
import { fixUndone } from './fix-writer.js';
import { jointFix } from './joint-fix.js';
import { fixGuard } from './guards.js';
import { repositoryEdits } from './repository-edit.js';
import { LeaderElector } from './leader-election.js';
import { OperatorMetrics } from './metrics.js';
import { effectiveFor, modeInEffect, parsePolicy, type Effective, type Policy } from './policies.js';
import { policyStatus } from './policy-status.js';
import { TokenBucket } from './rate-limiter.js';
import {
  groupFindings,
  groupRemediationName,
  objectsAfter,
  remediationName,
  remediationObject,
  type FindingGroup,
} from './remediation.js';
import { ResourceWatcher, type WatchEvent } from './watchers.js';
import { unchangedButVersion, watchPlan } from './watched.js';
import type { LogGroup } from '../evidence/aggregate.js';
import { isFailure } from '../evidence/diagnose.js';
import type { AccessLogSettings } from './access-log-settings.js';
import { AccessLogSource, type NamespaceLogs } from './access-log-source.js';
import {
  EVIDENCE_KIND,
  evidenceKey,
  evidenceSubjects,
  isEvidenceKey,
  type EvidenceResult,
} from './evidence-subjects.js';
import { checkIdentity, forReview, identityOfGroup } from './remediation-identity.js';
import { decideRemediation, phaseOf, type RemediationView } from './remediation-lifecycle.js';
import { SettleClock } from './settling.js';
import { leftAlone, planSubject, type SubjectStep } from './subject-plan.js';
import {
  evidenceRequest,
  METRIC_KIND,
  parseRequest,
  policyRequest,
  requestKey,
  subjectRequest,
  type Request,
} from './requests.js';
import { RemediationStore, subjectKeyOf } from './remediation-store.js';
import { RemediationWriter, sha } from './remediation-writer.js';
import { WorkQueue } from './work-queue.js';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** The namespace of the operator's Lease. */
  namespace: string;
  identity?: string;
  leaseName?: string;
  leaseDurationSeconds?: number;
  /** How long a leader keeps trying to renew before it stops leading (and writing). */
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  resyncIntervalMs?: number;
  rootNamespace?: string;
  metrics?: OperatorMetrics;
  concurrency?: number;
  /**
   * Quiet time after the last mesh change before a fix that creates objects (judged on absence) is
   * proposed or applied: one `kubectl apply` arrives as a burst of events. Default 3 s.
   */
  settleMs?: number;
}

interface SubjectState {
  groups: FindingGroup[];
  policies: string[];
}

/** The source location a watched object is decoded under (diagnostics name it). */
function clusterFile(raw: KubeObject): string {
  const { namespace } = raw.metadata;
  return `cluster:${describeRef({ kind: raw.kind, name: raw.metadata.name, ...(namespace ? { namespace } : {}) })}`;
}

/**
 * The meshmedic controller: watches the mesh and its own resources, keeps an indexed snapshot current per
 * event, re-evaluates only the subjects an event touches, and records, proposes or applies fixes according
 * to the MeshHealthPolicies. Only the leader (coordination.k8s.io Lease) acts.
 */
export class Operator {
  readonly metrics: OperatorMetrics;
  readonly index = new MeshIndex();
  readonly client: KubeClient;
  private readonly log: Logger;
  private readonly policies = new Map<string, Policy>();
  private readonly policyObjects = new Map<string, KubeObject>();
  private readonly remediations = new RemediationStore();
  private readonly writer: RemediationWriter;
  private readonly namespaceLabels = new Map<string, Record<string, string>>();
  private readonly subjects = new Map<string, SubjectState>();
  private readonly observed = new Set<string>();
  private readonly dismissed = new Map<string, string | undefined>();
  private readonly ownDeletes = new Set<string>();
  /** Absence is judged once the changes in a namespace settle. */
  private readonly settling: SettleClock;
  private readonly buckets = new Map<string, TokenBucket>();
  private readonly queue: WorkQueue;
  private readonly elector: LeaderElector;
  private watchers: ResourceWatcher[] = [];
  /** Access-log evidence (policy spec.evidence.accessLogs): the reader while leading, the groups per namespace. */
  private accessLogs: AccessLogSource | undefined;
  private readonly evidence = new Map<string, LogGroup[]>();
  private resyncTimer: NodeJS.Timeout | undefined;
  private running = false;
  private readyFlag = false;
  /** Every watcher has listed: until then events only fill the caches. */
  private cachesSynced = false;

  constructor(private readonly options: OperatorOptions) {
    this.log = options.log;
    this.settling = new SettleClock(options.settleMs ?? 3000);
    this.metrics = options.metrics ?? new OperatorMetrics();
    // Read lazily: the elector is made below, and a write can only come once it leads.
    const fence = (): void => {
      if (!this.elector.holdsLease())
        throw new FencedError('not the leader: lease not renewed within the renew deadline; writing nothing');
    };
    this.client = new KubeClient(
      options.kubeConfig,
      (verb, kind, dryRun) => this.metrics.apiWrites.inc({ verb, kind, dry_run: String(dryRun) }),
      fence,
    );
    this.writer = new RemediationWriter({
      client: this.client,
      metrics: this.metrics,
      store: this.remediations,
      live: this.liveObject,
      reindex: (o) => this.reindex(o),
      unindex: (ref) => this.index.remove(refKey(ref)),
    });
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      { concurrency: options.concurrency ?? 4, baseBackoffMs: 200, maxBackoffMs: 30_000 },
      (key, err, attempt) => {
        this.metrics.reconcileErrors.inc({ kind: METRIC_KIND[parseRequest(key).kind] });
        this.log.warn(
          { key, attempt, code: (err as { code?: unknown }).code, err: (err as Error).message },
          'reconcile failed; retrying with backoff',
        );
      },
    );
    this.elector = new LeaderElector(
      options.kubeConfig,
      {
        namespace: options.namespace,
        name: options.leaseName ?? 'meshmedic-leader',
        identity: options.identity ?? `${process.env['HOSTNAME'] ?? 'meshmedic'}-${randomUUID().slice(0, 8)}`,
        leaseDurationSeconds: options.leaseDurationSeconds ?? 15,
        // Unset: two thirds of the lease duration (10 s of the default 15 s), so a shorter lease stays valid.
        renewDeadlineMs: options.renewDeadlineMs,
        retryPeriodMs: options.retryPeriodMs ?? 2000,
      },
      this.log,
      { onStartedLeading: () => this.startLeading(), onStoppedLeading: () => this.stopLeading() },
    );
  }

  get isLeader(): boolean {
    return this.elector.isLeader;
  }

  /** Ready when leading with synced caches, or standing by as a healthy follower. */
  get ready(): boolean {
    return this.readyFlag || !this.elector.isLeader;
  }

  start(): void {
    this.elector.start();
  }

  /**
   * Graceful stop: finish in-flight work, stop watching, release the lease. `releaseLease: false` leaves
   * the lease to expire instead, as a crashed instance would.
   */
  async stop(options: { releaseLease?: boolean } = {}): Promise<void> {
    await this.elector.stop({ release: options.releaseLease ?? true });
    await this.stopLeading();
  }

  /** Waits until every queued key has been processed (tests, benchmarks). */
  async idle(): Promise<void> {
    await this.queue.drained();
  }

  private async startLeading(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.metrics.leader.set(1);
    // This instance may have led before: a working queue again, and caches rebuilt from fresh lists (no
    // watch told it what was deleted while it followed).
    this.queue.reopen();
    this.settling.reset();
    for (const o of this.index.all()) this.index.remove(objectKey(o.object));
    for (const m of [this.policies, this.policyObjects, this.namespaceLabels, this.subjects]) m.clear();
    this.remediations.clear();
    const root = this.options.rootNamespace ?? 'istio-system';
    // The kinds the rules use that the API server serves and the operator may read (src/controller/watched.ts).
    const { watch } = await watchPlan(this.options.kubeConfig, this.log, this.metrics);
    if (!this.running) return; // stopped meanwhile
    this.watchers = [
      ...watch.map(
        (p) =>
          new ResourceWatcher(
            this.options.kubeConfig,
            p.resource,
            (e, o) => this.onMeshEvent(e, o),
            this.log,
            undefined,
            p.reduce,
          ),
      ),
      new ResourceWatcher(
        this.options.kubeConfig,
        RESOURCES.ConfigMap,
        (e, o) => o.metadata.name === 'istio' && this.onMeshEvent(e, o),
        this.log,
        root,
      ),
      new ResourceWatcher(
        this.options.kubeConfig,
        RESOURCES.MeshHealthPolicy,
        (e, o) => this.onPolicyEvent(e, o),
        this.log,
      ),
      new ResourceWatcher(
        this.options.kubeConfig,
        RESOURCES.MeshRemediation,
        (e, o) => this.onRemediationEvent(e, o),
        this.log,
      ),
    ];
    for (const w of this.watchers) w.start();
    await Promise.all(this.watchers.map((w) => w.synced));
    if (!this.running) return; // stopped meanwhile
    this.cachesSynced = true;
    this.readyFlag = true;
    this.accessLogs = new AccessLogSource({
      kubeConfig: this.options.kubeConfig,
      log: this.log,
      onLogs: (ns, logs) => this.onAccessLogs(ns, logs),
    });
    this.syncAccessLogs();
    this.log.info({ objects: this.index.size, policies: this.policies.size }, 'caches synced');
    if (this.policies.size === 0)
      this.log.warn(
        'no MeshHealthPolicy: nothing is judged until one covers a namespace (see deploy/sample-policy.yaml)',
      );
    this.resyncAll();
    const resync = this.options.resyncIntervalMs ?? 300_000;
    this.resyncTimer = setInterval(() => this.resyncAll(), resync);
    this.resyncTimer.unref();
  }

  private async stopLeading(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.readyFlag = false;
    this.cachesSynced = false;
    this.metrics.leader.set(0);
    if (this.resyncTimer) clearInterval(this.resyncTimer);
    await this.accessLogs?.stop();
    this.accessLogs = undefined;
    this.evidence.clear();
    await Promise.all(this.watchers.map((w) => w.stop()));
    this.watchers = [];
    await this.queue.shutdown();
  }

  /** Re-evaluates every subject; writes nothing when nothing changed. */
  resyncAll(): void {
    for (const k of SUBJECT_KINDS) for (const o of this.index.ofKind(k)) this.enqueue(subjectRequest(objectKey(o)));
    for (const name of this.policies.keys()) this.enqueue(policyRequest(name));
    for (const subject of this.remediations.subjects()) this.enqueue(subjectRequest(subject));
    for (const ns of this.evidence.keys()) this.enqueue(evidenceRequest(ns));
  }

  /** Reads the access logs of every namespace a policy enables them for, now (tests, benchmarks; then idle()). */
  async collectAccessLogs(): Promise<void> {
    await this.accessLogs?.readNow();
  }

  private enqueue(request: Request): void {
    // Before every cache has synced, a subject would be judged without its remediations or policies (a
    // rejected proposal proposed again, even applied); the resync right after the sync covers every subject.
    if (!this.cachesSynced) return;
    this.queue.add(requestKey(request));
    this.metrics.queueDepth.set(this.queue.depth);
  }

  // ---- events ----------------------------------------------------------------------------------

  private onMeshEvent(event: WatchEvent, raw: KubeObject): void {
    const prior = event === 'update' ? this.index.get(objectKey(raw))?.object : undefined;
    if (prior && unchangedButVersion(prior, raw)) return this.reindex(raw);
    this.noteMeshChange(event, raw);
    const key = objectKey(raw);
    // Until every cache has synced nothing is judged (the resync after the sync covers every subject):
    // the initial list only fills the index.
    const judging = this.cachesSynced;
    const before = judging ? this.index.get(key)?.object : undefined;
    const touched = new Set<string>();
    if (before) for (const k of affectedSubjects(before, this.index)) touched.add(k);
    if (event === 'delete') this.index.remove(key);
    else this.upsertDecoded(raw, key);
    const after = judging ? this.index.get(key)?.object : undefined;
    if (after) for (const k of affectedSubjects(after, this.index)) touched.add(k);
    if (event === 'delete' && SUBJECT_KINDS.has(raw.kind)) touched.add(key);
    for (const k of touched) this.enqueue(subjectRequest(k));
  }

  /** What any change of a mesh object starts, whatever it affects: its namespace's settling, labels, evidence. */
  private noteMeshChange(event: WatchEvent, raw: KubeObject): void {
    const ns = raw.metadata.namespace;
    if (ns !== undefined) this.settling.changed(ns);
    if (raw.kind === 'Namespace') this.onNamespaceLabels(event, raw);
    if (ns !== undefined && this.evidence.has(ns)) this.enqueue(evidenceRequest(ns));
  }

  /** A Namespace's labels decide which policies cover it, and so whose access logs are read. */
  private onNamespaceLabels(event: WatchEvent, ns: KubeObject): void {
    if (event === 'delete') this.namespaceLabels.delete(ns.metadata.name);
    else this.namespaceLabels.set(ns.metadata.name, ns.metadata.labels ?? {});
    this.syncAccessLogs();
  }

  /** Indexes an added or updated object as decoded; a malformed one is logged and leaves the index. */
  private upsertDecoded(raw: KubeObject, key: string): void {
    const decoded = decodeDocuments([{ value: raw, file: clusterFile(raw), line: 0 }]);
    for (const d of decoded.diagnostics)
      this.log.warn({ object: key }, `malformed resource skipped: ${formatDiagnostic(d)}`);
    const obj = decoded.objects[0];
    if (obj) this.index.upsert(obj);
    else this.index.remove(key);
  }

  private onPolicyEvent(event: WatchEvent, obj: KubeObject): void {
    if (event === 'delete') {
      this.policies.delete(obj.metadata.name);
      this.policyObjects.delete(obj.metadata.name);
    } else {
      const prev = this.policyObjects.get(obj.metadata.name);
      this.policyObjects.set(obj.metadata.name, obj);
      if (prev && prev.metadata.generation === obj.metadata.generation && this.policies.has(obj.metadata.name)) return;
      this.policies.set(obj.metadata.name, parsePolicy(obj));
      this.enqueue(policyRequest(obj.metadata.name));
    }
    for (const k of SUBJECT_KINDS) for (const o of this.index.ofKind(k)) this.enqueue(subjectRequest(objectKey(o)));
    this.syncAccessLogs();
    for (const ns of this.evidence.keys()) this.enqueue(evidenceRequest(ns));
  }

  private onRemediationEvent(event: WatchEvent, obj: KubeObject): void {
    const key = `${obj.metadata.namespace}/${obj.metadata.name}`;
    if (event === 'delete') {
      this.remediations.forget(key);
      if (this.ownDeletes.delete(key)) return;
      const target = (obj.spec as { target?: ObjectRef & { resourceVersion?: string } } | undefined)?.target;
      this.dismissed.set(key, target?.resourceVersion);
      this.log.info({ remediation: key }, 'remediation deleted by a user: not proposed again until its target changes');
      return;
    }
    this.remediations.remember(obj);
    const subject = subjectKeyOf(obj);
    if (subject) this.enqueue(subjectRequest(subject));
  }

  // ---- reconcile ---------------------------------------------------------------------------------

  private async reconcile(key: string): Promise<void> {
    const request = parseRequest(key);
    const kind = METRIC_KIND[request.kind];
    const end = this.metrics.reconcileDuration.startTimer({ kind });
    const reconcileId = randomUUID().slice(0, 8);
    try {
      this.metrics.reconciles.inc({ kind });
      switch (request.kind) {
        case 'subject':
          // A subject and the user's actions on its remediations are handled under one key, so they never race.
          for (const mmrKey of this.remediations.ofSubject(request.subject))
            await this.reconcileRemediation(mmrKey, reconcileId);
          await this.reconcileSubject(request.subject, reconcileId);
          return;
        case 'policy':
          await this.reconcilePolicyStatus(request.name);
          return;
        case 'evidence':
          this.enqueueEvidence(request.namespace);
      }
    } finally {
      end();
      this.metrics.queueDepth.set(this.queue.depth);
    }
  }

  private effective(ns: string, subject?: KubeObject): Effective | undefined {
    return effectiveFor(
      [...this.policies.values()],
      ns,
      this.namespaceLabels.get(ns) ?? {},
      subject ? { kind: subject.kind, name: subject.metadata.name } : undefined,
    );
  }

  private evaluate(subject: KubeObject, eff: Effective, only?: string): FindingGroup[] {
    if (subject.kind === EVIDENCE_KIND) {
      // Recomputed from the namespace's last logs and the live index, with the namespace's own policy view.
      const g = this.evidenceFor(subject.metadata.namespace ?? '').subjects.get(subject.metadata.name)?.group;
      return g && (only ? g.rule === only : eff.rules.some((r) => r.id === g.rule)) ? [g] : [];
    }
    const rules = eff.rules
      .filter((r) => !only || r.id === only)
      .map((r) => ruleById(r.id))
      .filter((r): r is Rule => r !== undefined);
    const { findings, diagnostics } = analyze(
      this.index,
      { rules, params: eff.params, complete: true, ...(eff.istioVersion ? { istioVersion: eff.istioVersion } : {}) },
      [subject],
    );
    for (const d of diagnostics) this.log.error({ subject: objectKey(subject) }, formatDiagnostic(d));
    return groupFindings(findings);
  }

  private liveObject = (ref: ObjectRef): KubeObject | undefined => this.index.get(refKey(ref))?.object;

  /** The mode the live policies give a rule on a resource (undefined: none covers it). */
  private modeOf(rule: string, resource: ObjectRef): 'Observe' | 'Propose' | 'Enforce' | undefined {
    const o = this.liveObject(resource);
    return o ? this.effective(resource.namespace ?? '', o)?.rules.find((r) => r.id === rule)?.mode : undefined;
  }

  /** What meshmedic would fix on these subjects, judged on the index as it is now: each subject's rules not in Observe. */
  private fixableFindings = (subjects: KubeObject[]): Finding[] =>
    subjects.flatMap((s) => {
      const eff = this.effective(s.metadata.namespace ?? '', s);
      const rules = (eff?.rules ?? [])
        .filter((r) => r.mode !== 'Observe')
        .map((r) => ruleById(r.id))
        .filter((r): r is Rule => r !== undefined);
      return eff && rules.length > 0
        ? analyze(this.index, { ...this.analyzeOptions(eff), rules, complete: true }, [s]).findings
        : [];
    });

  /** The group's fix computed with every other fix that writes its objects, to a fixed point (as `analyze --fix`). */
  private joint(g: FindingGroup, subject: KubeObject): FindingGroup {
    return g.source === 'access-logs'
      ? g
      : jointFix(g, subject, {
          index: this.index,
          findingsOf: this.fixableFindings,
          declined: (f) => this.declined(f),
        });
  }

  /** Whether a person said no to this finding's fix on its target (its proposal is left alone, or was deleted at this version). */
  private declined(f: Finding): boolean {
    const key = `${f.resource.namespace}/${remediationName(f.rule, f.resource)}`;
    const rv = this.liveObject(f.resource)?.metadata.resourceVersion;
    return (
      leftAlone(this.remediations.get(key), rv) ||
      (this.dismissed.get(key) !== undefined && this.dismissed.get(key) === rv)
    );
  }

  /** The resourceVersions, in the cache, of the objects a fix patches: its write is conditioned on them. */
  private computedFrom(g: FindingGroup): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of g.patches) {
      const rv = this.liveObject(p.target)?.metadata.resourceVersion;
      if (rv) out.set(describeRef(p.target), rv);
    }
    return out;
  }

  /** Whether an object the fix patches has, in the cache, another resourceVersion than the one it was computed from. */
  private changedSince(g: FindingGroup, computedFrom: ReadonlyMap<string, string>): boolean {
    return g.patches.some(
      (p) => computedFrom.get(describeRef(p.target)) !== this.liveObject(p.target)?.metadata.resourceVersion,
    );
  }

  private analyzeOptions(eff: Effective): AnalyzeOptions {
    return { params: eff.params, ...(eff.istioVersion ? { istioVersion: eff.istioVersion } : {}) };
  }

  private async reconcileSubject(key: string, reconcileId: string): Promise<void> {
    const subject = this.subjectObject(key);
    const ns = key.split('/')[1] ?? '';
    const eff = subject ? this.effective(ns, subject) : undefined;
    const judged = (g: FindingGroup): boolean =>
      eff?.rules.some((r) => r.id === g.rule && r.mode !== 'Observe') ?? false;
    const groups =
      subject && eff ? this.evaluate(subject, eff).map((g) => (judged(g) ? this.joint(g, subject) : g)) : [];
    // Read with the groups, before any await: each fix's write is conditioned on the versions it came from.
    const versions = new Map(groups.map((g) => [g, this.computedFrom(g)]));
    const previous = this.subjects.get(key);
    this.subjects.set(key, { groups, policies: eff?.policies ?? [] });
    for (const p of new Set([...(previous?.policies ?? []), ...(eff?.policies ?? [])])) this.enqueue(policyRequest(p));
    const current = new Set(groups.map((g) => g.rule));
    for (const r of previous?.groups ?? []) if (!current.has(r.rule)) this.observed.delete(`${key}|${r.rule}`);
    const remediationKey = (g: FindingGroup): string => `${g.resource.namespace}/${groupRemediationName(g)}`;
    const plan = planSubject({
      subject,
      eff,
      groups,
      remediation: (k) => this.remediations.get(k),
      remediationsOfSubject: this.remediations.ofSubject(key).flatMap((k) => this.remediations.get(k) ?? []),
      observed: (rule) => this.observed.has(`${key}|${rule}`),
      dismissedAt: (k) => this.dismissed.get(k),
      guard: (g) =>
        fixGuard(
          g.patches.map((p) => p.target),
          this.liveObject,
        ),
      enforceRefusal: (g) =>
        enforceRefusal(g) ??
        jointRefusal(g, (rule, resource) => this.modeOf(rule, resource)) ??
        (eff ? unsafeFix(g, ns, this.index, this.analyzeOptions(eff))?.message : undefined),
      unsettledMs: (g) => (g.create.length > 0 ? this.settling.waitMs(key, ns) : 0),
      remediationKey,
    });
    const log = this.log.child({ reconcileId, subject: key });
    for (const step of plan) await this.carryOut(step, key, subject, eff, versions, log);
  }

  /** Carries out one step of a subject's plan (src/controller/subject-plan.ts). */
  private async carryOut(
    step: SubjectStep,
    key: string,
    subject: KubeObject | undefined,
    eff: Effective | undefined,
    versions: Map<FindingGroup, Map<string, string>>,
    log: Logger,
  ): Promise<void> {
    switch (step.step) {
      case 'event': {
        const g = step.group;
        if (!subject) return;
        this.observed.add(`${key}|${g.rule}`);
        // Named after the finding: a new leader, or a retry, records it once.
        await this.client.event(
          subject,
          g.severity === 'info' ? 'Normal' : 'Warning',
          'FindingDetected',
          `${g.rule}: ${g.message}`,
          `FindingDetected|${g.rule}|${sha(g.message)}`,
        );
        return;
      }
      case 'requeue':
        log.debug({ waitMs: Math.ceil(step.afterMs) }, step.why);
        this.requeueAfter(key, step.afterMs);
        return;
      case 'status':
        await this.writer.setPhase(step.mmr, step.phase, step.reason, step.message);
        log.info({ remediation: step.mmr.metadata.name, phase: step.phase, reason: step.reason }, step.message);
        return;
      case 'propose':
      case 'enforce': {
        if (!subject) return;
        const g = step.group;
        const mmrKey = `${g.resource.namespace}/${groupRemediationName(g)}`;
        this.dismissed.delete(mmrKey);
        const desired = remediationObject(
          g,
          subject,
          objectsAfter(g, this.liveObject).map(forReview),
          repositoryEdits(g.patches, this.liveObject),
        );
        if (step.step === 'propose') {
          await this.writer.propose(desired, this.remediations.get(mmrKey), identityOfGroup(g, subject), step.why, log);
          const proposed = this.remediations.get(mmrKey);
          if (step.reason && proposed) await this.writer.setPhase(proposed, 'Proposed', step.reason, step.why ?? '');
          return;
        }
        const computedFrom = versions.get(g) ?? new Map<string, string>();
        if (this.changedSince(g, computedFrom)) {
          // An earlier step of this plan wrote the same object (one joint fix of two rules): judged again, not written twice.
          log.debug({ rule: g.rule }, 'a target changed since the fix was computed; judging the subject again');
          this.requeueAfter(key, 0);
          return;
        }
        const wait = this.bucketFor(eff).take();
        if (wait > 0) {
          log.info({ rule: g.rule, waitMs: wait }, 'write rate limit reached; enforcing later');
          this.requeueAfter(key, wait);
          return;
        }
        await this.writer.enforce(g, desired, subject, computedFrom, log);
      }
    }
  }

  private requeueAfter(subjectKey: string, ms: number): void {
    if (!this.cachesSynced) return;
    this.queue.addAfter(requestKey(subjectRequest(subjectKey)), Math.ceil(ms) + 10);
  }

  // ---- access-log evidence (src/controller/evidence-subjects.ts) --------------------------------------

  /** A subject by key: an object of the index, or the synthetic subject of an access-log finding. */
  private subjectObject(key: string): KubeObject | undefined {
    if (!isEvidenceKey(key)) return this.index.get(key)?.object;
    const [, ns = '', name = ''] = key.split('/');
    return this.evidenceFor(ns).subjects.get(name)?.subject;
  }

  private evidenceFor(ns: string): EvidenceResult {
    const staticFindings = [...this.subjects]
      .filter(([k]) => !isEvidenceKey(k))
      .flatMap(([, s]) => s.groups.flatMap((g) => g.findings));
    const policies = [...this.policies.values()];
    const labels = this.namespaceLabels.get(ns) ?? {};
    return evidenceSubjects({
      namespace: ns,
      groups: this.evidence.get(ns) ?? [],
      index: this.index,
      effective: this.effective(ns),
      staticFindings,
      excluded: (ref) => effectiveFor(policies, ns, labels, { kind: ref.kind, name: ref.name }) === undefined,
    });
  }

  /** Reconciles the evidence subjects of a namespace: those of its current logs and those that had findings or proposals. */
  private enqueueEvidence(ns: string): void {
    const result = this.evidenceFor(ns);
    for (const f of result.elsewhere)
      this.log.debug(
        { namespace: ns, rule: f.rule, resource: describeRef(f.resource) },
        'access-log finding not proposed: its fix writes outside the namespace whose logs show it',
      );
    const keys = new Set([...result.subjects.keys()].map((name) => evidenceKey(ns, name)));
    const prefix = evidenceKey(ns, '');
    for (const [k, s] of this.subjects) if (k.startsWith(prefix) && s.groups.length > 0) keys.add(k);
    for (const k of this.remediations.subjects()) if (k.startsWith(prefix)) keys.add(k);
    for (const k of keys) this.enqueue(subjectRequest(k));
  }

  private onAccessLogs(ns: string, logs: NamespaceLogs | undefined): void {
    if (logs) {
      // Only failures can make a finding: the groups of successful requests are not kept.
      this.evidence.set(ns, logs.groups.filter(isFailure));
      this.log.debug(
        {
          namespace: ns,
          pods: logs.pods.length,
          lines: logs.stats.lines,
          records: logs.stats.parsed,
          groups: logs.groups.length,
        },
        'access logs aggregated',
      );
    } else this.evidence.delete(ns);
    this.enqueue(evidenceRequest(ns));
  }

  /** Reads the access logs of the namespaces whose policies enable them (and only those). */
  private syncAccessLogs(): void {
    if (!this.accessLogs) return;
    const wanted = new Map<string, AccessLogSettings>();
    for (const ns of this.namespaceLabels.keys()) {
      const settings = this.effective(ns)?.accessLogs;
      if (settings) wanted.set(ns, settings);
    }
    this.accessLogs.configure(wanted);
  }

  private bucketFor(eff: Effective | undefined): TokenBucket {
    const perMinute = eff?.maxWritesPerMinute ?? 30;
    const k = `${eff?.policies.join(',') ?? ''}|${perMinute}`;
    let b = this.buckets.get(k);
    if (!b) this.buckets.set(k, (b = new TokenBucket(perMinute, 60_000)));
    return b;
  }

  /**
   * What the operator's cache says about a proposal: the input of decideRemediation. The fix is computed
   * only if the decision reads it (an approval, or an Applied proposal to check for a revert): the
   * subject's own reconcile, right after, evaluates every rule anyway.
   */
  private remediationView(mmr: KubeObject): RemediationView {
    const verdict = checkIdentity(mmr);
    if (!verdict.ok) return { mmr, targetUid: undefined, covered: false, current: undefined };
    const { rule, target } = verdict.identity;
    const targetKey = refKey(target);
    const subject = this.subjectObject(targetKey);
    const targetUid = subject ? (subject.metadata.uid ?? '') : isEvidenceKey(targetKey) ? '' : undefined;
    // The policy in force is computed from the live policies, never defaulted: none covering, nothing applied.
    const eff = subject ? this.effective(target.namespace, subject) : undefined;
    const covered = eff?.rules.some((r) => r.id === rule && r.mode !== 'Observe') ?? false;
    const fix = once(() => {
      const own =
        subject && eff && covered
          ? this.evaluate(subject, { ...eff, rules: [{ id: rule, mode: 'Propose' }] }, rule)[0]
          : undefined;
      // The fix the subject's reconcile proposes: computed jointly with the others that write its objects.
      const current = own && subject ? this.joint(own, subject) : undefined;
      // Read with `current`, before any await: the write is conditioned on the very versions the fix came from.
      return { current, computedFrom: current ? this.computedFrom(current) : undefined };
    });
    const unsafe = once(() => {
      const { current } = fix();
      return current && eff ? unsafeFix(current, target.namespace, this.index, this.analyzeOptions(eff)) : undefined;
    });
    const reverted = once(() => {
      const { current } = fix();
      return phaseOf(mmr) === 'Applied' && current ? this.undone(current, mmr.metadata.name) : undefined;
    });
    return {
      mmr,
      targetUid,
      covered,
      get current() {
        return fix().current;
      },
      get computedFrom() {
        return fix().computedFrom;
      },
      get unsafe() {
        return unsafe();
      },
      get reverted() {
        return reverted();
      },
    };
  }

  /** How an applied fix whose finding is back was undone on its targets, if it was. */
  private undone(g: FindingGroup, remediation: string): string | undefined {
    for (const p of g.patches) {
      const live = this.liveObject(p.target);
      const how = live ? fixUndone(live, g.rule, remediation) : `${describeRef(p.target)} no longer exists`;
      if (how) return how;
    }
    return undefined;
  }

  private async reconcileRemediation(key: string, reconcileId: string): Promise<void> {
    const mmr = this.remediations.get(key);
    if (!mmr) return;
    const log = this.log.child({ reconcileId, remediation: key });
    const decision = decideRemediation(this.remediationView(mmr));
    switch (decision.action) {
      case 'none':
        return;
      case 'status':
        log.info({ phase: decision.phase, reason: decision.reason }, decision.message);
        await this.writer.setPhase(mmr, decision.phase, decision.reason, decision.message, {
          targetResourceVersion: this.targetResourceVersion(mmr),
        });
        return;
      case 'delete':
        this.ownDeletes.add(key);
        await this.writer.delete(mmr);
        log.info({ why: decision.why }, 'proposal deleted: its target is gone');
        return;
      case 'rollback':
        await this.writer.rollback(mmr, decision.identity, () => this.targetResourceVersion(mmr), log);
        return;
      case 'apply':
        await this.writer.applyApproved(
          mmr,
          decision.group,
          decision.fingerprint,
          decision.computedFrom,
          () => this.recheck(decision.group.rule, mmr),
          log,
        );
    }
  }

  private targetResourceVersion(mmr: KubeObject): string | undefined {
    const t = (mmr.spec as { target?: ObjectRef } | undefined)?.target;
    return t ? this.subjectObject(refKey(t))?.metadata.resourceVersion : undefined;
  }

  private reindex(o: KubeObject): void {
    const decoded = decodeDocuments([{ value: o, file: 'cluster', line: 0 }]);
    const obj = decoded.objects[0];
    if (obj) this.index.upsert(obj);
  }

  /** Whether the rule still finds something on the proposal's target right after its fix was written. */
  private recheck(rule: string, mmr: KubeObject): boolean {
    const t = (mmr.spec as { target: ObjectRef }).target;
    const fresh = this.subjectObject(refKey(t));
    const eff = fresh ? this.effective(fresh.metadata.namespace ?? '', fresh) : undefined;
    return fresh && eff ? this.evaluate(fresh, eff, rule).length > 0 : false;
  }

  private async reconcilePolicyStatus(name: string): Promise<void> {
    const policy = this.policies.get(name);
    const obj = this.policyObjects.get(name);
    if (!policy || !obj) return;
    const groups = [...this.subjects.values()].filter((s) => s.policies.includes(name)).flatMap((s) => s.groups);
    const namespaces = [...this.namespaceLabels].map(([n, labels]) => ({ name: n, labels }));
    const status = policyStatus(policy, obj, groups, modeInEffect(policy, [...this.policies.values()], namespaces));
    if (!status) return;
    const updated = await this.client.patchStatus(
      { apiVersion: obj.apiVersion, kind: 'MeshHealthPolicy', name },
      status,
    );
    this.policyObjects.set(name, updated);
    this.metrics.findings.reset();
    const all = [...this.subjects.values()].flatMap((s) => s.groups);
    const counts = new Map<string, number>();
    for (const g of all) counts.set(`${g.rule}|${g.severity}`, (counts.get(`${g.rule}|${g.severity}`) ?? 0) + 1);
    for (const [k, n] of counts) {
      const [rule = '', severity = ''] = k.split('|');
      this.metrics.findings.set({ rule, severity }, n);
    }
  }
}

/** f, computed on the first call and remembered. */
function once<T>(f: () => T): () => T {
  let done = false;
  let value: T | undefined;
  return () => {
    if (!done) {
      value = f();
      done = true;
    }
    return value as T;
  };
}
