// bashreadline: prints every command typed into an interactive bash on this machine, with the
// pid and uid of the shell. Ctrl-C stops it. Needs root.
//
//   sudo node examples/dist/bashreadline/main.js

import { printable, TsbpfError } from 'tsbpf';
import { loadBashreadline } from './bashreadline.js';

async function main(): Promise<void> {
  await using objs = await loadBashreadline();
  // The SEC("uretprobe//bin/bash:readline") name says where; attach() reads it.
  await using _link = objs.programs.bashReadline.attach();
  const events = objs.maps.events.reader();
  process.once('SIGINT', () => events.close());
  process.once('SIGTERM', () => events.close());

  console.log('Tracing bash readline(). Ctrl-C to stop.');
  console.log(`${'TIME'.padEnd(8)} ${'PID'.padStart(7)} ${'UID'.padStart(5)} COMMAND`);
  for await (const e of events) {
    // Anyone can type anything into a bash, escape sequences too: printable() shows them as \x1b.
    const time = new Date().toTimeString().slice(0, 8);
    console.log(`${time} ${String(e.pid).padStart(7)} ${String(e.uid).padStart(5)} ${printable(e.line)}`);
  }
  // Perf buffers drop samples when user space falls behind; the reader counts them.
  if (events.lost > 0) console.log(`(${events.lost} lines lost)`);
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
