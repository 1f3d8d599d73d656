import { describe, expect, it } from 'vitest';
import {
  fixFingerprint,
  groupFindings,
  remediationName,
  remediationObject,
} from '../../../src/controller/remediation.js';
import type { KubeObject, ObjectRef } from '../../../src/model/types.js';
import type { Finding } from '../../../src/rules/types.js';
import { check } from '../helpers.js';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const dr = (name: string, namespace = 'shop'): ObjectRef => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  namespace,
  name,
});

function finding(
  rule: string,
  resource: ObjectRef,
  patch: Finding['fix']['patches'][number]['patch'],
  extra: Partial<Finding> = {},
): Finding {
  return {
    rule,
    messageType: 'Test',
    severity: 'warning',
    resource,
    related: [],
    message: `${rule} on ${resource.name}`,
    symptom: '503 UC',
    fix: { patches: [{ target: resource, patch }], create: [] },
    ...extra,
  };
}

describe('remediationName', () => {
  it('is the readable rule-kind-name when it fits', () => {
    expect(remediationName('MM101', dr('httpbin'))).toBe('mm101-destinationrule-httpbin');
    const se = (name: string): { apiVersion: string; kind: string; namespace: string; name: string } => ({
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      namespace: 'db',
      name,
    });
    expect(remediationName('MM103', se('mysql.db.svc'))).toMatch(/^mm103-serviceentry-mysql-db-svc-[0-9a-f]{8}$/);
    // reviews.v1 and reviews-v1 are two objects: two remediations
    expect(remediationName('MM103', se('reviews.v1'))).not.toBe(remediationName('MM103', se('reviews-v1')));
    expect(remediationName('MM103', se('reviews-v1'))).toBe('mm103-serviceentry-reviews-v1');
  });

  it('stays within 63 characters, a valid name, stable, and distinct for long names that share a prefix', () => {
    const long = 'a-very-long-destination-rule-name-for-the-checkout-service-in-production';
    const a = remediationName('MM101', dr(`${long}-blue`));
    const b = remediationName('MM101', dr(`${long}-green`));
    for (const n of [a, b]) {
      expect(n.length).toBeLessThanOrEqual(63);
      expect(n).toMatch(DNS_LABEL);
      expect(n.startsWith('mm101-destinationrule-a-very-long')).toBe(true);
    }
    expect(a).not.toBe(b);
    expect(remediationName('MM101', dr(`${long}-blue`))).toBe(a);
    // One finding per rule and resource: another rule on the same resource gets another name.
    expect(remediationName('MM107', dr(`${long}-blue`))).not.toBe(a);
  });
});

describe('groupFindings', () => {
  it("merges one rule's findings on one resource into one remediation with all their patches", () => {
    const top = finding(
      'MM101',
      dr('reviews'),
      [{ op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' }],
      { severity: 'warning' },
    );
    const subset = finding(
      'MM101',
      dr('reviews'),
      [{ op: 'replace', path: '/spec/subsets/0/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' }],
      {
        severity: 'error',
        fix: {
          patches: [
            {
              target: dr('reviews'),
              patch: [{ op: 'replace', path: '/spec/subsets/0/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' }],
            },
          ],
          create: [],
          proposeOnly: true,
        },
      },
    );
    const otherRule = finding('MM107', dr('reviews'), [
      { op: 'replace', path: '/spec/trafficPolicy/outlierDetection/maxEjectionPercent', value: 50 },
    ]);
    const otherResource = finding('MM101', dr('ratings'), [
      { op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' },
    ]);
    const groups = groupFindings([top, otherRule, subset, otherResource]);
    expect(groups.map((g) => `${g.rule}/${g.resource.name}`)).toEqual([
      'MM101/reviews',
      'MM107/reviews',
      'MM101/ratings',
    ]);
    const merged = groups[0]!;
    expect(merged.findings).toHaveLength(2);
    expect(merged.severity).toBe('error'); // the worst of the two
    expect(merged.proposeOnly).toBe(true); // any propose-only finding makes the whole fix propose-only
    expect(merged.message).toBe('MM101 on reviews\nMM101 on reviews');
    expect(merged.patches).toEqual([
      { target: dr('reviews'), patch: [...top.fix.patches[0]!.patch, ...subset.fix.patches[0]!.patch] },
    ]);
    // The findings' own fixes are not modified by the merge.
    expect(top.fix.patches[0]!.patch).toHaveLength(1);
  });

  it('groups what a real rule reports: seed 001 yields one remediation per rule on the DestinationRule', () => {
    const yaml = `
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata: {name: default, namespace: shop}
spec: {mtls: {mode: STRICT}}
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: shop}
spec: {ports: [{name: http, port: 9080}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: shop}
spec:
  host: reviews
  trafficPolicy: {tls: {mode: DISABLE}}
  subsets:
  - {name: v1, labels: {version: v1}, trafficPolicy: {tls: {mode: SIMPLE}}}
`;
    const findings = check('MM101', yaml);
    expect(findings.length).toBeGreaterThanOrEqual(1);
    const groups = groupFindings(findings);
    expect(groups).toHaveLength(1);
    expect(groups[0]!.patches).toHaveLength(1);
    const paths = groups[0]!.patches[0]!.patch.filter((p) => p.op !== 'test').map((p) => p.path);
    expect(paths).toEqual(
      expect.arrayContaining(['/spec/trafficPolicy/tls/mode', '/spec/subsets/0/trafficPolicy/tls/mode']),
    );
  });
});

describe('fixFingerprint', () => {
  const patches = [
    {
      target: dr('reviews'),
      patch: [{ op: 'replace' as const, path: '/spec/trafficPolicy/tls/mode', value: 'ISTIO_MUTUAL' }],
    },
  ];
  it('is equal for equal fixes, whatever the order of object keys', () => {
    const reordered = [
      {
        patch: [{ value: 'ISTIO_MUTUAL', path: '/spec/trafficPolicy/tls/mode', op: 'replace' as const }],
        target: { name: 'reviews', namespace: 'shop', kind: 'DestinationRule', apiVersion: 'networking.istio.io/v1' },
      },
    ];
    expect(fixFingerprint(reordered, [])).toBe(fixFingerprint(patches, []));
  });

  it('differs when the fix differs: a value, a target, an object to create', () => {
    const base = fixFingerprint(patches, []);
    expect(
      fixFingerprint(
        [{ ...patches[0]!, patch: [{ op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: 'MUTUAL' }] }],
        [],
      ),
    ).not.toBe(base);
    expect(fixFingerprint([{ ...patches[0]!, target: dr('ratings') }], [])).not.toBe(base);
    const se: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'ServiceEntry',
      metadata: { name: 'api', namespace: 'shop' },
      spec: { hosts: ['api.example.com'] },
    };
    expect(fixFingerprint(patches, [se])).not.toBe(base);
  });

  it('is what a proposal carries, so the operator can tell an unchanged fix from a new one', () => {
    const g = groupFindings([finding('MM101', dr('reviews'), patches[0]!.patch)])[0]!;
    const subject: KubeObject = {
      apiVersion: 'networking.istio.io/v1',
      kind: 'DestinationRule',
      metadata: { name: 'reviews', namespace: 'shop', resourceVersion: '42' },
      spec: {},
    };
    const mmr = remediationObject(g, subject, []);
    expect(mmr.metadata.name).toBe('mm101-destinationrule-reviews');
    expect(mmr.metadata.namespace).toBe('shop');
    expect(mmr.metadata.annotations?.['meshmedic.io/fingerprint']).toBe(fixFingerprint(g.patches, g.create));
  });
});
