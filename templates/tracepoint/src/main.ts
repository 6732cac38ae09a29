// A small execsnoop: prints every program started on this machine (each execve()), with its
// pid, its parent's pid and the command that started it. Ctrl-C stops it. Needs root.

import { PermissionError, printable, TsbpfError, VerifierError } from 'tsbpf';
import { loadExecsnoop } from './execsnoop.js';

async function main(): Promise<void> {
  // `await using` detaches the program and frees its maps when main() returns.
  await using objs = await loadExecsnoop();
  await using _link = objs.programs.tracepointExecve.attach();
  const events = objs.maps.events.reader();

  // Ctrl-C ends the loop below instead of killing the process, so the cleanup above runs.
  process.once('SIGINT', () => events.close());
  process.once('SIGTERM', () => events.close());

  console.log('Tracing execve() (run any command in another terminal). Ctrl-C to stop.');
  console.log(`${'PID'.padStart(7)} ${'PPID'.padStart(7)} ${'COMM'.padEnd(16)} FILE`);
  for await (const event of events) {
    // Any user picks the name and path of what they run, escape sequences included: printable()
    // shows control characters as \x1b and the like, so they cannot drive this terminal.
    console.log(`${String(event.pid).padStart(7)} ${String(event.ppid).padStart(7)} ${printable(event.comm).padEnd(16)} ${printable(event.filename)}`);
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
  if (error instanceof PermissionError || (!(error instanceof TsbpfError && error.hint) && process.getuid?.() !== 0)) {
    console.error('Loading eBPF programs needs root: run `sudo npm start`.');
  }
  process.exitCode = 1;
});
