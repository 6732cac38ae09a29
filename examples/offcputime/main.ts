// offcputime: where threads wait, like bcc's offcputime. Adds up the time each thread spends off
// the CPU (sleeping, blocked on I/O or a lock, preempted) by the kernel and user stacks it left
// from, then prints the longest waits with function names; --folded prints folded lines for flame
// graph tools (off-CPU flame graphs).
//
//   sudo node examples/dist/offcputime/main.js [seconds=5] [--pid PID] [--min-us 1] [--top 10] [--folded]

import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { TsbpfError } from 'tsbpf';
import { StackCounts, Symbolizer } from 'tsbpf/symbolize';
import { loadOffcputimeSpec } from './offcputime.js';

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
      'min-us': { type: 'string', short: 'm' },
      top: { type: 'string' },
      folded: { type: 'boolean', short: 'f' },
    },
  });
  if (positionals.length > 1) throw new Error(`one duration expected, not "${positionals.join(' ')}"`);
  const seconds = count('seconds', positionals[0], 5);
  const pid = count('--pid', values.pid, 0);
  if (pid && !existsSync(`/proc/${pid}`)) throw new Error(`--pid ${pid}: no such process`);
  const minUs = count('--min-us', values['min-us'], 1);
  const top = count('--top', values.top, 10);

  const spec = await loadOffcputimeSpec();
  spec.variables.targetPid.set(pid);
  spec.variables.minWaitUs.set(BigInt(minUs));
  await using objs = await spec.load();
  await using _link = objs.programs.schedSwitch.attach();

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  const who = pid ? `pid ${pid}` : 'every process';
  console.error(`Tracing off-CPU time of ${who} for ${seconds} s. Ctrl-C to stop early.`);
  using symbolizer = new Symbolizer();
  const stacks = new StackCounts(symbolizer);
  // Read each new process's memory map and files while it lives, so that one which exits before
  // the end still gets names.
  const notice = setInterval(() => stacks.noticeMap(objs.maps.waited, objs.maps.stacks), 1000);
  await sleep(seconds * 1000, undefined, { signal: stop.signal }).catch(() => {});
  clearInterval(notice);

  stacks.addMap(objs.maps.waited, objs.maps.stacks);
  if (stacks.stacks().length === 0) {
    console.error(`no waits of ${minUs} us or more by ${who} in ${seconds} s`);
  } else if (values.folded) {
    for (const line of stacks.folded()) console.log(line);
  } else {
    console.log(stacks.text(top, 'us'));
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
