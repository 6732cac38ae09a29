// Prints every line bash's readline() returns, with the pid of the shell that read it.
// Run it as root (`sudo npm start`), type commands in another bash, and press Ctrl-C to stop.

import { PermissionError, printable, TsbpfError, VerifierError } from 'tsbpf';
import { loadReadline } from './readline.js';

async function main(): Promise<void> {
  // `await using` closes what it holds when main() returns: the link detaches the probe, the
  // objects free the program and its maps. Nothing stays in the kernel after exit.
  await using objs = await loadReadline();
  await using _link = objs.programs.uretprobeBashReadline.attach();
  const events = objs.maps.events.reader();

  // Ctrl-C ends the loop below instead of killing the process, so the cleanup above runs.
  process.once('SIGINT', () => events.close());
  process.once('SIGTERM', () => events.close());

  console.log('Tracing readline() in /bin/bash: type a command in another bash shell. Ctrl-C to stop.');
  console.log('PID\tLINE');
  for await (const event of events) {
    // Anyone can type escape sequences into a bash: printable() shows them as \x1b instead of
    // letting them drive this terminal.
    console.log(`${event.pid}\t${printable(event.line)}`);
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
