import { undeclaredFields } from '../api/crds.js';
import { parsePolicy } from '../controller/policies.js';
import type { InputDiagnostic } from '../model/diagnostics.js';
import type { LoadedObject } from '../model/decode.js';

export interface PolicyVerdict {
  diagnostics: InputDiagnostic[];
  /** Whether the cluster would take it and the operator apply it: parsePolicy finds no problem. */
  accepted: boolean;
}

/**
 * A MeshHealthPolicy read offline as the cluster reads it, by the operator's parser (parsePolicy): the
 * CRD's schema, each cause worded as the API server words it, then what a schema cannot check. A refused
 * policy applies none of its parameters; each reason is an input error naming file, line, object and field.
 */
export function judgePolicy(loaded: LoadedObject): PolicyVerdict {
  const o = loaded.object;
  const at = { file: loaded.source.file, line: loaded.source.line, object: { kind: o.kind, name: o.metadata.name } };
  const { problems } = parsePolicy(o);
  // Not a reason to refuse the policy (a client without strict field validation gets it stored, pruned), but never silent.
  const unknown = undeclaredFields('MeshHealthPolicy', o).map((field): InputDiagnostic => ({
    severity: 'warning',
    ...at,
    field,
    message: `unknown field "${field}": kubectl apply refuses it (strict field validation); other writes drop it; meshmedic ignores it`,
  }));
  if (problems.length === 0) return { diagnostics: unknown, accepted: true };
  const diagnostics: InputDiagnostic[] = [
    ...problems.map((p): InputDiagnostic => ({ severity: 'error', ...at, field: p.field, message: p.message })),
    ...unknown,
  ];
  const why = problems.some((p) => p.schema)
    ? 'the API server refuses it (its CRD schema)'
    : 'the operator would fail closed on it (Observe only)';
  diagnostics.push({
    severity: 'error',
    ...at,
    message: `this MeshHealthPolicy is not applied: ${why}; rule defaults are used`,
  });
  return { diagnostics, accepted: false };
}
