import type { ObjectRef } from './types.js';

/** A problem with the input itself (not a mesh finding): the object is reported and skipped. */
export interface InputDiagnostic {
  severity: 'error' | 'warning';
  file: string;
  line?: number;
  object?: Pick<ObjectRef, 'kind' | 'name' | 'namespace'>;
  field?: string;
  message: string;
}

export function formatDiagnostic(d: InputDiagnostic): string {
  const where = d.line !== undefined ? `${d.file}:${d.line}` : d.file;
  const obj = d.object
    ? ` ${d.object.kind}${d.object.namespace ? ` ${d.object.namespace}/` : ' '}${d.object.name}`
    : '';
  const field = d.field ? ` field ${d.field}:` : '';
  return `${where}:${obj}${field} ${d.message}`;
}
