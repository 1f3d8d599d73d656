/**
 * The kinds of work the operator queues, typed (controller-runtime's reconcile.Request, one per kind of
 * reconciler). The work queue dedupes by string key; requestKey/parseRequest are the only place keys are
 * made or read.
 */
export type Request =
  /** A subject (kind/namespace/name) and the user's actions on its MeshRemediations, handled together so they never race. */
  | { kind: 'subject'; subject: string }
  /** A MeshHealthPolicy's status. */
  | { kind: 'policy'; name: string }
  /** The access-log evidence of a namespace. */
  | { kind: 'evidence'; namespace: string };

/** The metric label of a request kind (meshmedic_reconcile_total{kind}). */
export const METRIC_KIND: Record<Request['kind'], string> = { subject: 's', policy: 'p', evidence: 'e' };

const PREFIX: Record<Request['kind'], string> = { subject: 's|', policy: 'p|', evidence: 'e|' };

export function requestKey(r: Request): string {
  switch (r.kind) {
    case 'subject':
      return PREFIX.subject + r.subject;
    case 'policy':
      return PREFIX.policy + r.name;
    case 'evidence':
      return PREFIX.evidence + r.namespace;
  }
}

export function parseRequest(key: string): Request {
  const rest = key.slice(2);
  if (key.startsWith(PREFIX.subject)) return { kind: 'subject', subject: rest };
  if (key.startsWith(PREFIX.policy)) return { kind: 'policy', name: rest };
  if (key.startsWith(PREFIX.evidence)) return { kind: 'evidence', namespace: rest };
  throw new Error(`not a request key: ${key}`);
}

export const subjectRequest = (subject: string): Request => ({ kind: 'subject', subject });
export const policyRequest = (name: string): Request => ({ kind: 'policy', name });
export const evidenceRequest = (namespace: string): Request => ({ kind: 'evidence', namespace });
