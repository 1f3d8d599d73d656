import { createHash, randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { analyze, type AnalyzeOptions } from '../analysis/analyze.js';
import { decodeDocuments } from '../model/decode.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import { describeRef, objectKey } from '../model/kinds.js';
import { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import { ruleById } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';
import { ApiError, FencedError, KubeClient } from '../kube/kube-client.js';
import { RESOURCES } from '../kube/resources.js';
import { affectedSubjects, SUBJECT_KINDS } from './affected.js';
import { enforceRefusal, unsafeFix } from './enforce-safety.js';
import { applyFix, fixUndone, GuardError, rollbackFix, TargetChangedError } from './fix-writer.js';
import { writeGuard } from './guards.js';
import { LeaderElector } from './leader-election.js';
import { OperatorMetrics } from './metrics.js';
import { effectiveFor, modeInEffect, parsePolicy, type Effective, type Policy } from './policies.js';
import { policyStatus } from './policy-status.js';
import { TokenBucket } from './rate-limiter.js';
import {
  groupFindings,
  groupRemediationName,
  objectsAfter,
  remediationObject,
  REJECT_ANNOTATION,
  ROLLBACK_ANNOTATION,
  sameContent,
  type FindingGroup,
  type Phase,
} from './remediation.js';
import { ResourceWatcher, type WatchEvent } from './watchers.js';
import type { LogGroup } from '../evidence/aggregate.js';
import { isFailure } from '../evidence/diagnose.js';
import type { AccessLogSettings } from './access-log-settings.js';
import { AccessLogSource, type NamespaceLogs } from './access-log-source.js';
import { EVIDENCE_KIND, evidenceKey, evidenceSubjects, isEvidenceKey, type EvidenceResult } from './evidence-subjects.js';
import { approveCommand, approverOf, checkIdentity, forReview, identityOfGroup, type RemediationIdentity } from './remediation-identity.js';
import { decideRemediation, phaseOf, type RemediationView } from './remediation-lifecycle.js';
import { SettleClock } from './settling.js';
import { planSubject, type SubjectStep } from './subject-plan.js';
import { evidenceRequest, METRIC_KIND, parseRequest, policyRequest, requestKey, subjectRequest, type Request } from './requests.js';
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
  /** Former name of retryPeriodMs. */
  renewIntervalMs?: number;
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

const WATCHED = ['DestinationRule', 'VirtualService', 'ServiceEntry', 'Gateway', 'Sidecar', 'PeerAuthentication', 'Service', 'Namespace'] as const;

interface SubjectState {
  groups: FindingGroup[];
  policies: string[];
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
  private readonly remediations = new Map<string, KubeObject>();
  /** subject key -> keys of the remediations that target it */
  private readonly remediationsBySubject = new Map<string, Set<string>>();
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
      if (!this.elector.holdsLease()) throw new FencedError('not the leader: lease not renewed within the renew deadline; writing nothing');
    };
    this.client = new KubeClient(options.kubeConfig, (verb, kind, dryRun) => this.metrics.apiWrites.inc({ verb, kind, dry_run: String(dryRun) }), fence);
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      { concurrency: options.concurrency ?? 4, baseBackoffMs: 200, maxBackoffMs: 30_000 },
      (key, err, attempt) => {
        this.metrics.reconcileErrors.inc({ kind: METRIC_KIND[parseRequest(key).kind] });
        this.log.warn({ key, attempt, code: (err as { code?: unknown }).code, err: (err as Error).message }, 'reconcile failed; retrying with backoff');
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
        retryPeriodMs: options.retryPeriodMs ?? options.renewIntervalMs ?? 2000,
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
    for (const m of [this.policies, this.policyObjects, this.remediations, this.remediationsBySubject, this.namespaceLabels, this.subjects]) m.clear();
    const root = this.options.rootNamespace ?? 'istio-system';
    this.watchers = [
      ...WATCHED.map((k) => new ResourceWatcher(this.options.kubeConfig, RESOURCES[k], (e, o) => this.onMeshEvent(e, o), this.log)),
      new ResourceWatcher(this.options.kubeConfig, RESOURCES.ConfigMap, (e, o) => o.metadata.name === 'istio' && this.onMeshEvent(e, o), this.log, root),
      new ResourceWatcher(this.options.kubeConfig, RESOURCES.MeshHealthPolicy, (e, o) => this.onPolicyEvent(e, o), this.log),
      new ResourceWatcher(this.options.kubeConfig, RESOURCES.MeshRemediation, (e, o) => this.onRemediationEvent(e, o), this.log),
    ];
    for (const w of this.watchers) w.start();
    await Promise.all(this.watchers.map((w) => w.synced));
    if (!this.running) return; // stopped meanwhile
    this.cachesSynced = true;
    this.readyFlag = true;
    this.accessLogs = new AccessLogSource({ kubeConfig: this.options.kubeConfig, log: this.log, onLogs: (ns, logs) => this.onAccessLogs(ns, logs) });
    this.syncAccessLogs();
    this.log.info({ objects: this.index.size, policies: this.policies.size }, 'caches synced');
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
    for (const subject of this.remediationsBySubject.keys()) this.enqueue(subjectRequest(subject));
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
    if (raw.metadata.namespace !== undefined) this.settling.changed(raw.metadata.namespace);
    if (raw.kind === 'Namespace') {
      if (event === 'delete') this.namespaceLabels.delete(raw.metadata.name);
      else this.namespaceLabels.set(raw.metadata.name, raw.metadata.labels ?? {});
      this.syncAccessLogs();
    }
    const objectNs = raw.metadata.namespace;
    if (objectNs !== undefined && this.evidence.has(objectNs)) this.enqueue(evidenceRequest(objectNs));
    const key = objectKey(raw);
    const before = this.index.get(key)?.object;
    const touched = new Set<string>();
    if (before) for (const k of affectedSubjects(before, this.index)) touched.add(k);
    if (event === 'delete') {
      this.index.remove(key);
    } else {
      const decoded = decodeDocuments([{ value: raw, file: `cluster:${describeRef({ kind: raw.kind, name: raw.metadata.name, ...(raw.metadata.namespace ? { namespace: raw.metadata.namespace } : {}) })}`, line: 0 }]);
      for (const d of decoded.diagnostics) this.log.warn({ object: key }, `malformed resource skipped: ${formatDiagnostic(d)}`);
      const obj = decoded.objects[0];
      if (obj) this.index.upsert(obj);
      else this.index.remove(key);
    }
    const after = this.index.get(key)?.object;
    if (after) for (const k of affectedSubjects(after, this.index)) touched.add(k);
    if (event === 'delete' && SUBJECT_KINDS.has(raw.kind)) touched.add(key);
    for (const k of touched) this.enqueue(subjectRequest(k));
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
      this.forget(key);
      if (this.ownDeletes.delete(key)) return;
      const target = (obj.spec as { target?: ObjectRef & { resourceVersion?: string } } | undefined)?.target;
      this.dismissed.set(key, target?.resourceVersion);
      this.log.info({ remediation: key }, 'remediation deleted by a user: not proposed again until its target changes');
      return;
    }
    this.remember(obj);
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
          for (const mmrKey of this.remediationsOf(request.subject)) await this.reconcileRemediation(mmrKey, reconcileId);
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

  private remediationsOf(subjectKey: string): string[] {
    return [...(this.remediationsBySubject.get(subjectKey) ?? [])];
  }

  private remember(mmr: KubeObject): void {
    const key = `${mmr.metadata.namespace}/${mmr.metadata.name}`;
    this.remediations.set(key, mmr);
    const subject = subjectKeyOf(mmr);
    if (!subject) return;
    let set = this.remediationsBySubject.get(subject);
    if (!set) this.remediationsBySubject.set(subject, (set = new Set()));
    set.add(key);
  }

  private forget(key: string): void {
    const mmr = this.remediations.get(key);
    this.remediations.delete(key);
    const subject = mmr ? subjectKeyOf(mmr) : undefined;
    const set = subject ? this.remediationsBySubject.get(subject) : undefined;
    set?.delete(key);
    if (subject && set?.size === 0) this.remediationsBySubject.delete(subject);
  }

  private effective(ns: string, subject?: KubeObject): Effective | undefined {
    return effectiveFor([...this.policies.values()], ns, this.namespaceLabels.get(ns) ?? {}, subject ? { kind: subject.kind, name: subject.metadata.name } : undefined);
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
    const { findings, diagnostics } = analyze(this.index, { rules, params: eff.params, ...(eff.istioVersion ? { istioVersion: eff.istioVersion } : {}) }, [subject]);
    for (const d of diagnostics) this.log.error({ subject: objectKey(subject) }, formatDiagnostic(d));
    return groupFindings(findings);
  }

  private liveObject = (ref: ObjectRef): KubeObject | undefined => this.index.get(`${ref.kind}/${ref.namespace ?? ''}/${ref.name}`)?.object;

  /** The resourceVersions, in the cache, of the objects a fix patches: its write is conditioned on them. */
  private computedFrom(g: FindingGroup): Map<string, string> {
    const out = new Map<string, string>();
    for (const p of g.patches) {
      const rv = this.liveObject(p.target)?.metadata.resourceVersion;
      if (rv) out.set(describeRef(p.target), rv);
    }
    return out;
  }

  private analyzeOptions(eff: Effective): AnalyzeOptions {
    return { params: eff.params, ...(eff.istioVersion ? { istioVersion: eff.istioVersion } : {}) };
  }



  private async reconcileSubject(key: string, reconcileId: string): Promise<void> {
    const subject = this.subjectObject(key);
    const ns = key.split('/')[1] ?? '';
    const eff = subject ? this.effective(ns, subject) : undefined;
    const groups = subject && eff ? this.evaluate(subject, eff) : [];
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
      remediationsOfSubject: this.remediationsOf(key).flatMap((k) => this.remediations.get(k) ?? []),
      observed: (rule) => this.observed.has(`${key}|${rule}`),
      dismissedAt: (k) => this.dismissed.get(k),
      guard: (g) => g.patches.map((p) => this.liveObject(p.target)).map((o) => (o ? writeGuard(o) : undefined)).find((x) => x),
      enforceRefusal: (g) => enforceRefusal(g) ?? (eff ? unsafeFix(g, ns, this.index, this.analyzeOptions(eff))?.message : undefined),
      unsettledMs: (g) => (g.create.length > 0 ? this.settling.waitMs(key, ns) : 0),
      remediationKey,
    });
    const log = this.log.child({ reconcileId, subject: key });
    for (const step of plan) await this.carryOut(step, key, subject, eff, versions, log);
  }

  /** Carries out one step of a subject's plan (src/controller/subject-plan.ts). */
  private async carryOut(step: SubjectStep, key: string, subject: KubeObject | undefined, eff: Effective | undefined, versions: Map<FindingGroup, Map<string, string>>, log: Logger): Promise<void> {
    switch (step.step) {
      case 'event': {
        const g = step.group;
        if (!subject) return;
        this.observed.add(`${key}|${g.rule}`);
        // Named after the finding: a new leader, or a retry, records it once.
        await this.client.event(subject, g.severity === 'info' ? 'Normal' : 'Warning', 'FindingDetected', `${g.rule}: ${g.message}`, `FindingDetected|${g.rule}|${sha(g.message)}`);
        return;
      }
      case 'requeue':
        log.debug({ waitMs: Math.ceil(step.afterMs) }, step.why);
        this.requeueAfter(key, step.afterMs);
        return;
      case 'status':
        await this.setPhase(step.mmr, step.phase, step.reason, step.message);
        log.info({ remediation: step.mmr.metadata.name, phase: step.phase, reason: step.reason }, step.message);
        return;
      case 'propose':
      case 'enforce': {
        if (!subject) return;
        const g = step.group;
        const mmrKey = `${g.resource.namespace}/${groupRemediationName(g)}`;
        this.dismissed.delete(mmrKey);
        const desired = remediationObject(g, subject, objectsAfter(g, this.liveObject).map(forReview));
        if (step.step === 'propose') {
          await this.ensureProposal(desired, this.remediations.get(mmrKey), identityOfGroup(g, subject), step.why, log);
          return;
        }
        const wait = this.bucketFor(eff).take();
        if (wait > 0) {
          log.info({ rule: g.rule, waitMs: wait }, 'write rate limit reached; enforcing later');
          this.requeueAfter(key, wait);
          return;
        }
        await this.enforce(g, desired, subject, versions.get(g) ?? new Map(), log);
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
    const staticFindings = [...this.subjects].filter(([k]) => !isEvidenceKey(k)).flatMap(([, s]) => s.groups.flatMap((g) => g.findings));
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
    for (const f of result.elsewhere) this.log.debug({ namespace: ns, rule: f.rule, resource: describeRef(f.resource) }, 'access-log finding not proposed: its fix writes outside the namespace whose logs show it');
    const keys = new Set([...result.subjects.keys()].map((name) => evidenceKey(ns, name)));
    const prefix = evidenceKey(ns, '');
    for (const [k, s] of this.subjects) if (k.startsWith(prefix) && s.groups.length > 0) keys.add(k);
    for (const k of this.remediationsBySubject.keys()) if (k.startsWith(prefix)) keys.add(k);
    for (const k of keys) this.enqueue(subjectRequest(k));
  }

  private onAccessLogs(ns: string, logs: NamespaceLogs | undefined): void {
    if (logs) {
      // Only failures can make a finding: the groups of successful requests are not kept.
      this.evidence.set(ns, logs.groups.filter(isFailure));
      this.log.debug({ namespace: ns, pods: logs.pods.length, lines: logs.stats.lines, records: logs.stats.parsed, groups: logs.groups.length }, 'access logs aggregated');
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
   * Creates or updates the proposal only when its content differs: an unchanged mesh writes nothing. Its
   * status names the identity and the fingerprint the operator computed (the status is the operator's:
   * users who may edit the spec cannot write it).
   */
  private async ensureProposal(desired: KubeObject, existing: KubeObject | undefined, identity: RemediationIdentity, why: string | undefined, log: Logger): Promise<void> {
    const phase = phaseOf(existing);
    const fingerprint = desired.metadata.annotations?.['meshmedic.io/fingerprint'] ?? '';
    const ours = (existing?.status as { identity?: unknown } | undefined)?.identity !== undefined;
    const sameSpec = existing && ours && sameContent(stripVolatile(existing.spec), stripVolatile(desired.spec)) && existing.metadata.annotations?.['meshmedic.io/fingerprint'] === fingerprint;
    if (existing && sameSpec && phase !== 'Superseded' && phase !== 'Rejected' && phase !== 'RolledBack' && phase !== 'Ignored') return;
    let applied = await this.client.apply(desired, { force: true });
    this.remember(applied);
    // A rejection or a rollback request was about the old content: new content is decided again.
    const stale = [REJECT_ANNOTATION, ROLLBACK_ANNOTATION].filter((a) => existing?.metadata.annotations?.[a] !== undefined);
    if (stale.length > 0) {
      applied = await this.client.mergePatch(refOfRemediation(applied), { metadata: { annotations: Object.fromEntries(stale.map((a) => [a, null])) } });
      this.remember(applied);
    }
    const ns = applied.metadata.namespace ?? 'default';
    const msg = why ? `proposed for review: ${why}; approve with ${approveCommand(ns, applied.metadata.name, fingerprint)}` : `proposed for review: approve with ${approveCommand(ns, applied.metadata.name, fingerprint)}`;
    await this.setPhase(applied, 'Proposed', why ? 'ProposedInsteadOfApplied' : 'Proposed', msg, { identity: { ...identity, fingerprint }, fingerprint });
    const subject = this.liveObject(identity.target);
    if (subject) await this.client.event(subject, 'Normal', 'RemediationProposed', `${applied.metadata.name}: ${msg}`, `RemediationProposed|${applied.metadata.name}|${fingerprint}`);
    log.info({ remediation: applied.metadata.name, why }, existing ? 'proposal updated' : 'proposal created');
  }

  private async enforce(g: FindingGroup, desired: KubeObject, subject: KubeObject, computedFrom: ReadonlyMap<string, string>, log: Logger): Promise<void> {
    const name = desired.metadata.name;
    const fingerprint = desired.metadata.annotations?.['meshmedic.io/fingerprint'] ?? '';
    const identity = identityOfGroup(g, subject);
    try {
      const outcome = await applyFix(this.client, g, name, computedFrom);
      const record = await this.client.apply(desired, { force: true });
      this.remember(record);
      const ns = record.metadata.namespace ?? 'default';
      await this.setPhase(record, 'Applied', 'Applied', `applied automatically (Enforce); roll back with kubectl -n ${ns} annotate meshremediation ${name} ${ROLLBACK_ANNOTATION}=true`, {
        created: outcome.created,
        identity: { ...identity, fingerprint },
        fingerprint,
        approvedBy: 'meshmedic (Enforce)',
        approvedFingerprint: fingerprint,
      });
      await this.client.event(subject, 'Normal', 'RemediationApplied', `${g.rule} fixed automatically: ${g.message}`.slice(0, 1000), `RemediationApplied|${name}|${fingerprint}`);
      log.info({ rule: g.rule, remediation: name }, 'fix applied (Enforce)');
    } catch (err) {
      if (err instanceof GuardError) {
        await this.ensureProposal(desired, this.remediations.get(`${desired.metadata.namespace}/${name}`), identity, `not applied automatically: ${err.message}`, log);
        return;
      }
      throw err;
    }
  }

  /** What the operator's cache says about a proposal: the input of decideRemediation. */
  private remediationView(mmr: KubeObject): RemediationView {
    const verdict = checkIdentity(mmr);
    if (!verdict.ok) return { mmr, targetUid: undefined, covered: false, current: undefined };
    const { rule, target } = verdict.identity;
    const targetKey = `${target.kind}/${target.namespace}/${target.name}`;
    const subject = this.subjectObject(targetKey);
    const targetUid = subject ? (subject.metadata.uid ?? '') : isEvidenceKey(targetKey) ? '' : undefined;
    // The policy in force is computed from the live policies, never defaulted: none covering, nothing applied.
    const eff = subject ? this.effective(target.namespace, subject) : undefined;
    const covered = eff?.rules.some((r) => r.id === rule && r.mode !== 'Observe') ?? false;
    const current = subject && eff && covered ? this.evaluate(subject, { ...eff, rules: [{ id: rule, mode: 'Propose' }] }, rule)[0] : undefined;
    const unsafe = current && eff ? unsafeFix(current, target.namespace, this.index, this.analyzeOptions(eff)) : undefined;
    const phase = phaseOf(mmr);
    const reverted = phase === 'Applied' && current ? this.undone(current, mmr.metadata.name) : undefined;
    // Read with `current`, before any await: the write is conditioned on the very versions the fix came from.
    const computedFrom = current ? this.computedFrom(current) : undefined;
    return { mmr, targetUid, covered, current, ...(computedFrom ? { computedFrom } : {}), ...(unsafe ? { unsafe } : {}), ...(reverted ? { reverted } : {}) };
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
        await this.setPhase(mmr, decision.phase, decision.reason, decision.message, { targetResourceVersion: this.targetResourceVersion(mmr) });
        return;
      case 'delete':
        this.ownDeletes.add(key);
        await this.client.delete(refOfRemediation(mmr));
        this.forget(key);
        log.info({ why: decision.why }, 'proposal deleted: its target is gone');
        return;
      case 'rollback':
        await this.rollback(mmr, decision.identity, log);
        return;
      case 'apply':
        await this.applyApproved(mmr, decision.group, decision.fingerprint, decision.computedFrom, log);
    }
  }

  private targetResourceVersion(mmr: KubeObject): string | undefined {
    const t = (mmr.spec as { target?: ObjectRef } | undefined)?.target;
    return t ? this.subjectObject(`${t.kind}/${t.namespace ?? ''}/${t.name}`)?.metadata.resourceVersion : undefined;
  }

  private async applyApproved(mmr: KubeObject, g: FindingGroup, fingerprint: string, computedFrom: ReadonlyMap<string, string>, log: Logger): Promise<void> {
    const key = `${mmr.metadata.namespace}/${mmr.metadata.name}`;
    const ns = mmr.metadata.namespace ?? 'default';
    const approvedBy = approverOf(mmr) ?? 'unknown';
    try {
      // A retry after a conflict says "approved, not applied yet" already: not rewritten on every attempt.
      const retrying = ['Conflict', 'TargetChanged'].includes((mmr.status as { reason?: string } | undefined)?.reason ?? '');
      if (!retrying) await this.setPhase(mmr, 'Approved', 'Approved', `approved (${fingerprint}) by ${approvedBy}; applying`, { approvedBy, approvedFingerprint: fingerprint });
      const outcome = await applyFix(this.client, g, mmr.metadata.name, computedFrom);
      for (const o of [...outcome.patched, ...outcome.created]) this.reindex(o);
      const still = this.recheck(g.rule, mmr);
      await this.setPhase(this.remediations.get(key) ?? mmr, 'Applied', still ? 'AppliedFindingRemains' : 'Applied', `${still ? 'applied, but the finding is still present' : 'applied'}; roll back with kubectl -n ${ns} annotate meshremediation ${mmr.metadata.name} ${ROLLBACK_ANNOTATION}=true`, {
        created: outcome.created,
        approvedBy,
        approvedFingerprint: fingerprint,
      });
      const subject = this.liveObject((mmr.spec as { target: ObjectRef }).target);
      if (subject) await this.client.event(subject, 'Normal', 'RemediationApplied', `${g.rule} fix ${fingerprint} approved by ${approvedBy} and applied (${mmr.metadata.name})`, `RemediationApplied|${mmr.metadata.name}|${fingerprint}`);
      log.info({ fingerprint, approvedBy }, 'approved fix applied');
    } catch (err) {
      const latest = this.remediations.get(key) ?? mmr;
      if (err instanceof TargetChangedError || (err instanceof ApiError && err.code === 409)) {
        // Retried with backoff: the fix is computed again from the next view, and the approval holds only
        // for the same content. (A write that went through before the conflict is undone by no one: the
        // dry runs before the first write make that rare; the fix record on each target says what was done.)
        await this.setPhase(latest, 'Proposed', err instanceof TargetChangedError ? 'TargetChanged' : 'Conflict', `approved, not applied yet: ${err.message}; retrying`);
        throw err;
      }
      if (err instanceof FencedError) throw err;
      await this.setPhase(latest, 'Failed', err instanceof GuardError ? 'WriteGuard' : 'ApplyFailed', (err as Error).message);
    }
  }

  private async rollback(mmr: KubeObject, identity: RemediationIdentity, log: Logger): Promise<void> {
    const spec = mmr.spec as { patches?: FindingGroup['patches'] };
    const ns = mmr.metadata.namespace ?? '';
    try {
      // Only objects in the proposal's own namespace that carry this very proposal's record are touched.
      for (const p of (spec.patches ?? []).filter((x) => x.target.namespace === ns)) {
        const restored = await rollbackFix(this.client, p.target, identity.rule, mmr.metadata.name);
        this.reindex(restored);
      }
      for (const c of ((mmr.status as { created?: ObjectRef[] } | undefined)?.created ?? [])) {
        await this.client.delete(c);
        this.index.remove(`${c.kind}/${c.namespace ?? ''}/${c.name}`);
      }
      await this.setPhase(mmr, 'RolledBack', 'RolledBack', 'the previous values were restored; not proposed again until the target changes', { targetResourceVersion: this.targetResourceVersion(mmr) });
      log.info('fix rolled back');
    } catch (err) {
      if (err instanceof FencedError) throw err;
      await this.setPhase(mmr, 'Failed', 'RollbackFailed', (err as Error).message);
    }
  }

  private reindex(o: KubeObject): void {
    const decoded = decodeDocuments([{ value: o, file: 'cluster', line: 0 }]);
    const obj = decoded.objects[0];
    if (obj) this.index.upsert(obj);
  }

  /** Whether the rule still finds something on the proposal's target right after its fix was written. */
  private recheck(rule: string, mmr: KubeObject): boolean {
    const t = (mmr.spec as { target: ObjectRef }).target;
    const fresh = this.subjectObject(`${t.kind}/${t.namespace ?? ''}/${t.name}`);
    const eff = fresh ? this.effective(fresh.metadata.namespace ?? '', fresh) : undefined;
    return fresh && eff ? this.evaluate(fresh, eff, rule).length > 0 : false;
  }

  private async setPhase(mmr: KubeObject, phase: Phase, reason: string, message: string, extra: PhaseExtra = {}): Promise<void> {
    const current = (mmr.status ?? {}) as { phase?: string; message?: string; reason?: string };
    const { created, targetResourceVersion, ...fields } = extra;
    if (current.phase === phase && current.message === message && current.reason === reason && created === undefined && targetResourceVersion === undefined && Object.keys(fields).length === 0) return;
    const now = new Date().toISOString();
    const status: Record<string, unknown> = {
      phase,
      reason,
      message,
      observedGeneration: mmr.metadata.generation ?? 0,
      conditions: [{ type: 'Applied', status: phase === 'Applied' ? 'True' : 'False', reason, message: message.slice(0, 1000), lastTransitionTime: now }],
      ...(phase === 'Applied' ? { appliedAt: now } : {}),
      ...(created ? { created: created.map((c) => ({ apiVersion: c.apiVersion, kind: c.kind, namespace: c.metadata.namespace, name: c.metadata.name })) } : {}),
      ...(targetResourceVersion !== undefined ? { targetResourceVersion } : {}),
      ...fields,
    };
    this.log.debug({ remediation: mmr.metadata.name, phase, reason }, 'remediation phase');
    const updated = await this.client.patchStatus(refOfRemediation(mmr), status);
    this.remember(updated);
    this.metrics.remediations.reset();
    const counts = new Map<string, number>();
    for (const r of this.remediations.values()) counts.set(phaseOf(r) ?? 'Proposed', (counts.get(phaseOf(r) ?? 'Proposed') ?? 0) + 1);
    for (const [p, n] of counts) this.metrics.remediations.set({ phase: p }, n);
  }

  private async reconcilePolicyStatus(name: string): Promise<void> {
    const policy = this.policies.get(name);
    const obj = this.policyObjects.get(name);
    if (!policy || !obj) return;
    const groups = [...this.subjects.values()].filter((s) => s.policies.includes(name)).flatMap((s) => s.groups);
    const namespaces = [...this.namespaceLabels].map(([n, labels]) => ({ name: n, labels }));
    const status = policyStatus(policy, obj, groups, modeInEffect(policy, [...this.policies.values()], namespaces));
    if (!status) return;
    const updated = await this.client.patchStatus({ apiVersion: obj.apiVersion, kind: 'MeshHealthPolicy', name }, status);
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

function subjectKeyOf(mmr: KubeObject): string | undefined {
  const t = (mmr.spec as { target?: ObjectRef } | undefined)?.target;
  return t ? `${t.kind}/${t.namespace ?? ''}/${t.name}` : undefined;
}


function refOfRemediation(mmr: KubeObject): ObjectRef {
  return { apiVersion: mmr.apiVersion, kind: 'MeshRemediation', namespace: mmr.metadata.namespace ?? 'default', name: mmr.metadata.name };
}

/** Fields of a proposal that change with every evaluation without changing the fix. */
function stripVolatile(spec: unknown): unknown {
  const s = { ...(spec as Record<string, unknown>) };
  delete s['approved'];
  const target = { ...(s['target'] as Record<string, unknown>) };
  delete target['resourceVersion'];
  s['target'] = target;
  delete s['after'];
  // Evidence messages carry counts and durations that change with every read: rewritten only with the fix.
  if (target['kind'] === EVIDENCE_KIND) delete s['message'];
  return s;
}

interface PhaseExtra {
  created?: KubeObject[];
  targetResourceVersion?: string | undefined;
  identity?: RemediationIdentity & { fingerprint: string };
  fingerprint?: string;
  approvedBy?: string;
  approvedFingerprint?: string;
}

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
