import { readFileSync } from 'node:fs';

/** meshmedic's version, from its package.json (dist/cli and src/cli are both two levels below it). */
function readVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    return pkg.version;
  } catch {
    return 'unknown';
  }
}

export const MESHMEDIC_VERSION = readVersion();
