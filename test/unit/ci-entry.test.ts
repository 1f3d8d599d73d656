import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const root = new URL('../../', import.meta.url);
const read = (path: string): string => readFileSync(new URL(path, root), 'utf8');

describe('.ci/run proves what README says', () => {
  it('runs the test command README gives, after installing from the lockfile', () => {
    const readme = read('README.md');
    const ci = read('.ci/run');
    expect(readme).toMatch(/`npm test`/);
    const commands = ci.split('\n').filter((l) => l.trim() && !l.trim().startsWith('#'));
    expect(commands.some((l) => /^npm test\b/.test(l.trim()))).toBe(true);
    expect(commands.some((l) => /^npm ci\b/.test(l.trim()))).toBe(true);
    expect(JSON.parse(read('package.json')).scripts.test).toContain('vitest run');
  });
});
