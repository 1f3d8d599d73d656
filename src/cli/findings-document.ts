import type { InputDiagnostic } from '../model/diagnostics.js';
import type { Finding } from '../rules/types.js';

/** The output contract of `analyze -o json|yaml` (DESIGN.md): findings with rule, severity, resource, message, fix. */
export function findingsDocument(
  findings: Finding[],
  diagnostics: InputDiagnostic[],
): { findings: Finding[]; diagnostics: InputDiagnostic[] } {
  return {
    findings: findings.map((f) => ({
      rule: f.rule,
      messageType: f.messageType,
      severity: f.severity,
      resource: f.resource,
      message: f.message,
      symptom: f.symptom,
      related: f.related,
      fix: f.fix,
      ...(f.versionNote ? { versionNote: f.versionNote } : {}),
      ...(f.dataPlane ? { dataPlane: f.dataPlane } : {}),
      ...(f.source ? { source: f.source } : {}),
      ...(f.evidence ? { evidence: f.evidence } : {}),
    })),
    diagnostics,
  };
}
