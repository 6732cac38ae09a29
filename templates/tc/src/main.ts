// Counts the IPv4 packets and bytes an interface sends, per destination address, and prints
// the busiest destinations every 2 seconds. Ctrl-C detaches.
//
//   sudo npm start              # the default-route interface
//   sudo npm start -- eth1      # another interface

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermissionError, printable, TsbpfError, VerifierError } from 'tsbpf';
import { loadEgress } from './egress.js';

/** The interface of the default route, from /proc/net/route (destination 00000000). */
function defaultInterface(): string {
  const routes = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1);
  return routes.map((line) => line.split('\t')).find((fields) => fields[1] === '00000000')?.[0] ?? 'lo';
}

async function main(): Promise<void> {
  const [ifname = defaultInterface()] = process.argv.slice(2);

  // `await using` detaches the program (and its clsact filter) and frees the map when main() returns.
  await using objs = await loadEgress();
  await using _link = objs.programs.tcEgress.attachTc({ ifname, direction: 'egress' });

  // Ctrl-C ends the loop below instead of killing the process, so the cleanup above runs.
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  // The name may come from the kernel (/proc/net/route): printed through printable(), like any outside text.
  console.log(`Counting IPv4 traffic leaving ${printable(ifname)}. Ctrl-C to stop.`);
  while (!stop.signal.aborted) {
    await sleep(2000, undefined, { signal: stop.signal }).catch(() => {});
    if (stop.signal.aborted) break;
    const rows = [...objs.maps.traffic.entries()].sort(([, a], [, b]) => Number(b.bytes - a.bytes));
    console.log(`\n${'DESTINATION'.padEnd(16)} ${'PACKETS'.padStart(10)} ${'BYTES'.padStart(12)}`);
    for (const [destination, traffic] of rows.slice(0, 20)) {
      const address = destination.daddr.join('.');
      console.log(`${address.padEnd(16)} ${String(traffic.packets).padStart(10)} ${String(traffic.bytes).padStart(12)}`);
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
  if (error instanceof PermissionError || (!(error instanceof TsbpfError && error.hint) && process.getuid?.() !== 0)) {
    console.error('Attaching tc programs needs root: run `sudo npm start`.');
  }
  process.exitCode = 1;
});
