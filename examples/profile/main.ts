// profile: a sampling CPU profiler, like bcc's profile. Samples every CPU (or one process) at a
// fixed frequency for the given time (or until Ctrl-C), then prints the busiest stacks, kernel and
// user, with function names; --folded prints them as folded lines for flame graph tools.
//
//   sudo node examples/dist/profile/main.js [seconds=5] [--pid PID] [--frequency 49] [--top 10] [--folded]

import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TsbpfError } from 'tsbpf';
import { StackCounts, Symbolizer } from 'tsbpf/symbolize';
import { loadProfileSpec } from './profile.js';

/** A whole number from the command line, or a one-line error naming the option. */
function count(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isSafeInteger(value) || value < 0)
    throw new Error(`${name} must be a whole number, not "${text}"`);
  return value;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      pid: { type: 'string', short: 'p' },
      frequency: { type: 'string', short: 'F' },
      top: { type: 'string' },
      folded: { type: 'boolean', short: 'f' },
    },
  });
  if (positionals.length > 1) throw new Error(`one duration expected, not "${positionals.join(' ')}"`);
  const seconds = count('seconds', positionals[0], 5);
  const pid = count('--pid', values.pid, 0);
  if (pid && !existsSync(`/proc/${pid}`)) throw new Error(`--pid ${pid}: no such process`);
  const frequency = count('--frequency', values.frequency, 49);
  const top = count('--top', values.top, 10);

  const spec = await loadProfileSpec();
  spec.variables.targetPid.set(pid); // .rodata: fixed at load, so the verifier prunes the check
  await using objs = await spec.load();
  // One perf event per CPU; with a pid the kernel still samples on every CPU the process runs on.
  await using _link = objs.programs.sample.attachPerfEvent({ event: 'cpu-clock', frequency });

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const who = pid ? `pid ${pid}` : 'every process';
  console.error(`Sampling ${who} at ${frequency} Hz for ${seconds} s. Ctrl-C to stop early.`);
  using symbolizer = new Symbolizer();
  const stacks = new StackCounts(symbolizer);
  // Read each new process's memory map and files while it lives, so that one which exits before
  // the end still gets names.
  const notice = setInterval(() => stacks.noticeMap(objs.maps.counts, objs.maps.stacks), 1000);
  await sleep(seconds * 1000, undefined, { signal: stop.signal }).catch(() => {});
  clearInterval(notice);

  stacks.addMap(objs.maps.counts, objs.maps.stacks);
  if (stacks.stacks().length === 0) {
    console.error(`no samples of ${who} in ${seconds} s: it did not run on a CPU`);
  } else if (values.folded) {
    for (const line of stacks.folded()) console.log(line);
  } else {
    console.log(stacks.text(top, 'samples'));
  }
  const { resolved, unresolved } = stacks.coverage();
  const problem = symbolizer.kernelProblem();
  console.error(`${resolved} frames named, ${unresolved} not${problem ? ` (kernel: ${problem})` : ''}`);
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
