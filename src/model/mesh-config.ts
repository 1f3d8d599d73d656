import { load } from 'js-yaml';
import { DEFAULT_MESH_CONFIG, type MeshConfig } from './types.js';

/**
 * Reads the fields meshmedic needs from a MeshConfig document (the `mesh` key of ConfigMap istio, or a
 * --mesh-config file). Absent fields keep Istio's defaults. Throws with the field name on a wrong type.
 */
export function parseMeshConfig(text: string, origin: string): MeshConfig {
  const raw = load(text);
  if (raw === null || raw === undefined) return { ...DEFAULT_MESH_CONFIG };
  if (typeof raw !== 'object' || Array.isArray(raw)) throw new Error(`${origin}: mesh config is not a mapping`);
  return meshConfigFrom(raw as Record<string, unknown>, origin);
}

export function meshConfigFrom(raw: Record<string, unknown>, origin: string): MeshConfig {
  const cfg: MeshConfig = { ...DEFAULT_MESH_CONFIG, proxyMetadata: {} };
  const auto = raw['enableAutoMtls'];
  if (auto !== undefined) {
    if (typeof auto !== 'boolean')
      throw new Error(`${origin}: field enableAutoMtls must be a boolean (got ${JSON.stringify(auto)})`);
    cfg.enableAutoMtls = auto;
    cfg.enableAutoMtlsSet = true;
  }
  const root = raw['rootNamespace'];
  if (root !== undefined) {
    if (typeof root !== 'string') throw new Error(`${origin}: field rootNamespace must be a string`);
    cfg.rootNamespace = root;
  }
  const td = raw['trustDomain'];
  if (typeof td === 'string') cfg.trustDomain = td;
  const mode = outboundMode(raw['outboundTrafficPolicy'], origin);
  if (mode) cfg.outboundTrafficPolicy = mode;
  for (const key of ['defaultServiceExportTo', 'defaultVirtualServiceExportTo'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (!Array.isArray(v) || v.some((e) => typeof e !== 'string'))
      throw new Error(`${origin}: field ${key} must be a list of strings`);
    cfg[key] = v as string[];
  }
  cfg.proxyMetadata = proxyMetadata(raw['defaultConfig']);
  return cfg;
}

/** outboundTrafficPolicy.mode, checked; undefined when not set. */
function outboundMode(otp: unknown, origin: string): MeshConfig['outboundTrafficPolicy'] | undefined {
  if (otp === undefined) return undefined;
  const mode = (otp as Record<string, unknown> | null)?.['mode'];
  if (mode !== undefined && mode !== 'ALLOW_ANY' && mode !== 'REGISTRY_ONLY') {
    throw new Error(
      `${origin}: field outboundTrafficPolicy.mode must be ALLOW_ANY or REGISTRY_ONLY (got ${JSON.stringify(mode)})`,
    );
  }
  return mode;
}

/** defaultConfig.proxyMetadata, its values as strings ({} when absent). */
function proxyMetadata(dc: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  const pm = dc && typeof dc === 'object' ? (dc as Record<string, unknown>)['proxyMetadata'] : undefined;
  if (pm && typeof pm === 'object') {
    for (const [k, v] of Object.entries(pm)) out[k] = String(v);
  }
  return out;
}

/** Auto mTLS as the Istio version judged has it: on by default since 1.5, off before unless set. */
export function autoMtlsOn(cfg: MeshConfig, version: { major: number; minor: number }): boolean {
  const before15 = version.major < 1 || (version.major === 1 && version.minor < 5);
  return before15 && !cfg.enableAutoMtlsSet ? false : cfg.enableAutoMtls;
}

export function dnsCaptureOn(cfg: MeshConfig): boolean {
  return cfg.proxyMetadata['ISTIO_META_DNS_CAPTURE'] === 'true';
}
