import { describe, expect, it } from 'vitest';
import type { Finding } from '../../../src/rules/types.js';
import { check, fixAndRecheck } from '../helpers.js';

const types = (fs: Finding[]) =>
  fs.map((f) => ({
    rule: f.rule,
    messageType: f.messageType,
    severity: f.severity,
    resource: `${f.resource.kind} ${f.resource.namespace}/${f.resource.name}`,
  }));

const svc = (anno?: string) => `
apiVersion: v1
kind: Service
metadata:
  name: details
  namespace: shop
${anno === undefined ? '' : `  annotations: {networking.istio.io/exportTo: "${anno}"}\n`}spec:
  selector: {app: details}
  ports: [{name: http, port: 9080}]
`;
const route = (ns: string, extra = '') => `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-details, namespace: ${ns}}
spec:
  hosts: [front.${ns}.svc.cluster.local]
${extra}  http:
  - route: [{destination: {host: details.shop.svc.cluster.local}}]
`;

describe('MM201 visibility (exportTo)', () => {
  it('a Service exported elsewhere by annotation: error when complete, warning offline, naming the Service', () => {
    const yaml = svc('banana') + route('web');
    const complete = check('MM201', yaml, { complete: true });
    expect(types(complete)).toEqual([
      { rule: 'MM201', messageType: 'HostNotExported', severity: 'error', resource: 'VirtualService web/to-details' },
    ]);
    expect(complete[0]?.message).toContain('Service shop/details (exportTo banana)');
    expect(complete[0]?.related.map((r) => r.name)).toEqual(['details']);
    expect(types(check('MM201', yaml)).map((t) => [t.messageType, t.severity])).toEqual([
      ['HostNotExportedInInput', 'warning'],
    ]);
    expect(fixAndRecheck('MM201', yaml, { complete: true }).after).toHaveLength(1); // no automatic fix
  });

  it('no finding when the annotation exports to the namespace, to "*", or is absent; "." covers its own namespace', () => {
    expect(check('MM201', svc('banana, web') + route('web'), { complete: true })).toEqual([]);
    expect(check('MM201', svc('*') + route('web'), { complete: true })).toEqual([]);
    expect(check('MM201', svc() + route('web'), { complete: true })).toEqual([]);
    expect(check('MM201', svc('.') + route('shop'), { complete: true })).toEqual([]);
    expect(check('MM201', svc('.') + route('web'), { complete: true })).toHaveLength(1);
  });

  it("the VirtualService's exportTo names the namespaces that run it", () => {
    const exported = (to: string) => route('shop', `  exportTo: [${to}]\n`);
    expect(types(check('MM201', svc('.') + exported('bogus'), { complete: true })).map((t) => t.messageType)).toEqual([
      'HostNotExported',
    ]);
    expect(check('MM201', svc('.') + exported('"."'), { complete: true })).toEqual([]);
    expect(check('MM201', svc('bogus') + exported('bogus'), { complete: true })).toEqual([]);
    expect(check('MM201', svc('.') + exported('"~"'), { complete: true })).toEqual([]);
  });

  it("the Gateways' namespaces run a gateway route", () => {
    const gw = route('web', '  gateways: [shop/ingress]\n');
    expect(check('MM201', svc('.') + gw, { complete: true })).toEqual([]);
    expect(check('MM201', svc('other') + gw, { complete: true })).toHaveLength(1);
  });

  it('a ServiceEntry exported only to its own namespace hides an external host; an undeclared external host is left to MM104', () => {
    const se = (exportTo: string) => `
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: ext, namespace: other}
spec: {hosts: [api.example.com], exportTo: [${exportTo}], location: MESH_EXTERNAL, ports: [{number: 80, name: http, protocol: HTTP}], resolution: DNS}
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: to-ext, namespace: web}
spec:
  hosts: [front.web.svc.cluster.local]
  http:
  - route: [{destination: {host: api.example.com}}]
`;
    expect(types(check('MM201', se('"."'), { complete: true }))).toEqual([
      { rule: 'MM201', messageType: 'HostNotExported', severity: 'error', resource: 'VirtualService web/to-ext' },
    ]);
    expect(check('MM201', se('web'), { complete: true })).toEqual([]);
    expect(check('MM201', se('"*"'), { complete: true })).toEqual([]);
    const undeclared = se('"."').split('---')[1] as string;
    expect(check('MM201', undeclared, { complete: true })).toEqual([]);
  });

  it('meshConfig.defaultServiceExportTo applies to Services without the annotation', () => {
    const yaml = svc() + route('web');
    expect(check('MM201', yaml, { complete: true, mesh: { defaultServiceExportTo: ['.'] } })).toHaveLength(1);
    expect(
      check('MM201', svc('*') + route('web'), { complete: true, mesh: { defaultServiceExportTo: ['.'] } }),
    ).toEqual([]);
  });
});
