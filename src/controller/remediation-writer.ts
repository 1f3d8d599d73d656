import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { ApiError, FencedError, type KubeClient } from '../kube/kube-client.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import { EVIDENCE_KIND } from './evidence-subjects.js';
import { applyFix, GuardError, rollbackFix, TargetChangedError, type ResourceVersions } from './fix-writer.js';
import type { OperatorMetrics } from './metrics.js';
import { approveCommand, approverOf, identityOfGroup, type RemediationIdentity } from './remediation-identity.js';
import { phaseOf } from './remediation-lifecycle.js';
import { remediationKey, type RemediationStore } from './remediation-store.js';
import {
  APPROVE_ANNOTATION,
  REJECT_ANNOTATION,
  ROLLBACK_ANNOTATION,
  sameContent,
  type FindingGroup,
  type Phase,
} from './remediation.js';

/** What the writer needs from the operator's view of the cluster (it never reads the API server itself). */
export interface WriterContext {
  client: KubeClient;
  metrics: OperatorMetrics;
  store: RemediationStore;
  /** The object of a ref in the cache (the subject an Event is about). */
  live: (ref: ObjectRef) => KubeObject | undefined;
  /** Puts an object the operator just wrote into the mesh index. */
  reindex: (o: KubeObject) => void;
  /** Takes an object the operator just deleted out of the mesh index. */
  unindex: (ref: ObjectRef) => void;
}

const MAX_STATUS_WRITES = 12;

export class WriteLoopError extends Error {}

export interface PhaseExtra {
  created?: KubeObject[];
  targetResourceVersion?: string | undefined;
  identity?: RemediationIdentity & { fingerprint: string };
  fingerprint?: string;
  approvedBy?: string;
  approvedFingerprint?: string;
}

/**
 * Carries out the operator's decisions about MeshRemediations: proposals, their statuses, applying and
 * rolling back fixes (src/controller/fix-writer.ts), and the Events that say so. Every write is attributed
 * (field manager meshmedic), fenced (KubeClient), and made only when it changes something.
 */
export class RemediationWriter {
  /** Status writes per proposal in the last minute (the write-loop breaker). */
  private readonly recentWrites = new Map<string, number[]>();

  constructor(private readonly ctx: WriterContext) {}

  /**
   * Two decisions that disagree would rewrite a status forever. A proposal whose status was written
   * MAX_STATUS_WRITES times within a minute is not written again until the minute has passed: the
   * reconcile fails instead (logged, counted, retried with backoff), so a loop costs a write every 30 s.
   */
  private breakLoop(key: string): void {
    const now = performance.now();
    const recent = (this.recentWrites.get(key) ?? []).filter((t) => now - t < 60_000);
    if (recent.length >= MAX_STATUS_WRITES) {
      this.recentWrites.set(key, recent);
      throw new WriteLoopError(
        `write loop: the status of MeshRemediation ${key} was written ${recent.length} times in a minute; not written again until the minute has passed`,
      );
    }
    recent.push(now);
    this.recentWrites.set(key, recent);
    if (this.recentWrites.size > 10_000)
      for (const [k, ts] of this.recentWrites) if (ts.every((t) => now - t >= 60_000)) this.recentWrites.delete(k);
  }

  /**
   * Creates or updates the proposal only when its content differs: an unchanged mesh writes nothing. Its
   * status names the identity and the fingerprint the operator computed (the status is the operator's:
   * users who may edit the spec cannot write it).
   */
  async propose(
    desired: KubeObject,
    existing: KubeObject | undefined,
    identity: RemediationIdentity,
    why: string | undefined,
    log: Logger,
  ): Promise<void> {
    const phase = phaseOf(existing);
    const fingerprint = fingerprintOf(desired);
    const ours = (existing?.status as { identity?: unknown } | undefined)?.identity !== undefined;
    const sameSpec =
      existing &&
      ours &&
      sameContent(stripVolatile(existing.spec), stripVolatile(desired.spec)) &&
      fingerprintOf(existing) === fingerprint;
    if (
      existing &&
      sameSpec &&
      phase !== 'Superseded' &&
      phase !== 'Rejected' &&
      phase !== 'RolledBack' &&
      phase !== 'Ignored'
    )
      return;
    const { client, store } = this.ctx;
    let applied = await client.apply(desired, { force: true });
    store.remember(applied);
    // A rejection or a rollback request was about the old content: new content is decided again.
    const stale = [REJECT_ANNOTATION, ROLLBACK_ANNOTATION].filter(
      (a) => existing?.metadata.annotations?.[a] !== undefined,
    );
    if (stale.length > 0) {
      applied = await client.mergePatch(refOfRemediation(applied), {
        metadata: { annotations: Object.fromEntries(stale.map((a) => [a, null])) },
      });
      store.remember(applied);
    }
    const command = approveCommand(applied.metadata.namespace ?? 'default', applied.metadata.name, fingerprint);
    const msg = why
      ? `proposed for review: ${why}; approve with ${command}`
      : `proposed for review: approve with ${command}`;
    await this.setPhase(applied, 'Proposed', why ? 'ProposedInsteadOfApplied' : 'Proposed', msg, {
      identity: { ...identity, fingerprint },
      fingerprint,
    });
    const subject = this.ctx.live(identity.target);
    if (subject)
      await client.event(
        subject,
        'Normal',
        'RemediationProposed',
        `${applied.metadata.name}: ${msg}`,
        `RemediationProposed|${applied.metadata.name}|${fingerprint}`,
      );
    log.info({ remediation: applied.metadata.name, why }, existing ? 'proposal updated' : 'proposal created');
  }

  /** Enforce: applies the fix, then records it as an Applied proposal; a write guard turns it into a proposal. */
  async enforce(
    g: FindingGroup,
    desired: KubeObject,
    subject: KubeObject,
    computedFrom: ResourceVersions,
    log: Logger,
  ): Promise<void> {
    const { client, store } = this.ctx;
    const name = desired.metadata.name;
    const fingerprint = fingerprintOf(desired);
    const identity = identityOfGroup(g, subject);
    try {
      const outcome = await applyFix(client, g, name, computedFrom, 'meshmedic (Enforce)');
      for (const o of [...outcome.patched, ...outcome.created]) this.ctx.reindex(o);
      const record = await client.apply(desired, { force: true });
      store.remember(record);
      await this.setPhase(
        record,
        'Applied',
        'Applied',
        `applied automatically (Enforce); roll back with ${rollbackCommand(record)}`,
        {
          created: outcome.created,
          identity: { ...identity, fingerprint },
          fingerprint,
          approvedBy: 'meshmedic (Enforce)',
          approvedFingerprint: fingerprint,
        },
      );
      await client.event(
        subject,
        'Normal',
        'RemediationApplied',
        `${g.rule} fixed automatically: ${g.message}`.slice(0, 1000),
        `RemediationApplied|${name}|${fingerprint}`,
      );
      log.info({ rule: g.rule, remediation: name }, 'fix applied (Enforce)');
    } catch (err) {
      if (!(err instanceof GuardError)) throw err;
      await this.propose(
        desired,
        store.get(remediationKey(desired)),
        identity,
        `not applied automatically: ${err.message}`,
        log,
      );
    }
  }

  /**
   * Applies an approved fix, conditioned on the versions it was computed from. A conflict leaves the
   * proposal saying so and is retried (the queue's backoff); `stillFinding` re-runs the rule afterwards.
   */
  async applyApproved(
    mmr: KubeObject,
    g: FindingGroup,
    fingerprint: string,
    computedFrom: ResourceVersions,
    stillFinding: () => boolean,
    log: Logger,
  ): Promise<void> {
    const { client, store } = this.ctx;
    const key = remediationKey(mmr);
    const approvedBy = approverOf(mmr) ?? 'unknown';
    try {
      // A retry after a conflict says "approved, not applied yet" already: not rewritten on every attempt.
      const retrying = ['Conflict', 'TargetChanged'].includes(
        (mmr.status as { reason?: string } | undefined)?.reason ?? '',
      );
      if (!retrying)
        await this.setPhase(mmr, 'Approved', 'Approved', `approved (${fingerprint}) by ${approvedBy}; applying`, {
          approvedBy,
          approvedFingerprint: fingerprint,
        });
      const outcome = await applyFix(client, g, mmr.metadata.name, computedFrom, approvedBy);
      for (const o of [...outcome.patched, ...outcome.created]) this.ctx.reindex(o);
      const still = stillFinding();
      // The approval is used up: a later revert or re-proposal needs a new one (it stays on record in status).
      store.remember(
        await client.mergePatch(refOfRemediation(mmr), {
          metadata: { annotations: { [APPROVE_ANNOTATION]: null } },
          spec: { approvedFingerprint: null, approved: null },
        }),
      );
      await this.setPhase(
        store.get(key) ?? mmr,
        'Applied',
        still ? 'AppliedFindingRemains' : 'Applied',
        `${still ? 'applied, but the finding is still present' : 'applied'}; roll back with ${rollbackCommand(mmr)}`,
        {
          created: outcome.created,
          approvedBy,
          approvedFingerprint: fingerprint,
        },
      );
      const subject = this.ctx.live((mmr.spec as { target: ObjectRef }).target);
      if (subject)
        await client.event(
          subject,
          'Normal',
          'RemediationApplied',
          `${g.rule} fix ${fingerprint} approved by ${approvedBy} and applied (${mmr.metadata.name})`,
          `RemediationApplied|${mmr.metadata.name}|${fingerprint}`,
        );
      log.info({ fingerprint, approvedBy }, 'approved fix applied');
    } catch (err) {
      const latest = store.get(key) ?? mmr;
      if (err instanceof TargetChangedError || (err instanceof ApiError && err.code === 409)) {
        // Retried with backoff: the fix is computed again from the next view, and the approval holds only
        // for the same content. (A write that went through before the conflict is undone by no one: the
        // dry runs before the first write make that rare; the fix record on each target says what was done.)
        await this.setPhase(
          latest,
          'Proposed',
          err instanceof TargetChangedError ? 'TargetChanged' : 'Conflict',
          `approved, not applied yet: ${err.message}; retrying`,
        );
        throw err;
      }
      if (err instanceof FencedError || err instanceof WriteLoopError) throw err;
      await this.setPhase(
        latest,
        'Failed',
        err instanceof GuardError ? 'WriteGuard' : 'ApplyFailed',
        (err as Error).message,
      );
    }
  }

  /** Undoes only what this very proposal recorded, in its own namespace, and deletes what it created. */
  async rollback(
    mmr: KubeObject,
    identity: RemediationIdentity,
    targetResourceVersion: () => string | undefined,
    log: Logger,
  ): Promise<void> {
    const { client } = this.ctx;
    const spec = mmr.spec as { patches?: FindingGroup['patches'] };
    const ns = mmr.metadata.namespace ?? '';
    try {
      for (const p of (spec.patches ?? []).filter((x) => x.target.namespace === ns)) {
        this.ctx.reindex(await rollbackFix(client, p.target, identity.rule, mmr.metadata.name));
      }
      for (const c of (mmr.status as { created?: ObjectRef[] } | undefined)?.created ?? []) {
        await client.delete(c);
        this.ctx.unindex(c);
      }
      // The target's version after the rollback: the proposal stays RolledBack until the target changes again.
      await this.setPhase(
        mmr,
        'RolledBack',
        'RolledBack',
        'the previous values were restored; not proposed again until the target changes',
        { targetResourceVersion: targetResourceVersion() },
      );
      log.info('fix rolled back');
    } catch (err) {
      if (err instanceof FencedError || err instanceof WriteLoopError) throw err;
      await this.setPhase(mmr, 'Failed', 'RollbackFailed', (err as Error).message);
    }
  }

  async delete(mmr: KubeObject): Promise<void> {
    await this.ctx.client.delete(refOfRemediation(mmr));
    this.ctx.store.forget(remediationKey(mmr));
  }

  /** Writes a proposal's status when it changes (phase, reason, message, and what `extra` adds). */
  async setPhase(
    mmr: KubeObject,
    phase: Phase,
    reason: string,
    message: string,
    extra: PhaseExtra = {},
  ): Promise<void> {
    const current = (mmr.status ?? {}) as { phase?: string; message?: string; reason?: string };
    const { created, targetResourceVersion, ...fields } = extra;
    if (
      current.phase === phase &&
      current.message === message &&
      current.reason === reason &&
      created === undefined &&
      targetResourceVersion === undefined &&
      Object.keys(fields).length === 0
    )
      return;
    const now = new Date().toISOString();
    const status: Record<string, unknown> = {
      phase,
      reason,
      message,
      observedGeneration: mmr.metadata.generation ?? 0,
      conditions: [
        {
          type: 'Applied',
          status: phase === 'Applied' ? 'True' : 'False',
          reason,
          message: message.slice(0, 1000),
          lastTransitionTime: now,
        },
      ],
      ...(phase === 'Applied' ? { appliedAt: now } : {}),
      ...(created
        ? {
            created: created.map((c) => ({
              apiVersion: c.apiVersion,
              kind: c.kind,
              namespace: c.metadata.namespace,
              name: c.metadata.name,
            })),
          }
        : {}),
      ...(targetResourceVersion !== undefined ? { targetResourceVersion } : {}),
      ...fields,
    };
    try {
      this.breakLoop(remediationKey(mmr));
    } catch (err) {
      // Said where a reviewer looks (kubectl describe mmr), once per minute window: an Event, not a status
      // write on the very object that is looping.
      const window = Math.floor(Date.now() / 60_000);
      await this.ctx.client
        .event(mmr, 'Warning', 'WriteLoop', (err as Error).message, `WriteLoop|${remediationKey(mmr)}|${window}`)
        .catch(() => undefined);
      throw err;
    }
    const updated = await this.ctx.client.patchStatus(refOfRemediation(mmr), status);
    this.ctx.store.remember(updated);
    this.ctx.metrics.remediations.reset();
    for (const [p, n] of this.ctx.store.phaseCounts()) this.ctx.metrics.remediations.set({ phase: p }, n);
  }
}

function fingerprintOf(mmr: KubeObject): string {
  return mmr.metadata.annotations?.['meshmedic.io/fingerprint'] ?? '';
}

function rollbackCommand(mmr: KubeObject): string {
  return `kubectl -n ${mmr.metadata.namespace ?? 'default'} annotate meshremediation ${mmr.metadata.name} ${ROLLBACK_ANNOTATION}=true`;
}

export function refOfRemediation(mmr: KubeObject): ObjectRef {
  return {
    apiVersion: mmr.apiVersion,
    kind: 'MeshRemediation',
    namespace: mmr.metadata.namespace ?? 'default',
    name: mmr.metadata.name,
  };
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

/** A short stable hash (Event names). */
export function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}
