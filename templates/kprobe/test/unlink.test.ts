// Runs the program in the kernel: loads it (works everywhere), then, where the kernel has
// kprobes, attaches it, deletes a file and fails to delete another, and checks the counts of
// this process. The attach test is skipped, by name, on kernels without kprobe support.

import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { loadUnlink } from '../src/unlink.js';

// The kprobe PMU, present when the kernel is built with CONFIG_KPROBES.
const hasKprobes = existsSync('/sys/bus/event_source/devices/kprobe');
const work = mkdtempSync(join(tmpdir(), 'unlink-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('loads both programs into the kernel, with an empty stats map', async () => {
  await using objs = await loadUnlink();
  expect(objs.programs.kprobeDoUnlinkat.fd).toBeGreaterThan(0);
  expect(objs.programs.kretprobeDoUnlinkat.fd).toBeGreaterThan(0);
  expect([...objs.maps.stats.keys()]).toEqual([]);
});

it.skipIf(!hasKprobes)('counts do_unlinkat calls and failures per pid (skipped: no kprobe support in this kernel)', async () => {
  await using objs = await loadUnlink();
  await using _entry = objs.programs.kprobeDoUnlinkat.attach();
  await using _exit = objs.programs.kretprobeDoUnlinkat.attach();

  const file = join(work, 'doomed');
  writeFileSync(file, 'x');
  unlinkSync(file);
  expect(() => unlinkSync(join(work, 'never-existed'))).toThrow(/ENOENT/);

  const mine = objs.maps.stats.get(process.pid);
  expect(mine?.calls).toBeGreaterThanOrEqual(2n);
  expect(mine?.failed).toBeGreaterThanOrEqual(1n);
});
