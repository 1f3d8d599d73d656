// Fixes that converge, on a real API server: two rules that fix one DestinationRule are computed jointly
// (src/controller/joint-fix.ts), so the object is written once, with the converged content.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Operator } from '../../src/controller/operator.js';
import type { KubeObject } from '../../src/model/types.js';
import { skipReason, type Clients } from '../testbed/client.js';
import {
  annotate,
  clients,
  create,
  deletePolicy,
  fingerprintOf,
  namespace,
  phase,
  policy,
  read,
  remediations,
  seed001,
  startOperator,
  waitFor,
} from './operator-harness.js';

const NET = 'networking.istio.io/v1';
const MMR = 'meshmedic.io/v1alpha1';

/** Seed 001 whose DestinationRule also ejects every endpoint after one 5xx: MM101 (tls) and MM107 (outlier) fix one object. */
function twoRulesOneDr(ns: string): KubeObject[] {
  return seed001(ns).map((o) =>
    o.kind === 'DestinationRule'
      ? {
          ...o,
          spec: {
            host: 'httpbin',
            trafficPolicy: {
              connectionPool: { tcp: { maxConnections: 1 } },
              tls: { mode: 'DISABLE' },
              outlierDetection: { consecutive5xxErrors: 1, maxEjectionPercent: 100 },
            },
          },
        }
      : o,
  );
}

interface DrSpec {
  trafficPolicy: { tls: { mode: string }; outlierDetection: { maxEjectionPercent: number }; connectionPool: unknown };
}

describe.skipIf(skipReason() !== undefined)('joint fixes (real API server)', () => {
  let c: Clients;
  let op: Operator;
  let leaseNs: { name: string; remove: () => Promise<void> };
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    c = clients();
    leaseNs = await namespace(c, 'mm-system');
    op = await startOperator(c, leaseNs.name);
  });
  afterAll(async () => {
    await op?.stop();
    for (const f of cleanups.reverse()) await f();
    await leaseNs?.remove();
  });

  async function scenario(prefix: string, mode: string): Promise<string> {
    const ns = await namespace(c, prefix);
    const name = `${ns.name}-policy`;
    cleanups.push(ns.remove, () => deletePolicy(c, name));
    for (const o of twoRulesOneDr(ns.name)) await create(c, o);
    await create(c, policy(name, ns.name, mode));
    return ns.name;
  }

  const dr = async (ns: string): Promise<KubeObject | undefined> => read(c, NET, 'DestinationRule', ns, 'httpbin');
  const converged = (o: KubeObject | undefined): boolean => {
    const tp = (o?.spec as DrSpec | undefined)?.trafficPolicy;
    return tp?.tls.mode === 'ISTIO_MUTUAL' && tp.outlierDetection.maxEjectionPercent < 100;
  };

  it('Enforce writes the DestinationRule once, with both fixes, and records one Applied fix', async () => {
    const ns = await scenario('joint-enforce', 'Enforce');
    const fixed = await waitFor('the DestinationRule converged', async () =>
      ((o) => (converged(o) ? o : undefined))(await dr(ns)),
    );
    await op.idle();
    await new Promise((r) => setTimeout(r, 1500)); // a second write, if any, would come now
    await op.idle();
    const now = await dr(ns);
    // generation counts spec writes: created (1), then one joint patch (2) — not one write per rule.
    expect(now?.metadata.generation).toBe(2);
    expect(now?.metadata.resourceVersion).toBe(fixed.metadata.resourceVersion);
    expect((now?.spec as DrSpec).trafficPolicy.connectionPool).toEqual({ tcp: { maxConnections: 1 } });
    const record = JSON.parse(now?.metadata.annotations?.['meshmedic.io/fixed-mm101'] ?? '{}') as {
      changes?: { path: string }[];
    };
    expect(record.changes?.map((ch) => ch.path).sort()).toEqual([
      '/spec/trafficPolicy/outlierDetection/maxEjectionPercent',
      '/spec/trafficPolicy/tls/mode',
    ]);
    expect((await remediations(c, ns)).map((m) => [m.metadata.name, phase(m)])).toEqual([
      ['mm101-destinationrule-httpbin', 'Applied'],
    ]);
  });

  it('Propose shows the converged object in both proposals; approving one applies both and supersedes the other', async () => {
    const ns = await scenario('joint-propose', 'Propose');
    const both = await waitFor('two proposals', async () => {
      const list = (await remediations(c, ns)).filter((m) => phase(m) === 'Proposed');
      return list.length === 2 ? list : undefined;
    });
    for (const m of both) expect(converged((m.spec as { after: KubeObject[] }).after[0])).toBe(true);
    expect(new Set(both.map(fingerprintOf)).size).toBe(1);
    const mm101 = both.find((m) => m.metadata.name === 'mm101-destinationrule-httpbin');
    if (!mm101) throw new Error('no MM101 proposal');
    expect((mm101.spec as { evidence: string[] }).evidence.some((e) => e.includes('jointly with the MM107 fix'))).toBe(
      true,
    );
    await annotate(
      c,
      { apiVersion: MMR, kind: 'MeshRemediation', namespace: ns, name: mm101.metadata.name },
      { 'meshmedic.io/approve': fingerprintOf(mm101) },
    );
    await waitFor('the DestinationRule converged', async () => converged(await dr(ns)));
    await waitFor('MM101 Applied, MM107 Superseded', async () => {
      const phases = Object.fromEntries((await remediations(c, ns)).map((m) => [m.metadata.name, phase(m)]));
      return (
        phases['mm101-destinationrule-httpbin'] === 'Applied' &&
        phases['mm107-destinationrule-httpbin'] === 'Superseded'
      );
    });
    expect((await dr(ns))?.metadata.generation).toBe(2);
  });
});
