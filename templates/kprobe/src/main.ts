// Counts file deletions per process: every 2 seconds, prints how often each pid called the
// kernel's do_unlinkat() (unlink, rm) and how many of those calls failed. Ctrl-C stops it.
// Needs root, and a kernel with kprobes (CONFIG_KPROBES).

import { setTimeout as sleep } from 'node:timers/promises';
import { NotSupportedError, PermissionError, printable, TsbpfError, VerifierError } from 'tsbpf';
import { loadUnlink } from './unlink.js';

async function main(): Promise<void> {
  // `await using` detaches both probes and frees the map when main() returns.
  await using objs = await loadUnlink();
  await using _entry = objs.programs.kprobeDoUnlinkat.attach();
  await using _exit = objs.programs.kretprobeDoUnlinkat.attach();

  // Ctrl-C ends the loop below instead of killing the process, so the cleanup above runs.
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  console.log('Counting do_unlinkat() calls per pid (try `rm` in another terminal). Ctrl-C to stop.');
  while (!stop.signal.aborted) {
    await sleep(2000, undefined, { signal: stop.signal }).catch(() => {});
    if (stop.signal.aborted) break;
    const rows = [...objs.maps.stats.entries()].sort(([, a], [, b]) => Number(b.calls - a.calls));
    console.log(`\n${'PID'.padStart(8)} ${'CALLS'.padStart(8)} ${'FAILED'.padStart(8)}`);
    for (const [pid, stats] of rows.slice(0, 20)) {
      console.log(`${String(pid).padStart(8)} ${String(stats.calls).padStart(8)} ${String(stats.failed).padStart(8)}`);
    }
  }
  console.log('\nDetaching.');
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  // The verifier's whole log says why it refused; it runs to hundreds of lines, so only on request.
  if (error instanceof VerifierError) {
    if (process.env.TSBPF_VERBOSE) console.error(error.log.split('\n').map(printable).join('\n'));
    else console.error('Run with TSBPF_VERBOSE=1 to print the whole verifier log.');
  }
  if (error instanceof NotSupportedError) {
    console.error('This kernel cannot attach kprobes (CONFIG_KPROBES is off); try the tracepoint template.');
  } else if (error instanceof PermissionError || (!(error instanceof TsbpfError && error.hint) && process.getuid?.() !== 0)) {
    console.error('Loading eBPF programs needs root: run `sudo npm start`.');
  }
  process.exitCode = 1;
});
