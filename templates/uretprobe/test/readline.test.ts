// Runs the program in the kernel: starts an interactive bash on a pseudo-terminal, types a
// line into it, and expects that line back as an event from the uretprobe. Needs root.

import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { expect, it } from 'vitest';
import { loadReadline } from '../src/readline.js';

/** The parent pid of a live process, from /proc/<pid>/stat (field 4, after the "(comm)"). */
function parentPid(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The pids from a live process up to init: itself, its parent, its parent's parent... */
function ancestry(pid: number): number[] {
  const chain = [pid];
  for (let p = pid; p > 1; chain.push(p)) p = parentPid(p);
  return chain;
}

it('reports the line an interactive bash reads, with that bash pid', async () => {
  await using objs = await loadReadline();
  await using _link = objs.programs.uretprobeBashReadline.attach();
  const events = objs.maps.events.reader();

  // script(1) runs bash on a pty, so bash is interactive and reads its input with readline().
  const shell = spawn('script', ['-qfc', 'bash --norc --noprofile -i', '/dev/null'], {
    stdio: ['pipe', 'ignore', 'inherit'],
  });
  // If bash never starts, stop waiting for its events instead of hanging until the timeout.
  shell.on('exit', () => events.close());
  const line = `echo tsbpf-test-${process.pid}`;
  shell.stdin.write(`${line}\n`);

  let seen: { pid: number; line: string } | undefined;
  let readerAncestry: number[] = [];
  let readerName = '';
  for await (const event of events) {
    if (event.line === line) {
      seen = event;
      // Read /proc while the shell still runs.
      readerAncestry = ancestry(event.pid);
      readerName = readFileSync(`/proc/${event.pid}/comm`, 'utf8').trim();
      break;
    }
  }
  shell.stdin.end('exit\n');
  events.close();

  expect(seen?.line).toBe(line);
  // The reader is a bash started by the script(1) process this test started: script runs it
  // through $SHELL -c (or /bin/sh when SHELL is unset), so bash is its child or grandchild.
  expect(readerName).toBe('bash');
  expect(readerAncestry).toContain(shell.pid);
});
