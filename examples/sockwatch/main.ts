// sockwatch: watches the traffic of an interface through a raw packet socket. A BPF socket
// filter counts the IPv4 frames per protocol and passes only one protocol's frames to the
// socket; this program prints those frames and, every few seconds, the counts.
//
//   sudo node examples/dist/sockwatch/main.js [ifname=lo] [protocol=udp]   (udp, tcp or icmp)

import { setTimeout as sleep } from 'node:timers/promises';
import { openRawSocket, TsbpfError, UsageError } from 'tsbpf';
import { loadSockwatchSpec } from './sockwatch.js';

const protocols: Record<string, number> = { icmp: 1, tcp: 6, udp: 17 };

/** One line per frame: addresses, ports for TCP and UDP, and the frame length. */
function describeFrame(frame: Uint8Array): string {
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  const ip = 14; // after the Ethernet header
  const headerLength = (frame[ip]! & 0x0f) * 4;
  const address = (at: number) => [...frame.subarray(at, at + 4)].join('.');
  const proto = frame[ip + 9]!;
  let src = address(ip + 12);
  let dst = address(ip + 16);
  if ((proto === 6 || proto === 17) && frame.length >= ip + headerLength + 4) {
    src += `:${view.getUint16(ip + headerLength)}`; // ports are big-endian on the wire
    dst += `:${view.getUint16(ip + headerLength + 2)}`;
  }
  return `${src} -> ${dst} ${frame.length} bytes`;
}

async function main(): Promise<void> {
  const [ifname = 'lo', protocolName = 'udp'] = process.argv.slice(2);
  const protocol = protocols[protocolName];
  if (protocol === undefined) throw new UsageError(`unknown protocol ${protocolName}: use udp, tcp or icmp`);

  // Open the object without loading it, to set the .rodata constant the filter compares with.
  const spec = await loadSockwatchSpec();
  spec.variables.watchProtocol.set(protocol);
  await using objs = await spec.load();

  using socket = openRawSocket(ifname);
  await using _link = objs.programs.watch.attachSocket(socket.fd);
  while (socket.receive() !== undefined); // frames queued before the filter was attached

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  console.log(`Watching ${protocolName} on ${ifname}. Ctrl-C to stop.`);
  let ticks = 0;
  while (!stop.signal.aborted) {
    // The socket is non-blocking: take what has arrived, then wait a little.
    for (let frame = socket.receive(); frame !== undefined; frame = socket.receive()) {
      console.log(describeFrame(frame));
    }
    await sleep(100, undefined, { signal: stop.signal }).catch(() => {});
    if (++ticks % 30 === 0) {
      const counts = Object.entries(protocols).map(([name, n]) => `${name} ${objs.maps.frames.get(n)}`);
      console.log(`frames seen by the filter: ${counts.join(', ')}`);
    }
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
