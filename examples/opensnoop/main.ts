// opensnoop: prints every file opened on this machine (each openat()), with the pid, the
// process name, the result (a file descriptor, or the error name) and the path. Ctrl-C stops it.
//
//   sudo node examples/dist/opensnoop/main.js [comm]     # only processes named comm

import { constants } from 'node:os';
import { printable, TsbpfError } from 'tsbpf';
import { loadOpensnoop } from './opensnoop.js';

/** errno number -> name (2 -> ENOENT), from Node's own table. */
const errnoNames = new Map(Object.entries(constants.errno).map(([name, value]) => [value, name]));

async function main(): Promise<void> {
  const only = process.argv[2];
  await using objs = await loadOpensnoop();
  // Two programs: attach both; each link is closed when main() returns.
  await using _enter = objs.programs.enterOpenat.attach();
  await using _exit = objs.programs.exitOpenat.attach();
  const events = objs.maps.events.reader();
  process.once('SIGINT', () => events.close());
  process.once('SIGTERM', () => events.close());

  console.log('Tracing openat(). Ctrl-C to stop.');
  console.log(`${'PID'.padStart(7)} ${'COMM'.padEnd(16)} ${'FD/ERR'.padEnd(8)} PATH`);
  for await (const e of events) {
    if (only !== undefined && e.comm !== only) continue;
    const result = e.ret >= 0 ? String(e.ret) : (errnoNames.get(-e.ret) ?? String(e.ret));
    // Process names and paths are anyone's choice: printable() escapes the control characters in them.
    console.log(
      `${String(e.pid).padStart(7)} ${printable(e.comm).padEnd(16)} ${result.padEnd(8)} ${printable(e.filename)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
