import { describe, expect, it } from 'vitest';
import { fixToFixedPoint } from '../../src/fix/fixed-point.js';
import type { KubeObject } from '../../src/model/types.js';
import type { Finding } from '../../src/rules/types.js';
import { cli } from './run-cli-in-process.js';

const dr = (mode: string): KubeObject => ({
  apiVersion: 'networking.istio.io/v1',
  kind: 'DestinationRule',
  metadata: { name: 'api', namespace: 'foo' },
  spec: { host: 'api', trafficPolicy: { tls: { mode } } },
});
const ref = { apiVersion: 'networking.istio.io/v1', kind: 'DestinationRule', namespace: 'foo', name: 'api' };
const wants = (rule: string, from: string, to: string): Finding => ({
  rule,
  messageType: 'Test',
  severity: 'error',
  resource: ref,
  related: [],
  message: '',
  symptom: '',
  fix: {
    patches: [
      {
        target: ref,
        patch: [
          { op: 'test', path: '/spec/trafficPolicy/tls/mode', value: from },
          { op: 'replace', path: '/spec/trafficPolicy/tls/mode', value: to },
        ],
      },
    ],
    create: [],
  },
});
const modeOf = (objects: KubeObject[]): string =>
  (objects[0]?.spec as { trafficPolicy: { tls: { mode: string } } }).trafficPolicy.tls.mode;

describe('fixes computed to a fixed point', () => {
  it('re-analyzes after each pass until nothing is left to fix', () => {
    // a second rule only speaks once the first rule's fix is in
    const analyzer = (objects: KubeObject[]): Finding[] => {
      const m = modeOf(objects);
      return m === 'DISABLE'
        ? [wants('A', 'DISABLE', 'SIMPLE')]
        : m === 'SIMPLE'
          ? [wants('B', 'SIMPLE', 'ISTIO_MUTUAL')]
          : [];
    };
    const r = fixToFixedPoint([dr('DISABLE')], analyzer);
    expect(r).toMatchObject({ converged: true, passes: 2, conflicts: [] });
    expect(modeOf(r.objects)).toBe('ISTIO_MUTUAL');
  });

  it('reports two rules that undo each other as a conflict instead of looping', () => {
    const analyzer = (objects: KubeObject[]): Finding[] =>
      modeOf(objects) === 'SIMPLE'
        ? [wants('MM101', 'SIMPLE', 'ISTIO_MUTUAL')]
        : [wants('MM102', 'ISTIO_MUTUAL', 'SIMPLE')];
    const r = fixToFixedPoint([dr('SIMPLE')], analyzer);
    expect(r.converged).toBe(false);
    expect(r.conflicts).toEqual([expect.stringContaining('MM101 and MM102 undo each other')]);
  });

  it('a second --fix of the bundled examples is byte-identical to the first', async () => {
    const first = await cli(['analyze', 'examples', '--fix']);
    const second = await cli(['analyze', '-', '--fix'], first.out);
    expect(second.out).toBe(first.out);
  });
});
