import { MM401 } from '../catalogue/rules/mm401.js';
import { useWaypointOf, waypointExists } from '../model/data-plane.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { KubeObject } from '../model/types.js';
import { workloadOf } from '../model/workloads.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

/** An object's own istio.io/use-waypoint label names a Gateway the mesh does not have (its namespace's label is judged on the Namespace). */
export const mm401: Rule = {
  ...MM401,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const defaultNamespace =
      subject.kind === 'Namespace' ? subject.metadata.name : (subject.metadata.namespace ?? 'default');
    // A workload's pods carry its template's labels.
    const w = subject.kind === 'Pod' ? undefined : workloadOf(subject);
    const labelled = w ? { ...subject, metadata: { ...subject.metadata, labels: { ...w.labels } } } : subject;
    const ref = useWaypointOf(labelled, defaultNamespace);
    if (ref === undefined || ref === 'none' || waypointExists(ref, ctx.index)) return [];
    const type = ctx.complete ? MM401.messages.WaypointNotFound : MM401.messages.WaypointNotInInput;
    return [
      report(
        type,
        { object: describeRef(refOf(subject)), waypoint: `${ref.namespace}/${ref.name}` },
        {
          resource: refOf(subject),
          fix: noFix(
            'no automatic fix: creating a waypoint deploys a proxy and starts applying L7 policy; create it (istioctl waypoint apply) or correct the label',
          ),
          claim: {
            kind: 'inexpressible',
            reason: 'the oracle simulates sidecars and gateways, not ztunnel or waypoint binding',
          },
        },
      ),
    ];
  },
};
