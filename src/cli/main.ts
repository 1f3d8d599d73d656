#!/usr/bin/env node
// Node's module compile cache, enabled before meshmedic's modules are imported: runs after the first
// skip compiling them. It lives in the OS temp directory (NODE_COMPILE_CACHE=DIR puts it elsewhere,
// NODE_DISABLE_COMPILE_CACHE=1 turns it off); if it cannot be written, nothing changes.
import { enableCompileCache } from 'node:module';

enableCompileCache();
const { runCli } = await import('./run-cli.js');

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
});
