import { describe, expect, it } from 'vitest';
import { enforceRefusal, unsafeFix } from '../../../src/controller/enforce-safety.js';
import { groupFindings } from '../../../src/controller/remediation.js';
import { DEFAULT_MESH_CONFIG } from '../../../src/model/types.js';
import { check, indexFrom } from '../helpers.js';

const tcpRoute = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: db, namespace: shop}
spec:
  hosts: [db.example.com]
  tcp:
  - route:
    - destination: {host: db.example.com, port: {number: 5432}}
`;
const httpRoute = `
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: api, namespace: shop}
spec:
  hosts: [api.example.com]
  http:
  - route:
    - destination: {host: api.example.com, port: {number: 80}}
`;

function mm104Group(yaml: string) {
  const [group] = groupFindings(check('MM104', yaml));
  if (!group) throw new Error('no MM104 finding');
  return group;
}

describe('enforceRefusal: only local, settled fixes are applied without a person', () => {
  it('refuses fixes that create objects (judged on absence) and fixes that change exportTo', () => {
    expect(enforceRefusal(mm104Group(httpRoute))).toContain('creates ServiceEntry/api-example-com');
    const exportTo = {
      rule: 'MM103',
      create: [],
      patches: [
        {
          target: { apiVersion: 'networking.istio.io/v1', kind: 'ServiceEntry', namespace: 'a', name: 'x' },
          patch: [{ op: 'add' as const, path: '/spec/exportTo', value: ['.'] }],
        },
      ],
    };
    expect(enforceRefusal(exportTo)).toContain('changes exportTo');
    const local = {
      ...exportTo,
      patches: [
        { ...exportTo.patches[0]!, patch: [{ op: 'add' as const, path: '/spec/addresses', value: ['10.0.0.1'] }] },
      ],
    };
    expect(enforceRefusal(local)).toBeUndefined();
  });
});

describe('unsafeFix: a fix never creates what a rule flags', () => {
  it('refuses the TCP ServiceEntry without addresses MM104 would create: the seed-003 catch-all (MM103)', () => {
    const refused = unsafeFix(mm104Group(tcpRoute), 'shop', indexFrom(tcpRoute), {});
    expect(refused).toMatchObject({ trigger: 'unsafeFix' });
    expect(refused?.message).toContain('MM103');
  });

  it('accepts it where Istio gives the entry an address of its own (DNS capture, auto-allocation since 1.25)', () => {
    const mesh = { proxyMetadata: { ...DEFAULT_MESH_CONFIG.proxyMetadata, ISTIO_META_DNS_CAPTURE: 'true' } };
    expect(
      unsafeFix(mm104Group(tcpRoute), 'shop', indexFrom(tcpRoute, mesh), { istioVersion: { major: 1, minor: 28 } }),
    ).toBeUndefined();
  });

  it('accepts the HTTP entry, and leaves the index as it was', () => {
    const index = indexFrom(httpRoute);
    const before = index.size;
    expect(unsafeFix(mm104Group(httpRoute), 'shop', index, {})).toBeUndefined();
    expect(index.size).toBe(before);
    expect(index.entriesForHost('api.example.com')).toEqual([]);
  });

  it('refuses a fix that writes outside the proposal namespace', () => {
    expect(unsafeFix(mm104Group(httpRoute), 'other', indexFrom(httpRoute), {})).toMatchObject({
      trigger: 'writesOutsideNamespace',
    });
  });
});
