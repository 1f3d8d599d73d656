// Child processes of the test bed that never outlive the test run. Each runs in its own process
// group under a small bash watchdog that ends it, and removes its temporary directory, when this
// Node process disappears (even on SIGKILL). stop() sends SIGTERM to the group, then SIGKILL; an
// 'exit' hook and SIGINT/SIGTERM/SIGHUP hooks kill whatever is left and remove the registered
// temporary directories.
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';

const WATCHDOG = `
"$@" & child=$!
stop() {
  kill -TERM "$child" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$child" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$child" 2>/dev/null
}
trap stop TERM INT HUP
while kill -0 "$MESHMEDIC_TESTBED_PARENT" 2>/dev/null && kill -0 "$child" 2>/dev/null; do sleep 1 & wait $!; done
kill -0 "$child" 2>/dev/null && stop
wait "$child"; code=$?
# The test run died without its teardown (SIGKILL): remove its temporary directory too.
if [ -n "$MESHMEDIC_TESTBED_TMP" ] && ! kill -0 "$MESHMEDIC_TESTBED_PARENT" 2>/dev/null; then
  rm -rf "$MESHMEDIC_TESTBED_TMP"
fi
exit "$code"
`;

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Exit code (or null after a signal) once the process group leader has exited. */
  readonly exited: Promise<number | null>;
  hasExited(): boolean;
  logTail(lines?: number): string;
  stop(graceMs?: number): Promise<void>;
}

const liveGroups = new Set<number>();
const tempDirs = new Set<string>();
let hooksInstalled = false;

function killGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/** Synchronous last-resort cleanup; safe to call more than once. */
export function cleanupNow(): void {
  for (const pid of liveGroups) killGroup(pid, 'SIGKILL');
  liveGroups.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupNow);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      cleanupNow();
      // Nobody else handles it: die of the same signal, as without this hook.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export function registerTempDir(dir: string): void {
  installHooks();
  tempDirs.add(dir);
}

export function removeTempDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  logFile: string,
  tempDir = '',
): ManagedProcess {
  installHooks();
  const log = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn('bash', ['-c', WATCHDOG, name, command, ...args], {
      detached: true,
      stdio: ['ignore', log, log],
      env: { ...process.env, MESHMEDIC_TESTBED_PARENT: String(process.pid), MESHMEDIC_TESTBED_TMP: tempDir },
    });
  } finally {
    closeSync(log);
  }
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not start ${name} (${command})`);
  liveGroups.add(pid);
  let done = false;
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      done = true;
      resolve(code);
    });
    child.once('error', () => {
      done = true;
      resolve(null);
    });
  });
  return {
    name,
    pid,
    logFile,
    exited,
    hasExited: () => done,
    logTail: (lines = 30) => {
      try {
        return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
      } catch {
        return '';
      }
    },
    stop: async (graceMs = 15_000) => {
      if (!done) {
        killGroup(pid, 'SIGTERM');
        const timer = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
        if ((await Promise.race([exited, timer])) === 'timeout') {
          killGroup(pid, 'SIGKILL');
          await exited;
        }
      }
      // The group may still hold a grandchild that ignored the watchdog: make sure.
      killGroup(pid, 'SIGKILL');
      liveGroups.delete(pid);
    },
  };
}

/** A loopback port that was free a moment ago (the caller retries on a clash, as envtest does). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no TCP address from listen(0)');
  return address.port;
}

/** Polls check() until it returns true; fails early when proc has exited. */
export async function waitFor(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs: number,
  proc?: ManagedProcess,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    if (proc?.hasExited()) {
      throw new Error(`${proc.name} exited while waiting for ${what}; last log lines:\n${proc.logTail()}`);
    }
    try {
      if (await check()) return;
    } catch (err) {
      last = String(err);
    }
    if (Date.now() > deadline) {
      const tail = proc ? `\n${proc.name} log:\n${proc.logTail()}` : '';
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${what}${last ? ` (last error: ${last})` : ''}${tail}`,
      );
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}
