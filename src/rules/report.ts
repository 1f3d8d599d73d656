import { render, type MessageArgs, type MessageType } from '../catalogue/message-type.js';
import type { ObjectRef } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import type { Finding, Fix } from './types.js';

export interface Report {
  resource: ObjectRef;
  related?: ObjectRef[];
  fix: Fix;
  claim?: FindingClaim;
  versionNote?: string;
}

/** A finding of one catalogued message type: its rule, severity, symptom and prose come from the type. */
export function report<T extends string>(type: MessageType<T>, args: MessageArgs<T>, r: Report): Finding {
  return {
    rule: type.rule,
    messageType: type.name,
    severity: type.severity,
    resource: r.resource,
    related: r.related ?? [],
    symptom: type.symptom,
    message: render(type, args),
    fix: r.fix,
    ...(r.versionNote !== undefined ? { versionNote: r.versionNote } : {}),
    ...(r.claim !== undefined ? { claim: r.claim } : {}),
  };
}

/** A fix with nothing to apply, and why: said in the finding's fix notes. */
export function noFix(why: string): Fix {
  return { patches: [], create: [], notes: [why] };
}
