import { MM207 } from '../catalogue/rules/mm207.js';
import { describeServer, selectorOverlap, serverBind } from '../model/gateway-servers.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { Gateway, GatewayServer, KubeObject } from '../model/types.js';
import type { FindingClaim } from './claims.js';
import { noFix, report } from './report.js';
import type { Finding, Rule, RuleContext } from './types.js';

const NO_FIX = noFix(
  'no automatic fix: serve the hosts that share a certificate from one server, so that one route config holds them all',
);
const CLAIM: FindingClaim = {
  kind: 'inexpressible',
  reason: 'the simulation makes one request per connection: HTTP/2 connection reuse across hosts is not simulated',
};

const tlsField = (s: GatewayServer, f: string): string => {
  const v = s.tls?.[f];
  return typeof v === 'string' ? v : '';
};

/** An HTTPS server that terminates TLS: its own filter chain and route config (IsHTTPServer with TLS). */
function terminatesHttps(s: GatewayServer): boolean {
  const mode = tlsField(s, 'mode').toUpperCase();
  return (
    (s.port?.protocol ?? '').toUpperCase() === 'HTTPS' &&
    s.tls !== undefined &&
    mode !== 'PASSTHROUGH' &&
    mode !== 'AUTO_PASSTHROUGH' &&
    s.port?.number !== undefined
  );
}

/** The certificate both servers use, named (istioctl's haveSameCertificate): credentialName, or cert and key files. */
function sameCertificate(a: GatewayServer, b: GatewayServer): string | undefined {
  const ca = tlsField(a, 'credentialName');
  const cb = tlsField(b, 'credentialName');
  if (ca !== '' || cb !== '') return ca === cb ? `credentialName ${ca}` : undefined;
  const fa = tlsField(a, 'serverCertificate');
  const ka = tlsField(a, 'privateKey');
  if (fa === '' || ka === '' || fa !== tlsField(b, 'serverCertificate') || ka !== tlsField(b, 'privateKey'))
    return undefined;
  return `serverCertificate ${fa}`;
}

const sharesHost = (a: GatewayServer, b: GatewayServer): boolean =>
  (a.hosts ?? []).some((h) => (b.hosts ?? []).includes(h));

/** Parity with istioctl IST0138: one certificate on HTTPS servers of several Gateways on one workload and port. */
export const mm207: Rule = {
  ...MM207,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const gw = subject as Gateway;
    const mine = (gw.spec?.servers ?? []).filter(terminatesHttps);
    if (mine.length === 0) return [];
    const pods = ctx.index.ofKind('Pod');
    const findings: Finding[] = [];
    for (const other of ctx.index.ofKind<Gateway>('Gateway')) {
      if (other === gw) continue;
      const theirs = (other.spec?.servers ?? []).filter(terminatesHttps);
      let overlap: boolean | undefined; // the selectors last, once: they may scan the pods
      for (const s of mine) {
        // Same port and bind (one listener); a repeated host is MM206's (the later server is dropped).
        const t = theirs.find(
          (o) =>
            o.port?.number === s.port?.number &&
            serverBind(o) === serverBind(s) &&
            !sharesHost(s, o) &&
            sameCertificate(s, o) !== undefined,
        );
        if (!t) continue;
        overlap ??= selectorOverlap(gw.spec?.selector, other.spec?.selector, pods) !== 'none';
        if (!overlap) break;
        const labels = { ...(gw.spec?.selector ?? {}), ...(other.spec?.selector ?? {}) };
        const selector =
          Object.entries(labels)
            .map(([k, v]) => `${k}=${v}`)
            .join(',') || 'every gateway pod';
        findings.push(
          report(
            MM207.messages.SharedCertificate,
            {
              gw: describeRef(refOf(gw)),
              other: describeRef(refOf(other)),
              server: describeServer(s),
              otherServer: describeServer(t),
              certificate: sameCertificate(s, t) as string,
              selector,
            },
            { resource: refOf(gw), related: [refOf(other)], fix: NO_FIX, claim: CLAIM },
          ),
        );
      }
    }
    return findings;
  },
};
