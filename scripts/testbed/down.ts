// npm run testbed:down — stops the test bed `npm run testbed:up` started (it removes its own files).
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { testbedHome } from './home.js';

const pidFile = join(testbedHome(), 'pid');
if (!existsSync(pidFile)) {
  process.stdout.write('no test bed is running (npm run testbed:up starts one)\n');
  process.exit(0);
}
const pid = Number(readFileSync(pidFile, 'utf8'));
try {
  process.kill(pid, 'SIGTERM');
  process.stdout.write(`stopping the test bed (pid ${pid})\n`);
} catch {
  process.stdout.write(`the test bed of pid ${pid} is gone already\n`);
}
