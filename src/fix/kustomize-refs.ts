import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { parseAllDocuments } from 'yaml';

/** A kustomize patch: the file that holds it (or the kustomization, for an inline patch), and what it names. */
export interface KustomizePatch {
  /** The patch file, or the kustomization file for an inline patch. */
  file: string;
  kustomization: string;
  /** The objects the patch names (kind, name, namespace when given). */
  targets: { kind: string; name: string; namespace?: string }[];
}

const NAMES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];

/**
 * The kustomize patches listed by the kustomizations in the given directories (`patches`, `patchesStrategicMerge`,
 * `patchesJson6902`): what --write must not edit as if it were the whole object. Unreadable kustomizations are
 * skipped (the reader already warns on kustomize files).
 */
export async function kustomizePatches(dirs: Iterable<string>): Promise<KustomizePatch[]> {
  const out: KustomizePatch[] = [];
  for (const dir of new Set(dirs)) {
    for (const name of NAMES) {
      const file = join(dir, name);
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch {
        continue;
      }
      for (const p of await patchesOf(file, text)) out.push(p);
      break;
    }
  }
  return out;
}

async function patchesOf(kustomization: string, text: string): Promise<KustomizePatch[]> {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs) || docs.length === 0) return [];
  const k = docs[0]?.toJS() as Record<string, unknown> | null;
  if (!k || typeof k !== 'object') return [];
  const dir = dirname(kustomization);
  const out: KustomizePatch[] = [];
  const fromFile = async (path: unknown, target: unknown): Promise<void> => {
    if (typeof path !== 'string') return;
    const file = join(dir, path);
    const targets = targetOf(target);
    try {
      targets.push(...identities(await readFile(file, 'utf8')));
    } catch {
      // a patch file that cannot be read: kustomize build will say so
    }
    out.push({ file, kustomization, targets });
  };
  for (const p of asList(k['patchesStrategicMerge'])) {
    if (typeof p === 'string' && !p.includes('\n')) await fromFile(p, undefined);
    else if (typeof p === 'string') out.push({ file: kustomization, kustomization, targets: identities(p) });
  }
  for (const p of [...asList(k['patches']), ...asList(k['patchesJson6902'])]) {
    if (!p || typeof p !== 'object') continue;
    const entry = p as Record<string, unknown>;
    if (typeof entry['path'] === 'string') await fromFile(entry['path'], entry['target']);
    else if (typeof entry['patch'] === 'string')
      out.push({
        file: kustomization,
        kustomization,
        targets: [...targetOf(entry['target']), ...identities(entry['patch'])],
      });
  }
  return out;
}

function asList(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

function targetOf(t: unknown): KustomizePatch['targets'] {
  if (!t || typeof t !== 'object') return [];
  const r = t as Record<string, unknown>;
  if (typeof r['kind'] !== 'string' || typeof r['name'] !== 'string') return [];
  return [
    { kind: r['kind'], name: r['name'], ...(typeof r['namespace'] === 'string' ? { namespace: r['namespace'] } : {}) },
  ];
}

/** kind, metadata.name and metadata.namespace of each document of a strategic-merge patch. */
function identities(text: string): KustomizePatch['targets'] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return [];
  const out: KustomizePatch['targets'] = [];
  for (const d of docs) {
    const v = d.toJS() as Record<string, unknown> | null;
    const meta = v && typeof v === 'object' ? (v['metadata'] as Record<string, unknown> | undefined) : undefined;
    if (v && typeof v['kind'] === 'string' && meta && typeof meta['name'] === 'string') {
      out.push({
        kind: v['kind'],
        name: meta['name'],
        ...(typeof meta['namespace'] === 'string' ? { namespace: meta['namespace'] } : {}),
      });
    }
  }
  return out;
}

/** The kustomization file in a directory, if there is one. */
export async function kustomizationIn(dir: string): Promise<string | undefined> {
  for (const name of NAMES) {
    const file = join(dir, name);
    try {
      await readFile(file);
      return file;
    } catch {
      // not this name
    }
  }
  return undefined;
}

/** Whether a patch names the object (a patch without a namespace names any). */
export function patchNames(p: KustomizePatch, o: { kind: string; name: string; namespace?: string }): boolean {
  return p.targets.some(
    (t) =>
      t.kind === o.kind &&
      t.name === o.name &&
      (t.namespace === undefined || o.namespace === undefined || t.namespace === o.namespace),
  );
}

export function samePath(a: string, b: string): boolean {
  return resolve(a) === resolve(b);
}
