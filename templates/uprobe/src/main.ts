// Reports each call of a user-space function with its arguments: by default greet() in
// dist/greeter, which `npm run build` compiles from target/greeter.c.
//
//   sudo npm start                      # probe greet() in dist/greeter
//   ./dist/greeter World                # in another terminal: each call is reported
//   sudo npm start -- ./other greet     # the same function in another build of the program
//
// Ctrl-C stops it and detaches the probe.

import { resolve } from 'node:path';
import { PermissionError, printable, TsbpfError, VerifierError } from 'tsbpf';
import { loadUprobe } from './uprobe.js';

const [binary = 'dist/greeter', symbol = 'greet'] = process.argv.slice(2);

async function main(): Promise<void> {
  await using objs = await loadUprobe();
  // The uprobe fires in every process that runs this binary, now or later (add `pid` to watch one).
  await using _link = objs.programs.uprobeGreet.attachUprobe({ binary: resolve(binary), symbol });
  const events = objs.maps.events.reader();

  // Ctrl-C ends the loop below instead of killing the process, so `await using` cleans up.
  process.once('SIGINT', () => events.close());
  process.once('SIGTERM', () => events.close());

  console.log(`Probing ${symbol}() in ${binary}: run \`./dist/greeter World\` in another terminal. Ctrl-C to stop.`);
  for await (const event of events) {
    // The string comes from the probed process's memory: printable() escapes any control characters.
    console.log(`pid ${event.pid}: ${symbol}("${printable(event.name)}", ${event.times})`);
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
