/**
 * MeshRemediation (meshmedic.io/v1alpha1): the CRD's openAPIV3Schema, CEL rules included, as data; the
 * source of crds/meshmedic.io_meshremediations.yaml (scripts/gen-crds.ts).
 */
import {
  CONDITIONS,
  OBJECT_META_FIELDS,
  OBSERVED_GENERATION,
  type CelRule,
  type CrdDefinition,
  type OpenApiSchema,
} from './openapi.js';

export const REMEDIATION_PHASES = [
  'Proposed',
  'Approved',
  'Applied',
  'Rejected',
  'Superseded',
  'Failed',
  'RolledBack',
  'Reverted',
  'Ignored',
] as const;
export type RemediationPhase = (typeof REMEDIATION_PHASES)[number];

export const PATCH_OPS = ['add', 'remove', 'replace', 'move', 'copy', 'test'] as const;

const IDENTITY = "is immutable: a MeshRemediation's identity is fixed when meshmedic creates it";

/** A CEL transition rule: the field never changes once set (and is never set later, for optional ones). */
function immutable(owner: string, field: string, optional: boolean): CelRule {
  // `namespace` is a CEL reserved word: CEL on CRDs escapes it as __namespace__.
  const f = field === 'namespace' ? '__namespace__' : field;
  const rule = optional
    ? `has(self.${f}) ? (has(oldSelf.${f}) && self.${f} == oldSelf.${f}) : !has(oldSelf.${f})`
    : `self.${f} == oldSelf.${f}`;
  return { rule, message: `${owner}.${field} ${IDENTITY}`, fieldPath: `.${field}` };
}

const str: OpenApiSchema = { type: 'string' };
const preserved: OpenApiSchema = { type: 'object', 'x-kubernetes-preserve-unknown-fields': true };
const ref = (fields: readonly string[]): Record<string, OpenApiSchema> =>
  Object.fromEntries(fields.map((f) => [f, str]));

const target: OpenApiSchema = {
  type: 'object',
  description:
    'The object the fix changes, as seen when the finding was made. apiVersion, kind, namespace, name and uid are immutable; ' +
    'resourceVersion is rewritten with each evaluation.',
  required: ['apiVersion', 'kind', 'name'],
  'x-kubernetes-validations': [
    immutable('spec.target', 'apiVersion', false),
    immutable('spec.target', 'kind', false),
    immutable('spec.target', 'namespace', true),
    immutable('spec.target', 'name', false),
    immutable('spec.target', 'uid', true),
  ],
  properties: ref(['apiVersion', 'kind', 'namespace', 'name', 'uid', 'resourceVersion']),
};

const patches: OpenApiSchema = {
  type: 'array',
  description: 'RFC 6902 JSON Patches, one per object the fix changes (as in meshmedic analyze -o json).',
  items: {
    type: 'object',
    required: ['target', 'patch'],
    properties: {
      target: {
        type: 'object',
        required: ['apiVersion', 'kind', 'name'],
        properties: ref(['apiVersion', 'kind', 'namespace', 'name']),
      },
      patch: {
        type: 'array',
        items: {
          type: 'object',
          required: ['op', 'path'],
          'x-kubernetes-validations': [
            { rule: "!(self.op in ['move', 'copy']) || has(self.from)", message: 'move and copy operations need from' },
          ],
          properties: {
            op: { type: 'string', enum: PATCH_OPS },
            path: str,
            from: str,
            value: { 'x-kubernetes-preserve-unknown-fields': true },
          },
        },
      },
    },
  },
};

const spec: OpenApiSchema = {
  type: 'object',
  description:
    'The proposal. Its identity (rule, target apart from target.resourceVersion, targetRef) is fixed when meshmedic creates it: ' +
    'a different rule or target is a different MeshRemediation.',
  required: ['rule', 'severity', 'target'],
  'x-kubernetes-validations': [immutable('spec', 'targetRef', true)],
  properties: {
    rule: {
      type: 'string',
      pattern: '^MM[0-9]{3}$',
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: `spec.rule ${IDENTITY}` }],
    },
    severity: { type: 'string', enum: ['error', 'warning', 'info'] },
    targetRef: {
      type: 'string',
      description: 'Kind/name of the target, for display (for example DestinationRule/httpbin).',
      maxLength: 320,
    },
    target,
    message: { type: 'string', maxLength: 4096 },
    evidence: {
      type: 'array',
      description: 'Why the rule fired; each item is a sentence or a structured record.',
      items: { 'x-kubernetes-preserve-unknown-fields': true },
    },
    patches,
    create: {
      type: 'array',
      description: 'Objects to create alongside the patches (complete manifests).',
      items: preserved,
    },
    after: {
      type: 'array',
      description: 'The changed and created objects as they would be after the fix, for review.',
      items: preserved,
    },
    repositoryEdits: {
      type: 'array',
      description:
        'For each target a GitOps controller manages (Argo CD, Flux), which meshmedic does not write: the controller that applies it ' +
        'and the same edit as a unified diff of its manifest, to apply to the file that defines it in that source.',
      items: {
        type: 'object',
        required: ['target', 'managedBy'],
        properties: {
          target: { type: 'object', properties: ref(['apiVersion', 'kind', 'namespace', 'name']) },
          managedBy: {
            type: 'object',
            required: ['tool', 'kind', 'name'],
            properties: {
              tool: { type: 'string', enum: ['Argo CD', 'Flux'] },
              kind: { type: 'string', enum: ['Application', 'Kustomization', 'HelmRelease'] },
              namespace: str,
              name: str,
            },
          },
          diff: { type: 'string', maxLength: 65536 },
          note: str,
        },
      },
    },
    proposeOnly: {
      type: 'boolean',
      description: 'The fix is only ever proposed, never applied automatically, even in Enforce mode.',
    },
    approved: {
      type: 'boolean',
      description: 'Approves the proposal (kept for compatibility; approvedFingerprint names the content approved).',
      default: false,
    },
    approvedFingerprint: {
      type: 'string',
      description:
        'The fingerprint (status.fingerprint) of the content approved; an approval of other content does not apply.',
      pattern: '^[0-9a-f]{16}$',
    },
  },
};

const status: OpenApiSchema = {
  type: 'object',
  properties: {
    phase: { type: 'string', enum: REMEDIATION_PHASES },
    reason: { type: 'string', description: 'Why the remediation is in its phase (machine-readable).' },
    message: str,
    fingerprint: {
      type: 'string',
      description: "The fingerprint of the fix's content (patches and created objects) the status describes.",
    },
    identity: {
      type: 'object',
      description: 'What the remediation is about, as recorded by meshmedic.',
      properties: {
        rule: str,
        target: { type: 'object', properties: ref(['apiVersion', 'kind', 'namespace', 'name', 'uid']) },
        fingerprint: str,
      },
    },
    approvedBy: { type: 'string', description: 'Who approved the content, as meshmedic recorded it.' },
    approvedFingerprint: { type: 'string', description: 'The fingerprint of the content that was approved.' },
    appliedResourceVersions: {
      type: 'object',
      description: 'The resourceVersion of each object the applied fix wrote, keyed by object.',
      additionalProperties: str,
    },
    targetResourceVersion: {
      type: 'string',
      description:
        "The target's resourceVersion when it was rejected or rolled back; a new proposal waits until it changes.",
    },
    created: {
      type: 'array',
      description: 'Objects the applied fix created (deleted again on rollback).',
      items: { type: 'object', properties: ref(['apiVersion', 'kind', 'namespace', 'name']) },
    },
    appliedAt: { type: 'string', format: 'date-time' },
    observedGeneration: OBSERVED_GENERATION,
    conditions: CONDITIONS,
  },
};

export const MESH_REMEDIATION: CrdDefinition = {
  summary: 'MeshRemediation: one proposed fix for one finding, with the exact change and its lifecycle.',
  group: 'meshmedic.io',
  kind: 'MeshRemediation',
  plural: 'meshremediations',
  singular: 'meshremediation',
  shortNames: ['mmr'],
  namespaced: true,
  version: 'v1alpha1',
  printerColumns: [
    { name: 'Rule', type: 'string', jsonPath: '.spec.rule' },
    { name: 'Target', type: 'string', jsonPath: '.spec.targetRef' },
    { name: 'Severity', type: 'string', jsonPath: '.spec.severity' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Reason', type: 'string', jsonPath: '.status.reason' },
    { name: 'Fingerprint', type: 'string', jsonPath: '.status.fingerprint', priority: 1 },
    { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
  ],
  schema: {
    type: 'object',
    description: 'A fix meshmedic proposes for one finding on one object.',
    required: ['spec'],
    properties: { ...OBJECT_META_FIELDS, spec, status },
  },
};
