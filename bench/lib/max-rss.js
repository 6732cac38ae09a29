// Preloaded with `node --import` into a command being measured: on exit, writes the process's
// peak resident set size (process.resourceUsage().maxRSS, KiB) to the file in BENCH_MAX_RSS.
import { writeFileSync } from 'node:fs';

process.on('exit', () => writeFileSync(process.env.BENCH_MAX_RSS, String(process.resourceUsage().maxRSS)));
