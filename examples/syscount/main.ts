// syscount: system calls per process, the busiest first, every interval. Ctrl-C stops it.
//
//   sudo node examples/dist/syscount/main.js [interval-seconds=1] [top=10]

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { printable, TsbpfError } from 'tsbpf';
import { loadSyscount } from './syscount.js';

/**
 * The process's name now: the kernel side records it at the first system call, which for a
 * new program is often still its parent's name (before execve). Exited processes keep that one.
 */
function currentName(pid: number, recorded: string): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trimEnd();
  } catch {
    return recorded;
  }
}

async function main(): Promise<void> {
  const interval = Number(process.argv[2] ?? 1);
  const top = Number(process.argv[3] ?? 10);
  await using objs = await loadSyscount();
  await using _link = objs.programs.countSyscall.attach(); // SEC("raw_tp/sys_enter")

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  console.log(`Counting system calls per process every ${interval} s. Ctrl-C to stop.`);
  while (!stop.signal.aborted) {
    await sleep(interval * 1000, undefined, { signal: stop.signal }).catch(() => {});
    // entries() reads the whole hash map (in batches where the kernel allows): pid -> stats.
    const busiest = [...objs.maps.counts.entries()]
      .sort(([, a], [, b]) => (b.syscalls > a.syscalls ? 1 : b.syscalls < a.syscalls ? -1 : 0))
      .slice(0, top);
    console.log(`\n${'PID'.padStart(7)} ${'COMM'.padEnd(16)} ${'SYSCALLS'.padStart(12)}`);
    for (const [pid, stats] of busiest) {
      // syscalls is a __u64, so a bigint: 64-bit counters do not fit a JS number exactly. A process
      // names itself (prctl, exec), so printable() escapes any control characters in the name.
      console.log(
        `${String(pid).padStart(7)} ${printable(currentName(pid, stats.comm)).padEnd(16)} ${String(stats.syscalls).padStart(12)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
