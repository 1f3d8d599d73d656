import { describe, expect, it } from 'vitest';
import {
  labelSelectorString,
  parseAccessLogSettings,
  sameSettings,
  type AccessLogSettings,
  type SettingsProblem,
} from '../../../src/controller/access-log-settings.js';
import { effectiveFor, parsePolicy } from '../../../src/controller/policies.js';
import type { KubeObject } from '../../../src/model/types.js';

function parse(raw: unknown): { settings: AccessLogSettings | undefined; problems: SettingsProblem[] } {
  const problems: SettingsProblem[] = [];
  return { settings: parseAccessLogSettings(raw, problems), problems };
}

function policyObject(
  name: string,
  spec: Record<string, unknown>,
  creationTimestamp = '2026-01-01T00:00:00Z',
): KubeObject {
  return {
    apiVersion: 'meshmedic.io/v1alpha1',
    kind: 'MeshHealthPolicy',
    metadata: { name, generation: 1, creationTimestamp },
    spec,
  };
}

describe('spec.evidence.accessLogs', () => {
  it('is off unless enabled: absent, enabled false or unset give no settings and no problem', () => {
    for (const raw of [undefined, null, {}, { enabled: false }, { enabled: false, sinceSeconds: 60 }]) {
      expect(parse(raw)).toEqual({ settings: undefined, problems: [] });
    }
  });

  it('fills in the defaults: 600 s, 5000 lines per pod, istio-proxy, every 60 s, no pod selector', () => {
    expect(parse({ enabled: true })).toEqual({
      settings: { sinceSeconds: 600, maxLinesPerPod: 5000, container: 'istio-proxy', intervalSeconds: 60 },
      problems: [],
    });
  });

  it('keeps the values given', () => {
    const { settings, problems } = parse({
      enabled: true,
      sinceSeconds: 86400,
      maxLinesPerPod: 1,
      container: 'proxy-2',
      intervalSeconds: 10,
      podSelector: { matchLabels: { app: 'shop' } },
    });
    expect(problems).toEqual([]);
    expect(settings).toEqual({
      sinceSeconds: 86400,
      maxLinesPerPod: 1,
      container: 'proxy-2',
      intervalSeconds: 10,
      podSelector: { matchLabels: { app: 'shop' } },
    });
  });

  it.each([
    ['sinceSeconds', 0, 'spec.evidence.accessLogs.sinceSeconds', 'from 1 to 86400 (got 0)'],
    ['sinceSeconds', 86401, 'spec.evidence.accessLogs.sinceSeconds', 'got 86401'],
    ['sinceSeconds', 1.5, 'spec.evidence.accessLogs.sinceSeconds', 'got 1.5'],
    ['maxLinesPerPod', 100001, 'spec.evidence.accessLogs.maxLinesPerPod', 'from 1 to 100000 (got 100001)'],
    ['maxLinesPerPod', '5000', 'spec.evidence.accessLogs.maxLinesPerPod', 'got "5000"'],
    ['intervalSeconds', 5, 'spec.evidence.accessLogs.intervalSeconds', 'from 10 to 86400 (got 5)'],
    ['container', 'Istio_Proxy', 'spec.evidence.accessLogs.container', 'got "Istio_Proxy"'],
    ['enabled', 'yes', 'spec.evidence.accessLogs.enabled', 'got "yes"'],
  ])('rejects %s: %j, naming the field', (field, value, name, text) => {
    const { settings, problems } = parse({ enabled: true, [field]: value });
    expect(settings).toBeUndefined();
    expect(problems).toHaveLength(1);
    expect(problems[0]?.field).toBe(name);
    expect(problems[0]?.message).toContain(text);
  });

  it('checks a disabled setting too (a typo is reported before it is turned on)', () => {
    expect(parse({ enabled: false, maxLinesPerPod: 0 }).problems.map((p) => p.field)).toEqual([
      'spec.evidence.accessLogs.maxLinesPerPod',
    ]);
  });

  it('checks the pod selector and names the expression', () => {
    const { settings, problems } = parse({
      enabled: true,
      podSelector: {
        matchLabels: { 'app.kubernetes.io/name': 'shop', 'bad key!': 'x' },
        matchExpressions: [
          { key: 'tier', operator: 'In', values: ['web', 'api'] },
          { key: 'canary', operator: 'In' },
          { key: 'track', operator: 'Exists', values: ['x'] },
          { key: 'zone', operator: 'Near', values: ['a'] },
        ],
      },
    });
    expect(settings).toBeUndefined();
    expect(problems.map((p) => p.field)).toEqual([
      'spec.evidence.accessLogs.podSelector.matchLabels',
      'spec.evidence.accessLogs.podSelector.matchExpressions[1].values',
      'spec.evidence.accessLogs.podSelector.matchExpressions[2].values',
      'spec.evidence.accessLogs.podSelector.matchExpressions[3].operator',
    ]);
    expect(problems[1]?.message).toBe('operator In needs values');
  });

  it('writes a selector as a labelSelector query: matchLabels, In, NotIn, Exists, DoesNotExist', () => {
    expect(labelSelectorString(undefined)).toBeUndefined();
    expect(labelSelectorString({})).toBeUndefined();
    expect(
      labelSelectorString({
        matchLabels: { tier: 'web', app: 'shop' },
        matchExpressions: [
          { key: 'env', operator: 'In', values: ['prod', 'canary'] },
          { key: 'zone', operator: 'NotIn', values: ['b'] },
          { key: 'sidecar.istio.io/status', operator: 'Exists' },
          { key: 'legacy', operator: 'DoesNotExist' },
        ],
      }),
    ).toBe('app=shop,tier=web,env in (canary,prod),zone notin (b),sidecar.istio.io/status,!legacy');
  });

  it('compares settings field by field', () => {
    const a = parse({ enabled: true }).settings;
    expect(sameSettings(a, parse({ enabled: true }).settings)).toBe(true);
    expect(sameSettings(a, parse({ enabled: true, sinceSeconds: 601 }).settings)).toBe(false);
    expect(sameSettings(a, parse({ enabled: true, podSelector: { matchLabels: { app: 'x' } } }).settings)).toBe(false);
    expect(sameSettings(a, undefined)).toBe(false);
  });
});

describe('MeshHealthPolicy with access-log evidence', () => {
  it('parsePolicy reports a bad evidence field in the policy problems (the policy is then not applied)', () => {
    const p = parsePolicy(policyObject('p', { evidence: { accessLogs: { enabled: true, sinceSeconds: -1 } } }));
    // The CRD's schema refuses it first, in the API server's words (the access-log check is not repeated).
    expect(p.problems).toEqual([
      {
        field: 'spec.evidence.accessLogs.sinceSeconds',
        message:
          'Invalid value: -1: spec.evidence.accessLogs.sinceSeconds in body should be greater than or equal to 1',
        schema: true,
      },
    ]);
    expect(p.accessLogs).toBeUndefined();
    expect(effectiveFor([p], 'shop', {})).toBeUndefined();
  });

  it('the settings of the oldest covering policy that enables them apply to a namespace', () => {
    const old = parsePolicy(
      policyObject(
        'old',
        { namespaces: ['shop'], evidence: { accessLogs: { enabled: true, maxLinesPerPod: 100 } } },
        '2026-01-01T00:00:00Z',
      ),
    );
    const young = parsePolicy(
      policyObject('young', { evidence: { accessLogs: { enabled: true, maxLinesPerPod: 9 } } }, '2026-02-01T00:00:00Z'),
    );
    const off = parsePolicy(policyObject('off', { namespaces: ['other'] }, '2025-01-01T00:00:00Z'));
    expect(effectiveFor([young, old, off], 'shop', {})?.accessLogs?.maxLinesPerPod).toBe(100);
    expect(effectiveFor([young, old, off], 'elsewhere', {})?.accessLogs?.maxLinesPerPod).toBe(9);
    expect(effectiveFor([off], 'other', {})?.accessLogs).toBeUndefined();
  });
});
