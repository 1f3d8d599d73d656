import { readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyze } from '../../../src/analysis/analyze.js';
import { loadMesh } from '../../../src/analysis/load-mesh.js';
import { policySettings } from '../../../src/analysis/policy-parameters.js';
import { namespaceDataPlane, serviceDataPlane, podDataPlane } from '../../../src/model/data-plane.js';
import { MeshIndex } from '../../../src/model/mesh-index.js';
import type { KubeObject, Pod, Service } from '../../../src/model/types.js';
import { check, fixAndRecheck, indexFrom } from '../helpers.js';

const ns = (name: string, labels: string): string => `
---
apiVersion: v1
kind: Namespace
metadata: {name: ${name}, labels: {${labels}}}
`;
const svc = (labels = ''): string => `
---
apiVersion: v1
kind: Service
metadata: {name: reviews, namespace: app${labels ? `, labels: {${labels}}` : ''}}
spec: {selector: {app: reviews}, ports: [{name: http, port: 9080}]}
`;
const waypoint = (name = 'waypoint', namespace = 'app'): string => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: ${namespace}}
spec:
  gatewayClassName: istio-waypoint
  listeners: [{name: mesh, port: 15008, protocol: HBONE}]
`;
const vs = `
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: reviews, namespace: app}
spec:
  hosts: [reviews]
  http: [{route: [{destination: {host: reviews}}], timeout: 3s}]
`;
const dr = `
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: reviews, namespace: app}
spec:
  host: reviews
  trafficPolicy: {outlierDetection: {consecutive5xxErrors: 1, maxEjectionPercent: 100}}
  subsets: [{name: v1, labels: {version: v1}}]
`;
const ambient = ns('app', 'istio.io/dataplane-mode: ambient');

describe('the data plane of a namespace, pod and Service', () => {
  it("reads Istio's labels: ambient, its waypoint, the opt-outs, and sidecar injection", () => {
    const index =
      indexFrom(`${ambient}${ns('side', 'istio-injection: enabled')}${ns('wp', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: w, istio.io/use-waypoint-namespace: infra')}${svc('istio.io/use-waypoint: none')}
---
apiVersion: v1
kind: Pod
metadata: {name: out, namespace: app, labels: {app: reviews, istio.io/dataplane-mode: none}}
spec: {containers: [{name: app, image: x}]}
---
apiVersion: v1
kind: Pod
metadata: {name: injected, namespace: app, labels: {app: other}}
spec: {containers: [{name: app, image: x}, {name: istio-proxy, image: proxyv2}]}
`);
    expect(namespaceDataPlane('app', index)).toMatchObject({ mode: 'ambient' });
    expect(namespaceDataPlane('app', index)).not.toHaveProperty('waypoint');
    expect(namespaceDataPlane('side', index).mode).toBe('sidecar');
    expect(namespaceDataPlane('wp', index)).toMatchObject({
      mode: 'ambient',
      waypoint: { namespace: 'infra', name: 'w' },
    });
    expect(namespaceDataPlane('nowhere', index).mode).toBe('unknown');
    const pods = index.ofKind<Pod>('Pod');
    expect(podDataPlane(pods.find((p) => p.metadata.name === 'out') as Pod, index).mode).toBe('none');
    expect(podDataPlane(pods.find((p) => p.metadata.name === 'injected') as Pod, index).mode).toBe('sidecar');
    expect(serviceDataPlane(index.ofKind<Service>('Service')[0] as Service, index).mode).toBe('none');
  });

  it('a Service\'s own use-waypoint label wins over its namespace\'s; "none" opts out', () => {
    const withNs = indexFrom(
      `${ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')}${svc()}`,
    );
    expect(serviceDataPlane(withNs.ofKind<Service>('Service')[0] as Service, withNs)).toMatchObject({
      mode: 'ambient',
      waypoint: { namespace: 'app', name: 'waypoint' },
    });
    const optOut = indexFrom(
      `${ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')}${svc('istio.io/use-waypoint: none')}`,
    );
    expect(serviceDataPlane(optOut.ofKind<Service>('Service')[0] as Service, optOut)).not.toHaveProperty('waypoint');
  });
});

describe('MM401 use-waypoint-not-found', () => {
  it('flags a Namespace or Service label naming a missing waypoint: info offline, warning when complete', () => {
    const f = check(
      'MM401',
      `${ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')}${svc('istio.io/use-waypoint: other, istio.io/use-waypoint-namespace: infra')}`,
    );
    expect(f.map((x) => [x.messageType, x.resource.kind, x.severity])).toEqual([
      ['WaypointNotInInput', 'Namespace', 'info'],
      ['WaypointNotInInput', 'Service', 'info'],
    ]);
    expect(f[1]?.message).toContain('infra/other');
    expect(f[0]?.dataPlane).toBe('ambient (waypoint app/waypoint)');
    const complete = check('MM401', `${ns('app', 'istio.io/use-waypoint: waypoint')}`, { complete: true });
    expect(complete.map((x) => [x.messageType, x.severity])).toEqual([['WaypointNotFound', 'warning']]);
    expect(fixAndRecheck('MM401', `${ns('app', 'istio.io/use-waypoint: waypoint')}`).after).toHaveLength(1);
  });

  it('does not flag an existing waypoint, "none", or no label', () => {
    expect(
      check('MM401', `${ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')}${waypoint()}`, {
        complete: true,
      }),
    ).toEqual([]);
    expect(check('MM401', `${ambient}${svc('istio.io/use-waypoint: none')}`, { complete: true })).toEqual([]);
    expect(check('MM401', `${ambient}${svc()}`, { complete: true })).toEqual([]);
  });
});

describe('MM402 l7-config-without-waypoint', () => {
  it('flags a mesh VirtualService and a DestinationRule for a Service of an ambient namespace without a waypoint', () => {
    const f = check('MM402', `${ambient}${svc()}${vs}${dr}`);
    expect(f.map((x) => [x.messageType, x.resource.kind, x.severity])).toEqual([
      ['PolicyWithoutWaypoint', 'DestinationRule', 'warning'],
      ['RouteWithoutWaypoint', 'VirtualService', 'warning'],
    ]);
    expect(f.every((x) => x.dataPlane === 'ambient (ztunnel, no waypoint)')).toBe(true);
    expect(f[0]?.claim).toMatchObject({ kind: 'inexpressible' });
    expect(fixAndRecheck('MM402', `${ambient}${svc()}${vs}`).after).toHaveLength(1);
  });

  it('does not flag a waypoint-bound Service, sidecar namespaces, gateway-only routes, or sidecar clients elsewhere', () => {
    expect(
      check(
        'MM402',
        `${ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')}${waypoint()}${svc()}${vs}${dr}`,
      ),
    ).toEqual([]);
    expect(check('MM402', `${ambient}${svc('istio.io/use-waypoint: waypoint')}${vs}${dr}`)).toEqual([]);
    expect(check('MM402', `${ns('app', 'istio-injection: enabled')}${svc()}${vs}${dr}`)).toEqual([]);
    expect(
      check(
        'MM402',
        `${ambient}${svc()}${vs.replace('hosts: [reviews]', 'hosts: [reviews]\n  gateways: [istio-system/ingress]')}`,
      ),
    ).toEqual([]);
    expect(check('MM402', `${ambient}${ns('web', 'istio-injection: enabled')}${svc()}${vs}`)).toEqual([]);
  });
});

describe('verdicts that do not hold for ztunnel', () => {
  it('drops MM107 (outlier detection) and MM202 (subsets) in an ambient namespace without a waypoint, keeps them with one', () => {
    const route = vs.replace('destination: {host: reviews}', 'destination: {host: reviews, subset: v2}');
    expect(check('MM107', `${ns('app', 'istio-injection: enabled')}${svc()}${dr}`).map((f) => f.dataPlane)).toEqual([
      'sidecar',
    ]);
    expect(check('MM107', `${ambient}${svc()}${dr}`)).toEqual([]);
    expect(check('MM202', `${ambient}${svc()}${dr}${route}`)).toEqual([]);
    const withWaypoint = check(
      'MM107',
      `${ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint')}${waypoint()}${svc()}${dr}`,
    );
    expect(withWaypoint.map((f) => f.dataPlane)).toEqual(['ambient (waypoint app/waypoint)']);
  });
});

/** Each example with its Namespaces moved to ambient, in memory: labelled istio.io/dataplane-mode=ambient, injection labels removed. */
function ambientVariant(objects: KubeObject[]): KubeObject[] {
  return objects.map((o) => {
    if (o.kind !== 'Namespace') return o;
    const labels = { ...(o.metadata.labels ?? {}) };
    delete labels['istio-injection'];
    delete labels['istio.io/rev'];
    return { ...o, metadata: { ...o.metadata, labels: { ...labels, 'istio.io/dataplane-mode': 'ambient' } } };
  });
}

describe('an ambient variant of each seed example names the data plane it assumed', () => {
  for (const name of readdirSync('examples')) {
    it(name, async () => {
      const mesh = await loadMesh([`examples/${name}`]);
      const { params } = policySettings(mesh.policy);
      const original = analyze(mesh.index, { params }).findings;
      for (const f of original) expect(f.dataPlane, `${f.rule} ${f.message}`).toMatch(/^(sidecar|gateway)$/);
      const objects = ambientVariant(mesh.inputs.map((i) => i.object).filter((o) => o.kind !== 'MeshHealthPolicy'));
      const index = new MeshIndex(objects.map((object) => ({ object, source: { file: name, line: 0 } })));
      const variant = analyze(index, { params }).findings;
      for (const f of variant) expect(f.dataPlane, `${f.rule} ${f.message}`).toMatch(/^(ambient \(|gateway$)/);
      // Sidecar/L7-only verdicts on ambient subjects are replaced by MM402's where it applies, never kept as sidecar verdicts.
      for (const f of variant.filter((x) => x.dataPlane?.startsWith('ambient')))
        expect(f.rule.startsWith('MM4') || !['MM103', 'MM105', 'MM107', 'MM108', 'MM202'].includes(f.rule)).toBe(true);
    });
  }
});

describe('MM403 waypoint-serviceentry-without-address', () => {
  const se = (extra: string, labels = ''): string => `
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: db, namespace: app${labels ? `, labels: {${labels}}` : ''}}
spec:
  hosts: [db.example.com]
  location: MESH_EXTERNAL
  ports: [{number: 5432, name: tcp, protocol: TCP}]
${extra}`;
  const bound = ns('app', 'istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint') + waypoint();

  it('flags an entry bound to a waypoint with resolution NONE or auto-allocation off and no addresses', () => {
    const f = check('MM403', bound + se('  resolution: NONE'));
    expect(f.map((x) => [x.messageType, x.resource.name, x.severity])).toEqual([
      ['NoAddressForWaypoint', 'db', 'warning'],
    ]);
    expect(f[0]?.message).toContain('resolution NONE');
    expect(f[0]?.dataPlane).toBe('ambient (waypoint app/waypoint)');
    const own = check(
      'MM403',
      ambient +
        waypoint() +
        se('  resolution: DNS', 'istio.io/use-waypoint: waypoint, networking.istio.io/enable-autoallocate-ip: "false"'),
    );
    expect(own.map((x) => x.messageType)).toEqual(['NoAddressForWaypoint']);
    expect(fixAndRecheck('MM403', bound + se('  resolution: NONE')).after).toHaveLength(1);
  });

  it('does not flag addresses, auto-allocated entries, or entries without a waypoint', () => {
    expect(check('MM403', bound + se('  resolution: NONE\n  addresses: [10.1.2.3]'))).toEqual([]);
    expect(check('MM403', bound + se('  resolution: DNS'))).toEqual([]);
    expect(check('MM403', ambient + se('  resolution: NONE'))).toEqual([]);
    expect(check('MM403', bound + se('  resolution: NONE', 'istio.io/use-waypoint: none'))).toEqual([]);
  });
});

describe('MM401 on pod templates', () => {
  it("reads a Deployment's template labels, not its own", () => {
    const deploy = (where: 'template' | 'own'): string => `
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: reviews, namespace: app${where === 'own' ? ', labels: {istio.io/use-waypoint: gone}' : ''}}
spec:
  selector: {matchLabels: {app: reviews}}
  template:
    metadata: {labels: {app: reviews${where === 'template' ? ', istio.io/use-waypoint: gone' : ''}}}
    spec: {containers: [{name: app, image: reviews}]}
`;
    expect(
      check('MM401', ambient + deploy('template'), { complete: true }).map((f) => [f.resource.kind, f.messageType]),
    ).toEqual([['Deployment', 'WaypointNotFound']]);
    expect(check('MM401', ambient + deploy('own'), { complete: true })).toEqual([]);
  });
});

describe('MM402 on Service-attached Gateway API routes', () => {
  const route = (parent: string): string => `
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: reviews, namespace: app}
spec:
  parentRefs: [${parent}]
  rules: [{backendRefs: [{name: reviews, port: 9080}]}]
`;
  it('flags an HTTPRoute attached to an ambient Service without a waypoint', () => {
    const f = check('MM402', ambient + svc() + route('{group: "", kind: Service, name: reviews}'));
    expect(f.map((x) => [x.messageType, x.resource.kind])).toEqual([['GatewayApiRouteWithoutWaypoint', 'HTTPRoute']]);
  });
  it('does not flag a Gateway parent, a waypoint-bound Service, or a mesh with sidecar namespaces', () => {
    expect(check('MM402', ambient + svc() + route('{name: ingress, namespace: istio-system}'))).toEqual([]);
    expect(
      check(
        'MM402',
        ambient + svc('istio.io/use-waypoint: waypoint') + route('{group: "", kind: Service, name: reviews}'),
      ),
    ).toEqual([]);
    expect(
      check(
        'MM402',
        ambient + ns('web', 'istio-injection: enabled') + svc() + route('{group: "", kind: Service, name: reviews}'),
      ),
    ).toEqual([]);
  });
});
