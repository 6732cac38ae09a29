#!/usr/bin/env node
// Prints where a tsbpf-side benchmark script spends its time: runs it with BENCH_PROFILE set and
// lists the functions with the most self time. For finding the gaps the figures show.
// Usage: node bench/profile.js <script> [args...]   e.g. node bench/profile.js bench/lib/consume-ts.js ringbuf ...
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { topSelf } from './lib/profile.js';

const file = join(tmpdir(), `tsbpf-bench-${process.pid}.cpuprofile`);
const r = spawnSync(process.execPath, process.argv.slice(2), {
  stdio: 'inherit',
  env: { ...process.env, BENCH_PROFILE: file },
});
if (r.status !== 0) process.exit(r.status ?? 1);
for (const line of topSelf(JSON.parse(readFileSync(file, 'utf8')), 20)) console.log(line);
rmSync(file, { force: true });
