import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onTestFinished } from 'vitest';
import { formatDiagnostic, type InputDiagnostic } from '../../src/model/diagnostics.js';

/** Writes files (text or bytes) into a fresh directory, removed when the test that asked for it ends. */
export async function write(files: Record<string, string | Uint8Array>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'meshmedic-input-'));
  onTestFinished(() => rm(dir, { recursive: true, force: true }));
  for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
  return dir;
}

export function texts(diagnostics: readonly InputDiagnostic[]): string[] {
  return diagnostics.map((d) => `${d.severity}: ${formatDiagnostic(d)}`);
}

export const service = (name: string, namespace = 'foo'): string => `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: ${namespace}}
spec: {ports: [{name: http, port: 80}]}
`;

/** `levels` of anchors, each an alias to the previous one `width` times: width^levels copies of `leaf`. */
export function aliasTower(levels: number, width: number, leaf: string, indent = '  '): string {
  let s = `${indent}l0: &l0 ${JSON.stringify(leaf)}\n`;
  for (let i = 1; i <= levels; i++)
    s += `${indent}l${i}: &l${i} [${Array(width)
      .fill(`*l${i - 1}`)
      .join(', ')}]\n`;
  return s;
}
