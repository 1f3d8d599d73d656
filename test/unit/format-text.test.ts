import { describe, expect, it } from 'vitest';
import { formatText } from '../../src/cli/format-text.js';
import { check } from './helpers.js';

const mesh = `
apiVersion: v1
kind: Service
metadata: {name: srv-a, namespace: xyz}
spec: {ports: [{name: http, port: 80}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: srv-a, namespace: xyz}
spec:
  host: srv-a
  trafficPolicy:
    outlierDetection: {consecutive5xxErrors: 1, interval: 1s, baseEjectionTime: 3m, maxEjectionPercent: 100}
`;

describe('formatText (the terminal report)', () => {
  it('counts in words a reader expects, and says how to apply the fixes it printed', () => {
    const findings = check('MM107', mesh);
    expect(findings).toHaveLength(1);
    const text = formatText(findings, [], false);
    expect(text).toContain('Summary: 1 error, 0 warnings, 0 info.');
    expect(text).toMatch(/^Fixes: add --fix --diff to preview them, --fix --write to edit the files/m);
  });

  it('says nothing about fixes when there are none to apply', () => {
    const text = formatText([], [], false);
    expect(text).toBe('No findings.\n');
  });
});
