// tcpconnect: prints every outgoing TCP connection attempt on this machine: the process, its
// uid, and the destination address and port. Ctrl-C stops it.
//
//   sudo node examples/dist/tcpconnect/main.js

import { printable, TsbpfError } from 'tsbpf';
import { type ConnectEvent, loadTcpconnect } from './tcpconnect.js';

/** The destination as text: 10.0.0.1:80, or [2001:db8::1]:443 (daddr is in network order). */
function destination(e: ConnectEvent): string {
  if (e.family === 2) return `${[...e.daddr.subarray(0, 4)].join('.')}:${e.dport}`;
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((e.daddr[i]! << 8) | e.daddr[i + 1]!).toString(16));
  return `[${groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::')}]:${e.dport}`;
}

async function main(): Promise<void> {
  await using objs = await loadTcpconnect();
  await using _link = objs.programs.onStateChange.attach();
  const events = objs.maps.events.reader();
  process.once('SIGINT', () => events.close());
  process.once('SIGTERM', () => events.close());

  console.log('Tracing TCP connects. Ctrl-C to stop.');
  console.log(`${'PID'.padStart(7)} ${'UID'.padStart(5)} ${'COMM'.padEnd(16)} DESTINATION`);
  for await (const e of events) {
    console.log(
      `${String(e.pid).padStart(7)} ${String(e.uid).padStart(5)} ${printable(e.comm).padEnd(16)} ${destination(e)}`,
    );
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
