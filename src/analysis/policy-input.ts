import { validateAgainstCrd } from '../api/crds.js';
import { parsePolicy } from '../controller/policies.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import type { LoadedObject } from '../model/decode.js';

export interface PolicyVerdict {
  diagnostics: InputDiagnostic[];
  /** Whether the cluster would take it and meshmedic apply it: no schema cause, no problem parsePolicy finds. */
  accepted: boolean;
}

/**
 * A MeshHealthPolicy read offline as the cluster reads it: the CRD's own schema (crds/), with the API
 * server's wording of each cause, then the checks the operator makes that a schema cannot (known rule
 * ids, positive durations, selectors). The operator fails closed on such a policy; offline its
 * parameters are not applied, and the reason is an input error naming file, line, object and field.
 */
export function judgePolicy(loaded: LoadedObject): PolicyVerdict {
  const o = loaded.object;
  const at = { file: loaded.source.file, line: loaded.source.line, object: { kind: o.kind, name: o.metadata.name } };
  const causes = validateAgainstCrd('MeshHealthPolicy', o);
  const problems = causes.length > 0 ? [] : parsePolicy(o).problems;
  const diagnostics: InputDiagnostic[] = [
    ...causes.map((c) => ({ severity: 'error' as const, ...at, field: c.field, message: c.message })),
    ...problems.map((p) => ({ severity: 'error' as const, ...at, field: p.field, message: p.message })),
  ];
  const accepted = diagnostics.length === 0;
  if (!accepted) {
    const why = causes.length > 0 ? 'the API server refuses it (its CRD schema)' : 'the operator would fail closed on it (Observe only)';
    diagnostics.push({ severity: 'error', ...at, message: `this MeshHealthPolicy is not applied: ${why}; rule defaults are used` });
  }
  return { diagnostics, accepted };
}
