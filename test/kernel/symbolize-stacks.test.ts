// Stacks a real BPF program took, symbolized: a tracepoint on sched_switch records the kernel and
// user stacks of a fixture process each time it goes to sleep in nanosleep(), and the symbolizer
// must name schedule() in the kernel stack and the libc function in the user stack.
import { type ChildProcess, spawn } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CollectionSpec, StackTraceMap } from '../../src/runtime/index.js';
import { formatFrame, Symbolizer } from '../../src/symbolize/index.js';
import { buildFixtures, type SymbolizeFixtures } from '../fixtures/symbolize/build.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot, tempDir } from '../helpers/paths.js';
import { setU32 } from './helpers.js';

let fx: SymbolizeFixtures;
let child: ChildProcess | undefined;
beforeAll(() => {
  fx = buildFixtures(tempDir('tsbpf-symbolize-bpf-'));
});
afterAll(() => {
  child?.kill('SIGKILL');
  rmSync(fx.dir, { recursive: true, force: true });
});

it('names the kernel and user frames of stacks a sched_switch program recorded', async () => {
  child = spawn(fx.pie, [], { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise<string>((r) => createInterface({ input: child!.stdout! }).once('line', r));
  const pid = Number(line.split(' ')[0]);

  const spec = CollectionSpec.fromBytes(
    compileFixture(join(repoRoot, 'test/fixtures/symbolize/switch-stacks.bpf.c')),
  );
  setU32(spec.dataSection('.rodata')!, 0, pid);
  await using coll = await spec.load();
  coll.program('on_switch').attach();
  // The child sleeps a second at a time: wait for it to go to sleep at least once.
  const data = () => new DataView(coll.dataSection('.data')!.buffer, coll.dataSection('.data')!.byteOffset);
  for (let i = 0; i < 40 && (data().getInt32(0, true) < 0 || data().getInt32(4, true) < 0); i++)
    await sleep(100);
  const [kernelId, userId] = [data().getInt32(0, true), data().getInt32(4, true)];
  expect(kernelId, 'kernel stack id').toBeGreaterThanOrEqual(0);
  expect(userId, 'user stack id').toBeGreaterThanOrEqual(0);

  using symbolizer = new Symbolizer();
  const kernel = symbolizer.kernel(new StackTraceMap(coll.map('kernel_stacks')).get(kernelId)!);
  const names = kernel.map((f) => f.symbol);
  // Every kernel frame is named, and the path to sleep is there.
  expect(kernel.filter((f) => f.symbol === undefined)).toEqual([]);
  expect(names).toContainEqual(expect.stringMatching(/^_*schedule$/));
  expect(names).toContainEqual(expect.stringMatching(/nanosleep/));

  const user = symbolizer.user(pid, new StackTraceMap(coll.map('user_stacks')).get(userId)!);
  // The innermost user frame is the libc call the process sleeps in (clock_nanosleep under nanosleep).
  expect(user[0]!.symbol).toMatch(/nanosleep/);
  expect(user[0]!.module).toMatch(/\/libc\.so\.6$/);
  expect(formatFrame(user[0]!)).toMatch(/nanosleep.*\+0x[0-9a-f]+ \[libc\.so\.6\]$/);
});
