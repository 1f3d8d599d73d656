import { homedir } from 'node:os';
import { join } from 'node:path';

/** Where a running `npm run testbed:up` leaves its kubeconfig and pid (one test bed per user), beside the build cache. */
export function testbedHome(): string {
  const cache =
    process.env['MESHMEDIC_TESTBED_CACHE'] ??
    join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'meshmedic', 'testbed');
  return join(cache, 'up');
}
