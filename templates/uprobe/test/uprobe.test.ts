// Runs the program in the kernel: compiles target/greeter.c, attaches the uprobe to its greet(),
// runs it, and expects one event per call with the arguments it was called with. Needs root
// and a C compiler (cc).

import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, expect, it } from 'vitest';
import { loadUprobe } from '../src/uprobe.js';

const work = mkdtempSync(join(tmpdir(), 'uprobe-test-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

it('reports greet() calls with their arguments and the caller pid', async () => {
  const greeter = join(work, 'greeter');
  const source = fileURLToPath(new URL('../target/greeter.c', import.meta.url));
  execFileSync('cc', ['-g', '-O1', '-o', greeter, source]);

  await using objs = await loadUprobe();
  await using _link = objs.programs.uprobeGreet.attachUprobe({ binary: greeter, symbol: 'greet' });
  const events = objs.maps.events.reader();

  const child = spawn(greeter, ['tsbpf', '2'], { stdio: 'ignore' });
  const received = [];
  for await (const event of events) {
    if (event.pid !== child.pid) continue; // another greeter on this machine
    received.push(event);
    if (received.length === 2) break;
  }
  events.close();

  expect(received).toEqual([
    { pid: child.pid, times: 1, name: 'tsbpf' },
    { pid: child.pid, times: 2, name: 'tsbpf' },
  ]);
});
