// Runs the program in the kernel: a shell started under a name of its own makes system calls,
// and a scrape of the registry must count them under that name and histogram their latency.
// Needs root.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { prometheusRegistry } from 'tsbpf/metrics';
import { expect, it } from 'vitest';
import { sysstatsMetrics } from '../src/metrics.js';
import { loadSysstats } from '../src/sysstats.js';

it('counts system calls per process name and histograms their latency', async () => {
  await using objs = await loadSysstats();
  await using _enter = objs.programs.sysEnter.attach();
  await using _exit = objs.programs.sysExit.attach();
  await using _exec = objs.programs.schedExec.attach();
  const registry = await prometheusRegistry(sysstatsMetrics(objs));

  // A process's name is the file it runs: a symlink to sh named "sysstatstest".
  const dir = mkdtempSync(join(tmpdir(), 'sysstats-'));
  symlinkSync('/bin/sh', join(dir, 'sysstatstest'));
  const child = spawn(join(dir, 'sysstatstest'), ['-c', 'i=0; while [ $i -lt 100 ]; do read x < /dev/null; i=$((i+1)); done'], {
    stdio: 'ignore',
  });
  await once(child, 'exit');
  rmSync(dir, { recursive: true });

  const text = await registry.metrics();
  // 100 redirections: an open, a dup and a close each.
  const calls = Number(/^sysstats_syscalls_total\{comm="sysstatstest"\} (\d+)$/m.exec(text)?.[1]);
  expect(calls).toBeGreaterThanOrEqual(300);
  const total = Number(/^sysstats_syscall_latency_seconds_bucket\{le="\+Inf"\} (\d+)$/m.exec(text)?.[1]);
  expect(total).toBeGreaterThanOrEqual(calls);
  expect(text).toMatch(/^sysstats_syscall_latency_seconds_count \d+$/m);
});
