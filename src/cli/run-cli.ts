import { MESHMEDIC_VERSION } from './version.js';
import type { Readable, Writable } from 'node:stream';
import { ANALYZE_USAGE, analyzeCommand, UsageError } from './analyze-command.js';
import type { CliIo } from './io.js';

const USAGE = `meshmedic — finds the Istio configurations that make Envoy answer 503/504, and fixes them.

Usage:
  meshmedic analyze [PATH...|-] [options]   analyze manifests offline (see meshmedic analyze --help)
  meshmedic run [--kubeconfig FILE]         run the controller (see meshmedic run --help)
  meshmedic explain --logs FILE|- [PATH...] explain the 503/504s of Envoy access logs (see meshmedic explain --help)
  meshmedic verify [PATH...|-] [options]    put each finding and fix to Istio's own config generator (see meshmedic verify --help)
  meshmedic rules [ID...]                   list the rules, or show a rule's docs and message types
  meshmedic --version
`;

export async function runCli(
  argv: string[],
  streams: { stdout: Writable & { isTTY?: boolean }; stderr: Writable; stdin?: Readable },
): Promise<number> {
  const io: CliIo = { ...streams, color: Boolean(streams.stdout.isTTY) && !process.env['NO_COLOR'] };
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'analyze':
        return await analyzeCommand(rest, io);
      case 'run':
        // loaded on demand: each command loads only its own modules (analyze never loads the Kubernetes client)
        return await (await import('./run-command.js')).runCommand(rest, io);
      case 'explain':
        return await (await import('./explain-command.js')).explainCommand(rest, io);
      case 'verify':
        return await (await import('./verify-command.js')).verifyCommand(rest, io);
      case 'rules':
        return (await import('./rules-command.js')).rulesCommand(rest, io);
      case '--version':
      case 'version':
        io.stdout.write(`meshmedic ${MESHMEDIC_VERSION}\n`);
        return 0;
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.stderr.write(`meshmedic: unknown command ${JSON.stringify(command)}\n\n${USAGE}`);
        return 2;
    }
  } catch (err) {
    if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.stderr.write(`meshmedic: ${(err as Error).message}\n\n${ANALYZE_USAGE}`);
      return 2;
    }
    io.stderr.write(`meshmedic: ${(err as Error).message}\n`);
    return 2;
  }
}
