// execsnoop: prints every program started on this machine (each execve()), with its pid, its
// parent's pid, the caller's name, the file it runs and its arguments. Ctrl-C stops it. Needs root.
//
//   sudo node examples/dist/execsnoop/main.js

import { printable, TsbpfError } from 'tsbpf';
import { loadExecsnoop } from './execsnoop.js';

async function main(): Promise<void> {
  // `await using` detaches the program and frees the ring buffer when main() returns.
  await using objs = await loadExecsnoop();
  await using _link = objs.programs.handleExecve.attach(); // by its SEC() name
  const events = objs.maps.events.reader();
  // Closing the reader ends the for-await loop, so the cleanup above runs on Ctrl-C.
  process.once('SIGINT', () => events.close());
  process.once('SIGTERM', () => events.close());

  console.log('Tracing execve(). Ctrl-C to stop.');
  console.log(
    `${'PID'.padStart(7)} ${'PPID'.padStart(7)} ${'UID'.padStart(5)} ${'COMM'.padEnd(16)} FILE  ARGS`,
  );
  for await (const e of events) {
    // Any user chooses the name and path of what they run, control characters included: printable()
    // shows those as \x1b and the like, so they cannot drive this terminal.
    // The C packs argv NUL-separated into one char[]; "fieldAs": { "exec_event.args": "strings" }
    // in tsbpf.config.json makes e.args a string[] of them (a string would stop at argv[0]).
    const args = e.args.map(printable).join(' ');
    console.log(
      `${String(e.pid).padStart(7)} ${String(e.ppid).padStart(7)} ${String(e.uid).padStart(5)} ${printable(e.comm).padEnd(16)} ${printable(e.filename)}  ${args}`,
    );
  }
  if (events.lost > 0) console.log(`(${events.lost} events lost)`);
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
