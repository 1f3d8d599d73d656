import { randomUUID } from 'node:crypto';
import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { analyze } from '../analysis/analyze.js';
import { decodeDocuments } from '../model/decode.js';
import { formatDiagnostic } from '../model/diagnostics.js';
import { describeRef, objectKey } from '../model/kinds.js';
import { MeshIndex } from '../model/mesh-index.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import { ruleById } from '../rules/registry.js';
import type { Rule } from '../rules/types.js';
import { KubeClient } from '../kube/kube-client.js';
import { RESOURCES } from '../kube/resources.js';
import { affectedSubjects, SUBJECT_KINDS } from './affected.js';
import { applyFix, GuardError, rollbackFix } from './fix-writer.js';
import { writeGuard } from './guards.js';
import { LeaderElector } from './leader-election.js';
import { OperatorMetrics } from './metrics.js';
import { effectiveFor, parsePolicy, type Effective, type Policy } from './policies.js';
import { policyStatus } from './policy-status.js';
import { TokenBucket } from './rate-limiter.js';
import {
  APPROVE_ANNOTATION,
  groupFindings,
  groupRemediationName,
  objectsAfter,
  REJECT_ANNOTATION,
  remediationObject,
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
import { WorkQueue } from './work-queue.js';

export interface OperatorOptions {
  kubeConfig: KubeConfig;
  log: Logger;
  /** The namespace of the operator's Lease. */
  namespace: string;
  identity?: string;
  leaseName?: string;
  leaseDurationSeconds?: number;
  renewIntervalMs?: number;
  resyncIntervalMs?: number;
  rootNamespace?: string;
  metrics?: OperatorMetrics;
  concurrency?: number;
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
    this.metrics = options.metrics ?? new OperatorMetrics();
    this.client = new KubeClient(options.kubeConfig, (verb, kind, dryRun) => this.metrics.apiWrites.inc({ verb, kind, dry_run: String(dryRun) }));
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      { concurrency: options.concurrency ?? 4, baseBackoffMs: 200, maxBackoffMs: 30_000 },
      (key, err, attempt) => {
        this.metrics.reconcileErrors.inc({ kind: key.slice(0, 1) });
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
        renewIntervalMs: options.renewIntervalMs ?? 5000,
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
    for (const k of SUBJECT_KINDS) for (const o of this.index.ofKind(k)) this.enqueue(`s|${objectKey(o)}`);
    for (const name of this.policies.keys()) this.enqueue(`p|${name}`);
    for (const subject of this.remediationsBySubject.keys()) this.enqueue(`s|${subject}`);
    for (const ns of this.evidence.keys()) this.enqueue(`e|${ns}`);
  }

  /** Reads the access logs of every namespace a policy enables them for, now (tests, benchmarks; then idle()). */
  async collectAccessLogs(): Promise<void> {
    await this.accessLogs?.readNow();
  }

  private enqueue(key: string): void {
    // Before every cache has synced, a subject would be judged without its remediations or policies (a
    // rejected proposal proposed again, even applied); the resync right after the sync covers every subject.
    if (!this.cachesSynced) return;
    this.queue.add(key);
    this.metrics.queueDepth.set(this.queue.depth);
  }

  // ---- events ----------------------------------------------------------------------------------

  private onMeshEvent(event: WatchEvent, raw: KubeObject): void {
    if (raw.kind === 'Namespace') {
      if (event === 'delete') this.namespaceLabels.delete(raw.metadata.name);
      else this.namespaceLabels.set(raw.metadata.name, raw.metadata.labels ?? {});
      this.syncAccessLogs();
    }
    if (this.evidence.has(raw.metadata.namespace ?? '')) this.enqueue(`e|${raw.metadata.namespace}`);
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
    for (const k of touched) this.enqueue(`s|${k}`);
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
      this.enqueue(`p|${obj.metadata.name}`);
    }
    for (const k of SUBJECT_KINDS) for (const o of this.index.ofKind(k)) this.enqueue(`s|${objectKey(o)}`);
    this.syncAccessLogs();
    for (const ns of this.evidence.keys()) this.enqueue(`e|${ns}`);
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
    if (subject) this.enqueue(`s|${subject}`);
  }

  // ---- reconcile ---------------------------------------------------------------------------------

  private async reconcile(key: string): Promise<void> {
    const kind = key.slice(0, 1);
    const end = this.metrics.reconcileDuration.startTimer({ kind });
    const reconcileId = randomUUID().slice(0, 8);
    try {
      this.metrics.reconciles.inc({ kind });
      if (kind === 's') {
        // A subject and the user's actions on its remediations are handled under one key, so they never race.
        for (const mmrKey of this.remediationsOf(key.slice(2))) await this.reconcileRemediation(mmrKey, reconcileId);
        await this.reconcileSubject(key.slice(2), reconcileId);
      } else if (kind === 'p') await this.reconcilePolicyStatus(key.slice(2));
      else if (kind === 'e') this.enqueueEvidence(key.slice(2));
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

  private async reconcileSubject(key: string, reconcileId: string): Promise<void> {
    const subject = this.subjectObject(key);
    const [kind, ns = '', name = ''] = key.split('/');
    const eff = subject ? this.effective(ns, subject) : undefined;
    const groups = subject && eff ? this.evaluate(subject, eff) : [];
    const previous = this.subjects.get(key);
    this.subjects.set(key, { groups, policies: eff?.policies ?? [] });
    for (const p of new Set([...(previous?.policies ?? []), ...(eff?.policies ?? [])])) this.enqueue(`p|${p}`);
    const log = this.log.child({ reconcileId, subject: key });

    for (const g of groups) {
      const mode = eff?.rules.find((r) => r.id === g.rule)?.mode ?? 'Observe';
      const mmrKey = `${g.resource.namespace}/${groupRemediationName(g)}`;
      if (mode === 'Observe') {
        if (!this.observed.has(`${key}|${g.rule}`) && subject) {
          this.observed.add(`${key}|${g.rule}`);
          await this.client.event(subject, g.severity === 'error' ? 'Warning' : 'Normal', 'FindingDetected', `${g.rule}: ${g.message}`);
        }
        continue;
      }
      if (!subject) continue;
      const rv = subject.metadata.resourceVersion;
      if (this.dismissed.has(mmrKey) && this.dismissed.get(mmrKey) === rv) continue;
      this.dismissed.delete(mmrKey);
      const existing = this.remediations.get(mmrKey);
      const phase = phaseOf(existing);
      const status = (existing?.status ?? {}) as { targetResourceVersion?: string };
      // Rejected, rolled back or refused (edited) proposals stay as they are until the target changes.
      if ((phase === 'Rejected' || phase === 'RolledBack' || phase === 'Failed') && status.targetResourceVersion !== undefined && status.targetResourceVersion === rv) continue;
      const guard = g.patches.map((p) => this.liveObject(p.target)).map((o) => (o ? writeGuard(o) : undefined)).find((x) => x);
      const desired = remediationObject(g, subject, objectsAfter(g, this.liveObject));
      if (mode === 'Enforce' && !g.proposeOnly && !guard && phase !== 'Applied') {
        const bucket = this.bucketFor(eff);
        const wait = bucket.take();
        if (wait > 0) {
          log.info({ rule: g.rule, waitMs: wait }, 'write rate limit reached; enforcing later');
          setTimeout(() => this.enqueue(`s|${key}`), wait).unref();
          continue;
        }
        await this.enforce(g, desired, subject, log);
        continue;
      }
      const why = mode === 'Enforce' ? (g.proposeOnly ? `${g.rule} fixes are proposed only, never applied automatically` : guard ? `not applied automatically: target is ${guard}` : undefined) : undefined;
      await this.ensureProposal(desired, existing, why, log);
    }

    // Findings that disappeared: their open proposals are superseded.
    const current = new Set(groups.map((g) => g.rule));
    for (const r of previous?.groups ?? []) if (!current.has(r.rule)) this.observed.delete(`${key}|${r.rule}`);
    for (const mmrKey of this.remediationsOf(`${kind}/${ns}/${name}`)) {
      const mmr = this.remediations.get(mmrKey);
      const spec = mmr?.spec as { rule?: string } | undefined;
      if (!mmr || current.has(spec?.rule ?? '')) continue;
      const phase = phaseOf(mmr);
      if (phase === 'Proposed' || phase === 'Failed' || phase === 'Approved') {
        await this.setPhase(mmr, 'Superseded', 'FindingResolved', 'the finding is no longer present');
        log.info({ remediation: mmrKey }, 'finding resolved: remediation superseded');
      }
    }
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
    for (const k of keys) this.enqueue(`s|${k}`);
  }

  private onAccessLogs(ns: string, logs: NamespaceLogs | undefined): void {
    if (logs) {
      // Only failures can make a finding: the groups of successful requests are not kept.
      this.evidence.set(ns, logs.groups.filter(isFailure));
      this.log.debug({ namespace: ns, pods: logs.pods.length, lines: logs.stats.lines, records: logs.stats.parsed, groups: logs.groups.length }, 'access logs aggregated');
    } else this.evidence.delete(ns);
    this.enqueue(`e|${ns}`);
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

  /** Creates or updates the proposal only when its content differs: an unchanged mesh writes nothing. */
  private async ensureProposal(desired: KubeObject, existing: KubeObject | undefined, why: string | undefined, log: Logger): Promise<void> {
    const phase = phaseOf(existing);
    const sameSpec = existing && sameContent(stripVolatile(existing.spec), stripVolatile(desired.spec)) && existing.metadata.annotations?.['meshmedic.io/fingerprint'] === desired.metadata.annotations?.['meshmedic.io/fingerprint'];
    if (existing && sameSpec && phase !== 'Superseded' && phase !== 'Rejected' && phase !== 'RolledBack') return;
    const applied = await this.client.apply(desired, { force: true });
    this.remember(applied);
    // An approval is for the content that was reviewed: new content needs a new approval.
    if (existing && (existing.metadata.annotations?.[REJECT_ANNOTATION] || existing.metadata.annotations?.[APPROVE_ANNOTATION] || (existing.spec as { approved?: boolean }).approved)) {
      const reset = await this.client.mergePatch(refOfRemediation(applied), { metadata: { annotations: { [REJECT_ANNOTATION]: null, [APPROVE_ANNOTATION]: null } }, spec: { approved: false } });
      this.remember(reset);
    }
    const msg = why ? `proposed for review: ${why}` : 'proposed for review: approve with kubectl annotate meshremediation ' + applied.metadata.name + ' meshmedic.io/approve=true';
    await this.setPhase(applied, 'Proposed', why ? 'ProposedInsteadOfApplied' : 'Proposed', msg);
    if (!existing) {
      const subjectRef = (desired.spec as { target: ObjectRef }).target;
      const subject = this.liveObject(subjectRef);
      if (subject) await this.client.event(subject, 'Normal', 'RemediationProposed', `${applied.metadata.name}: ${msg}`);
    }
    log.info({ remediation: applied.metadata.name, why }, existing ? 'proposal updated' : 'proposal created');
  }

  private async enforce(g: FindingGroup, desired: KubeObject, subject: KubeObject, log: Logger): Promise<void> {
    const name = desired.metadata.name;
    try {
      const outcome = await applyFix(this.client, g, name);
      for (const o of [...outcome.patched, ...outcome.created]) this.reindex(o);
      const record = await this.client.apply(desired, { force: true });
      this.remember(record);
      const still = this.recheck(subject, g.rule);
      await this.setPhase(record, 'Applied', still ? 'AppliedFindingRemains' : 'Applied', still ? 'applied automatically (Enforce), but the finding is still present' : 'applied automatically (Enforce); roll back with kubectl annotate meshremediation ' + name + ' meshmedic.io/rollback=true', outcome.created);
      await this.client.event(subject, 'Normal', 'RemediationApplied', `${g.rule} fixed automatically: ${g.message}`.slice(0, 1000));
      log.info({ rule: g.rule, remediation: name }, 'fix applied (Enforce)');
    } catch (err) {
      if (err instanceof GuardError) {
        await this.ensureProposal(desired, this.remediations.get(`${desired.metadata.namespace}/${name}`), `not applied automatically: ${err.message}`, log);
        return;
      }
      throw err;
    }
  }

  private reindex(o: KubeObject): void {
    const decoded = decodeDocuments([{ value: o, file: 'cluster', line: 0 }]);
    const obj = decoded.objects[0];
    if (obj) this.index.upsert(obj);
  }

  private recheck(subject: KubeObject, rule: string): boolean {
    const fresh = this.index.get(objectKey(subject))?.object ?? subject;
    const eff = this.effective(fresh.metadata.namespace ?? '', fresh);
    return eff ? this.evaluate(fresh, eff, rule).length > 0 : false;
  }

  private async reconcileRemediation(key: string, reconcileId: string): Promise<void> {
    const mmr = this.remediations.get(key);
    if (!mmr) return;
    const log = this.log.child({ reconcileId, remediation: key });
    const ann = mmr.metadata.annotations ?? {};
    const spec = mmr.spec as { rule: string; target: ObjectRef; patches: FindingGroup['patches']; create: KubeObject[]; approved?: boolean };
    const phase = phaseOf(mmr);
    const targetKey = `${spec.target.kind}/${spec.target.namespace ?? ''}/${spec.target.name}`;

    if (ann[ROLLBACK_ANNOTATION] === 'true' && phase === 'Applied') {
      try {
        for (const p of spec.patches) {
          const restored = await rollbackFix(this.client, p.target, spec.rule);
          this.reindex(restored);
        }
        for (const c of ((mmr.status as { created?: ObjectRef[] } | undefined)?.created ?? [])) {
          await this.client.delete(c);
          this.index.remove(`${c.kind}/${c.namespace ?? ''}/${c.name}`);
        }
        const rv = this.subjectObject(targetKey)?.metadata.resourceVersion;
        await this.setPhase(mmr, 'RolledBack', 'RolledBack', 'the previous values were restored; not proposed again until the target changes', undefined, rv);
        log.info('fix rolled back');
      } catch (err) {
        await this.setPhase(mmr, 'Failed', 'RollbackFailed', (err as Error).message);
      }
      return;
    }
    if (ann[REJECT_ANNOTATION] === 'true' && (phase === 'Proposed' || phase === 'Failed')) {
      const rv = this.subjectObject(targetKey)?.metadata.resourceVersion;
      await this.setPhase(mmr, 'Rejected', 'Rejected', 'rejected by a user; not proposed again until the target changes', undefined, rv);
      return;
    }
    if ((ann[APPROVE_ANNOTATION] === 'true' || spec.approved === true) && phase === 'Proposed') {
      const subject = this.subjectObject(targetKey);
      if (!subject) {
        await this.setPhase(mmr, 'Failed', 'TargetGone', `${targetKey} no longer exists`);
        return;
      }
      const eff = this.effective(subject.metadata.namespace ?? '', subject) ?? { rules: [{ id: spec.rule, mode: 'Propose' as const }], params: {}, istioVersion: undefined, maxWritesPerMinute: 30, policies: [] };
      const g = this.evaluate(subject, { ...eff, rules: [{ id: spec.rule, mode: 'Propose' }] }, spec.rule)[0];
      if (!g) {
        await this.setPhase(mmr, 'Superseded', 'FindingResolved', 'approved, but the finding is no longer present: nothing to apply');
        return;
      }
      if (!sameContent({ patches: g.patches, create: g.create }, { patches: spec.patches ?? [], create: spec.create ?? [] })) {
        await this.setPhase(mmr, 'Failed', 'ProposalMismatch', 'not applied: the patch in this proposal differs from the fix meshmedic computes from the live objects (edited by hand, or the target changed); meshmedic never applies a patch it did not compute', undefined, subject.metadata.resourceVersion);
        log.warn('approved proposal differs from the recomputed fix: not applied');
        return;
      }
      try {
        await this.setPhase(mmr, 'Approved', 'Approved', 'approved; applying');
        const outcome = await applyFix(this.client, g, mmr.metadata.name);
        for (const o of [...outcome.patched, ...outcome.created]) this.reindex(o);
        const still = this.recheck(subject, spec.rule);
        await this.setPhase(this.remediations.get(key) ?? mmr, 'Applied', still ? 'AppliedFindingRemains' : 'Applied', still ? 'applied, but the finding is still present' : 'applied; roll back with kubectl annotate meshremediation ' + mmr.metadata.name + ' meshmedic.io/rollback=true', outcome.created);
        await this.client.event(subject, 'Normal', 'RemediationApplied', `${spec.rule} fix approved and applied (${mmr.metadata.name})`);
        log.info('approved fix applied');
      } catch (err) {
        await this.setPhase(this.remediations.get(key) ?? mmr, 'Failed', err instanceof GuardError ? 'WriteGuard' : 'ApplyFailed', (err as Error).message);
      }
    }
  }

  private async setPhase(mmr: KubeObject, phase: Phase, reason: string, message: string, created?: KubeObject[], targetResourceVersion?: string): Promise<void> {
    const current = (mmr.status ?? {}) as { phase?: string; message?: string };
    if (current.phase === phase && current.message === message && created === undefined && targetResourceVersion === undefined) return;
    const now = new Date().toISOString();
    const status: Record<string, unknown> = {
      phase,
      message,
      observedGeneration: mmr.metadata.generation ?? 0,
      conditions: [{ type: 'Applied', status: phase === 'Applied' ? 'True' : 'False', reason, message: message.slice(0, 1000), lastTransitionTime: now }],
      ...(phase === 'Applied' ? { appliedAt: now } : {}),
      ...(created ? { created: created.map((c) => ({ apiVersion: c.apiVersion, kind: c.kind, namespace: c.metadata.namespace, name: c.metadata.name })) } : {}),
      ...(targetResourceVersion !== undefined ? { targetResourceVersion } : {}),
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
    const status = policyStatus(policy, obj, groups);
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

function phaseOf(mmr: KubeObject | undefined): Phase | undefined {
  return (mmr?.status as { phase?: Phase } | undefined)?.phase;
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
