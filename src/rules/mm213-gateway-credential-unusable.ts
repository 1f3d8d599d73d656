import { MM213 } from '../catalogue/rules/mm213.js';
import { describeRef, refOf } from '../model/kinds.js';
import type { MeshIndex } from '../model/mesh-index.js';
import type { Gateway, GatewayServer, KubeObject, Secret } from '../model/types.js';
import { noFix, report } from './report.js';
import type { Finding, Fix, Rule, RuleContext } from './types.js';
import { gatewayWorkloads, serverHosts } from './workload-helpers.js';

/** Modes whose server terminates TLS with the credential (PASSTHROUGH, the default, ignores it). */
const TERMINATING = new Set(['SIMPLE', 'MUTUAL', 'OPTIONAL_MUTUAL']);
/** pilot/pkg/credentials/kube/secrets.go: the key pairs ExtractCertInfo reads, and ExtractRoot's CA keys. */
const CERT_PAIRS = [
  ['cert', 'key'],
  ['tls.crt', 'tls.key'],
] as const;
const CA_KEYS = ['cacert', 'ca.crt'] as const;
const CA_SUFFIX = '-cacert';

/** The Secret name of a credentialName read from the proxy's namespace ("name", "kubernetes://name"); other forms are not judged. */
function secretName(credentialName: string): string | undefined {
  const name = credentialName.startsWith('kubernetes://')
    ? credentialName.slice('kubernetes://'.length)
    : credentialName;
  return name === '' || name.includes('/') || name.includes('://') ? undefined : name;
}

function secretIn(index: MeshIndex, namespace: string, name: string): Secret | undefined {
  return index.get(`Secret/${namespace}/${name}`)?.object;
}

function keysOf(s: Secret): string[] {
  return s.keys ?? [];
}

const NO_FIX: Fix = noFix(
  "no automatic fix: meshmedic does not make certificates; create the Secret in the gateway pods' namespace (type kubernetes.io/tls with tls.crt and tls.key), or fix credentialName",
);
const CLAIM = {
  kind: 'inexpressible',
  reason:
    'the oracle serves no Secrets (no SDS) and checks no certificate; the listener it generates refers to the credential either way',
} as const;

type ServerTls = { mode?: string; credentialName?: string };

/** The Secret a server that terminates TLS names, when it names one in a form meshmedic judges. */
function terminatingSecret(tls: ServerTls | undefined): string | undefined {
  const credential = tls?.credentialName;
  if (!credential || !TERMINATING.has(tls?.mode ?? 'PASSTHROUGH')) return undefined;
  return secretName(credential);
}

/** The finding's resource (the Gateway) and the objects it names. */
function on(gw: Gateway, related: KubeObject[]) {
  return { resource: refOf(gw), related: related.map(refOf), fix: NO_FIX, claim: CLAIM };
}

type ServerArgs = { gateway: string; port: number | string; hosts: string };

function secretMissing(gw: Gateway, base: ServerArgs, name: string, namespace: string, ctx: RuleContext): Finding {
  const elsewhere = ctx.index.ofKind<Secret>('Secret').filter((s) => s.metadata.name === name);
  const type = ctx.complete ? MM213.messages.SecretNotFound : MM213.messages.SecretNotInInput;
  return report(
    type,
    {
      ...base,
      credential: name,
      namespace,
      elsewhere: elsewhere.map((s) => s.metadata.namespace ?? '').join(', ') || 'none',
    },
    on(gw, elsewhere),
  );
}

/** MUTUAL: the CA certificate, from <name>-cacert when it exists, else from the Secret itself. */
function caMissing(
  gw: Gateway,
  secretArgs: ServerArgs & { secret: string },
  secret: Secret,
  name: string,
  namespace: string,
  ctx: RuleContext,
): Finding | undefined {
  const caName = `${name}${CA_SUFFIX}`;
  const caSecret = secretIn(ctx.index, namespace, caName);
  const holder = caSecret ?? secret;
  if (CA_KEYS.some((k) => keysOf(holder).includes(k))) return undefined;
  const args = {
    ...secretArgs,
    credential: name,
    caSecret: `${namespace}/${caName}`,
    found: `keys of ${describeRef(refOf(holder))}: ${keysOf(holder).join(', ') || 'none'}`,
  };
  const type = ctx.complete || caSecret ? MM213.messages.NoCaCertificate : MM213.messages.NoCaCertificateInInput;
  return report(type, args, on(gw, caSecret ? [secret, caSecret] : [secret]));
}

function checkServer(gw: Gateway, server: GatewayServer, namespace: string, ctx: RuleContext): Finding | undefined {
  const tls = server.tls as ServerTls | undefined;
  const name = terminatingSecret(tls);
  if (!name) return undefined;
  const base = { gateway: describeRef(refOf(gw)), port: server.port?.number ?? '?', hosts: serverHosts(server.hosts) };
  const secret = secretIn(ctx.index, namespace, name);
  if (!secret) return secretMissing(gw, base, name, namespace, ctx);
  const keys = keysOf(secret);
  const secretArgs = { ...base, secret: describeRef(refOf(secret)) };
  if (!CERT_PAIRS.some((pair) => pair.every((k) => keys.includes(k)))) {
    return report(
      MM213.messages.NoCertificateKeys,
      { ...secretArgs, type: secret.type ?? 'Opaque', keys: keys.join(', ') || 'none' },
      on(gw, [secret]),
    );
  }
  if (tls?.mode !== 'MUTUAL') return undefined;
  return caMissing(gw, secretArgs, secret, name, namespace, ctx);
}

/** Parity with istioctl IST0101 (credentialName) and IST0161 (key names only): a server credential the gateway cannot load. */
export const mm213: Rule = {
  ...MM213,
  check(subject: KubeObject, ctx: RuleContext): Finding[] {
    const gw = subject as Gateway;
    // An input without any Secret says nothing about them (cert-manager and the like create them).
    if (ctx.index.ofKind('Secret').length === 0) return [];
    const namespaces = [...new Set(gatewayWorkloads(gw, ctx.index).map((w) => w.namespace))].sort();
    const findings: Finding[] = [];
    for (const server of gw.spec?.servers ?? []) {
      for (const ns of namespaces) {
        const f = checkServer(gw, server, ns, ctx);
        if (f) findings.push(f);
      }
    }
    return findings;
  },
};
