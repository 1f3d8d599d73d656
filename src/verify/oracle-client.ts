/**
 * Runs the oracle binary (Istio's config generator and traffic simulation, built from the istio.io/istio
 * Go module by scripts/testbed/build.sh) on a request and reads its response. The only I/O of verify.
 */
import { execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import type { OracleRequest, OracleResponse } from './oracle-protocol.js';

const execFileP = promisify(execFile);

export class OracleUnavailable extends Error {}

/** Istio feature flags (environment of istiod) the oracle runs with. */
export type OracleFlags = Record<string, string>;

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD_SCRIPT = join(PACKAGE_ROOT, 'scripts', 'testbed', 'build.sh');

export const HOW_TO_GET_IT =
  'build it with `npm run oracle:build` (needs Go 1.26 and the Go module proxy; about 15 minutes cold, cached afterwards), or set MESHMEDIC_ORACLE to the binary';

/** The oracle binary: $MESHMEDIC_ORACLE, else the one build.sh cached. Throws OracleUnavailable. */
export async function locateOracle(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const explicit = env['MESHMEDIC_ORACLE'];
  if (explicit) {
    if (!existsSync(explicit))
      throw new OracleUnavailable(`MESHMEDIC_ORACLE=${explicit} does not exist; ${HOW_TO_GET_IT}`);
    return explicit;
  }
  if (!existsSync(BUILD_SCRIPT)) throw new OracleUnavailable(`the oracle is not installed; ${HOW_TO_GET_IT}`);
  try {
    const { stdout } = await execFileP('bash', [BUILD_SCRIPT, '--paths', 'oracle'], { env });
    const line = stdout.split('\n').find((l) => l.startsWith('ORACLE='));
    const path = line?.slice('ORACLE='.length);
    if (path && existsSync(path)) return path;
  } catch {
    // exit 3: not built
  }
  throw new OracleUnavailable(`the oracle is not built; ${HOW_TO_GET_IT}`);
}

/** Runs one request. Cases are judged one after another in one process (about 0.2 s a seed-sized case). */
export async function runOracle(
  binary: string,
  request: OracleRequest,
  flags: OracleFlags = {},
): Promise<OracleResponse> {
  const dir = await mkdtemp(join(tmpdir(), 'meshmedic-oracle-'));
  try {
    const input = join(dir, 'request.json');
    const output = join(dir, 'response.json');
    await writeFile(input, JSON.stringify(request));
    const stderr = await run(binary, {
      ...process.env,
      ...flags,
      MESHMEDIC_ORACLE_INPUT: input,
      MESHMEDIC_ORACLE_OUTPUT: output,
    });
    if (!existsSync(output)) throw new Error(`the oracle wrote no answer:\n${stderr.slice(-4000)}`);
    return JSON.parse(await readFile(output, 'utf8')) as OracleResponse;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

function run(binary: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(binary, ['-test.run', '^TestOracle$', '-test.count', '1'], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const keep = (b: Buffer): void => {
      out = (out + b.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.on('error', reject);
    child.on('close', () => resolvePromise(out));
  });
}
