import { relative, sep } from 'node:path';
import { describeRef } from '../model/kinds.js';
import { formatDiagnostic, type InputDiagnostic } from '../model/diagnostics.js';
import type { ObjectRef, SourceLocation } from '../model/types.js';
import type { Rule, Severity, Finding } from '../rules/types.js';

/**
 * `meshmedic analyze -o sarif`: SARIF 2.1.0 for code scanning (GitHub, GitLab, Azure DevOps). Findings are
 * results located at the manifest line of their resource; input problems are the run's tool notifications.
 * Fixes are RFC 6902 patches, not text edits, so they travel in each result's `properties.fix` rather
 * than SARIF `fixes` (which need byte or line/column replacements). Written by hand: the format is small,
 * and the libraries on npm are builders for other tools' models.
 */

const LEVEL: Record<Severity, 'error' | 'warning' | 'note'> = { error: 'error', warning: 'warning', info: 'note' };

interface Location {
  physicalLocation?: { artifactLocation: { uri: string; uriBaseId: string }; region?: { startLine: number } };
  logicalLocations?: { fullyQualifiedName: string; kind: string }[];
}

export interface SarifLog {
  $schema: string;
  version: '2.1.0';
  runs: {
    tool: {
      driver: {
        name: string;
        version: string;
        rules: {
          id: string;
          name: string;
          shortDescription: { text: string };
          help: { text: string };
          defaultConfiguration: { level: string };
        }[];
      };
    };
    originalUriBaseIds: Record<string, { uri: string }>;
    invocations: {
      executionSuccessful: boolean;
      toolExecutionNotifications: { level: string; message: { text: string }; locations: Location[] }[];
    }[];
    results: {
      ruleId: string;
      ruleIndex: number;
      level: string;
      message: { text: string };
      locations: Location[];
      properties: Record<string, unknown>;
    }[];
  }[];
}

/** A path as SARIF wants it: relative to the base (the working directory), with forward slashes. */
function uriOf(file: string, base: string): string {
  const rel = relative(base, file);
  return (rel.startsWith('..') ? file : rel).split(sep).join('/');
}

function locationOf(source: SourceLocation | undefined, resource: ObjectRef | undefined, base: string): Location {
  const physical =
    source && source.file && !source.file.startsWith('<')
      ? {
          physicalLocation: {
            artifactLocation: { uri: uriOf(source.file, base), uriBaseId: 'SRCROOT' },
            ...(source.line > 0 ? { region: { startLine: source.line } } : {}),
          },
        }
      : {};
  const logical = resource ? { logicalLocations: [{ fullyQualifiedName: describeRef(resource), kind: 'object' }] } : {};
  return { ...physical, ...logical };
}

function notification(
  d: InputDiagnostic,
  base: string,
): SarifLog['runs'][number]['invocations'][number]['toolExecutionNotifications'][number] {
  const source = { file: d.file, line: d.line ?? 0 };
  return {
    level: d.severity,
    message: { text: formatDiagnostic(d) },
    locations: [locationOf(source, undefined, base)],
  };
}

export function sarifLog(
  findings: Finding[],
  diagnostics: InputDiagnostic[],
  rules: readonly Rule[],
  version: string,
  base = process.cwd(),
): SarifLog {
  const ruleIds = rules.map((r) => r.id);
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0',
    runs: [
      {
        tool: {
          driver: {
            name: 'meshmedic',
            version,
            rules: rules.map((r) => ({
              id: r.id,
              name: r.name,
              shortDescription: { text: r.summary },
              help: { text: r.summary },
              defaultConfiguration: { level: 'error' },
            })),
          },
        },
        originalUriBaseIds: { SRCROOT: { uri: `file://${base.split(sep).join('/')}/` } },
        invocations: [
          { executionSuccessful: true, toolExecutionNotifications: diagnostics.map((d) => notification(d, base)) },
        ],
        results: findings.map((f) => ({
          ruleId: f.rule,
          ruleIndex: ruleIds.indexOf(f.rule),
          level: LEVEL[f.severity],
          message: { text: f.message },
          locations: [locationOf(f.source, f.resource, base)],
          properties: {
            symptom: f.symptom,
            resource: f.resource,
            related: f.related,
            fix: f.fix,
            ...(f.versionNote ? { versionNote: f.versionNote } : {}),
            ...(f.dataPlane ? { dataPlane: f.dataPlane } : {}),
          },
        })),
      },
    ],
  };
}
