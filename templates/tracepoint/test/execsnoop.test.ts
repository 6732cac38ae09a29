// Runs the program in the kernel: starts a process and expects its execve() as an event, with
// its pid, this test's pid as the parent, and the file it ran. Needs root.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { expect, it } from 'vitest';
import { loadExecsnoop } from '../src/execsnoop.js';

it('reports an execve() with the pid, parent pid and file', async () => {
  await using objs = await loadExecsnoop();
  await using _link = objs.programs.tracepointExecve.attach();
  const events = objs.maps.events.reader();

  const child = spawn('/bin/true', [], { stdio: 'ignore' });
  let seen: { pid: number; ppid: number; filename: string } | undefined;
  for await (const event of events) {
    if (event.pid === child.pid) {
      seen = event;
      break;
    }
  }
  events.close();
  await once(child, 'exit');

  expect(seen).toMatchObject({ pid: child.pid, ppid: process.pid, filename: '/bin/true' });
});
