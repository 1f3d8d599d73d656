import { describe, expect, it } from 'vitest';
import { analyze } from '../../src/analysis/analyze.js';
import { objectKey } from '../../src/model/kinds.js';
import type { KubeObject } from '../../src/model/types.js';
import { indexFrom, objectsFrom } from './helpers.js';

const base = `
apiVersion: v1
kind: Service
metadata: {name: mysql, namespace: demo}
spec: {clusterIP: 10.68.120.14, ports: [{port: 3306}]}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {name: mysql, namespace: demo}
spec: {hosts: [mysql.demo], ports: [{number: 3306, name: tcp, protocol: TCP}], resolution: DNS}
`;

describe('MeshIndex updates per object', () => {
  it('re-evaluates one changed object without rebuilding', () => {
    const index = indexFrom(base);
    const se = index.get('ServiceEntry/demo/mysql')?.object as KubeObject;
    expect(analyze(index, {}, [se]).findings.map((f) => f.rule)).toEqual(['MM103']);
    expect(index.portlessEntriesOnPort(3306)).toHaveLength(1);

    const fixed = { ...se, spec: { ...(se.spec as object), addresses: ['10.68.120.14'] } } as KubeObject;
    index.upsert({ object: fixed, source: { file: 'watch', line: 0 } });
    expect(index.portlessEntriesOnPort(3306)).toEqual([]);
    expect(analyze(index, {}, [fixed]).findings).toEqual([]);
    expect(index.size).toBe(2);
  });

  it('forgets every lookup of a removed object', () => {
    const index = indexFrom(base);
    expect(index.serviceForHost('mysql.demo.svc.cluster.local')).toBeDefined();
    expect(index.entriesForHost('mysql.demo')).toHaveLength(1);
    for (const o of objectsFrom(base)) index.remove(objectKey(o));
    expect(index.serviceForHost('mysql.demo.svc.cluster.local')).toBeUndefined();
    expect(index.entriesForHost('mysql.demo')).toEqual([]);
    expect(index.portlessEntriesOnPort(3306)).toEqual([]);
    expect(index.size).toBe(0);
  });

  it('follows Istio DestinationRule lookup: client namespace, then service namespace, then root', () => {
    const dr = (ns: string, name: string): string => `---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: ${name}, namespace: ${ns}}
spec: {host: mysql.demo.svc.cluster.local}
`;
    const index = indexFrom(
      base + dr('demo', 'in-service-ns') + dr('istio-system', 'in-root') + dr('client', 'in-client'),
    );
    expect(
      index.destinationRulesFor('mysql.demo.svc.cluster.local', 'client', 'demo').map((d) => d.metadata.name),
    ).toEqual(['in-client']);
    expect(
      index.destinationRulesFor('mysql.demo.svc.cluster.local', 'elsewhere', 'demo').map((d) => d.metadata.name),
    ).toEqual(['in-service-ns']);
    index.remove('DestinationRule/demo/in-service-ns');
    expect(
      index.destinationRulesFor('mysql.demo.svc.cluster.local', 'elsewhere', 'demo').map((d) => d.metadata.name),
    ).toEqual(['in-root']);
  });
});
