// Preloaded into a meshmedic CLI process by the benchmark: reports its peak RSS when it exits.
import process from 'node:process';

process.on('exit', () => process.stderr.write(`MESHMEDIC_BENCH_MAXRSS_KB ${process.resourceUsage().maxRSS}\n`));
