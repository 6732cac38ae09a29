// syslat: a histogram of system call latency, machine-wide or for one process, printed as a
// terminal histogram after the given time (or on Ctrl-C).
//
//   sudo node examples/dist/syslat/main.js [seconds=5] [pid]

import { setTimeout as sleep } from 'node:timers/promises';
import { TsbpfError } from 'tsbpf';
import { loadSyslatSpec } from './syslat.js';

/** Rows like bcc's print_log2_hist: the bucket's range, its count, and a bar of stars. */
function printHistogram(counts: bigint[], unit: string): void {
  let last = counts.length - 1;
  while (last > 0 && counts[last] === 0n) last--;
  let max = 0n; // Math.max does not take bigints
  for (const count of counts) if (count > max) max = count;
  console.log(`${unit.padStart(19)}     : count      distribution`);
  for (let slot = 0; slot <= last; slot++) {
    const low = slot === 0 ? 0 : 2 ** slot;
    const high = 2 ** (slot + 1) - 1;
    const count = counts[slot] ?? 0n;
    const stars = max === 0n ? 0 : Number((count * 40n) / max);
    console.log(
      `${String(low).padStart(10)} -> ${String(high).padEnd(10)}: ${String(count).padEnd(10)} |${'*'.repeat(stars).padEnd(40)}|`,
    );
  }
}

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? 5);
  const pid = Number(process.argv[3] ?? 0);
  const spec = await loadSyslatSpec();
  spec.variables.targetPid.set(pid); // .rodata: fixed at load, so the verifier prunes the check
  await using objs = await spec.load();
  await using _enter = objs.programs.syscallEnter.attach();
  await using _exit = objs.programs.syscallExit.attach();

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  console.log(
    `Tracing system call latency of ${pid ? `pid ${pid}` : 'every process'} for ${seconds} s. Ctrl-C to stop early.`,
  );
  await sleep(seconds * 1000, undefined, { signal: stop.signal }).catch(() => {});

  const counts: bigint[] = [];
  for (let slot = 0; slot < objs.maps.hist.length; slot++) counts.push(objs.maps.hist.get(slot));
  printHistogram(counts, 'usecs');
  console.log(`total: ${counts.reduce((sum, c) => sum + c, 0n)} system calls`);
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
