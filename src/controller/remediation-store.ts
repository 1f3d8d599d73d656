import { refKey } from '../model/kinds.js';
import type { KubeObject, ObjectRef } from '../model/types.js';
import { phaseOf } from './remediation-lifecycle.js';

/** The kind/namespace/name of the subject a MeshRemediation targets. */
export function subjectKeyOf(mmr: KubeObject): string | undefined {
  const t = (mmr.spec as { target?: ObjectRef } | undefined)?.target;
  return t ? refKey(t) : undefined;
}

export function remediationKey(mmr: KubeObject): string {
  return `${mmr.metadata.namespace}/${mmr.metadata.name}`;
}

/**
 * The MeshRemediations the operator knows, by namespace/name and by the subject they target (so a
 * subject's reconcile finds its proposals). Fed by the informer and by the answers to the operator's own
 * writes (read-your-writes: the next reconcile must not write the same change again).
 */
export class RemediationStore {
  private readonly byKey = new Map<string, KubeObject>();
  private readonly bySubject = new Map<string, Set<string>>();

  get(key: string): KubeObject | undefined {
    return this.byKey.get(key);
  }

  /** The keys of the proposals that target a subject. */
  ofSubject(subject: string): string[] {
    return [...(this.bySubject.get(subject) ?? [])];
  }

  subjects(): IterableIterator<string> {
    return this.bySubject.keys();
  }

  remember(mmr: KubeObject): void {
    const key = remediationKey(mmr);
    const before = this.byKey.get(key);
    const previousSubject = before ? subjectKeyOf(before) : undefined;
    const subject = subjectKeyOf(mmr);
    if (previousSubject && previousSubject !== subject) this.unlink(previousSubject, key);
    this.byKey.set(key, mmr);
    if (!subject) return;
    let set = this.bySubject.get(subject);
    if (!set) this.bySubject.set(subject, (set = new Set()));
    set.add(key);
  }

  forget(key: string): void {
    const mmr = this.byKey.get(key);
    this.byKey.delete(key);
    const subject = mmr ? subjectKeyOf(mmr) : undefined;
    if (subject) this.unlink(subject, key);
  }

  private unlink(subject: string, key: string): void {
    const set = this.bySubject.get(subject);
    set?.delete(key);
    if (set?.size === 0) this.bySubject.delete(subject);
  }

  clear(): void {
    this.byKey.clear();
    this.bySubject.clear();
  }

  /** How many proposals are in each phase (meshmedic_remediations). */
  phaseCounts(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const r of this.byKey.values())
      counts.set(phaseOf(r) ?? 'Proposed', (counts.get(phaseOf(r) ?? 'Proposed') ?? 0) + 1);
    return counts;
  }
}
