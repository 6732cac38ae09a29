// tcbytes: bytes and packets an interface sends, per EtherType and IP protocol, counted by a tc
// egress classifier and printed every interval. Ctrl-C detaches.
//
//   sudo node examples/dist/tcbytes/main.js <ifname> [interval-seconds=1]

import { setTimeout as sleep } from 'node:timers/promises';
import { TsbpfError, UsageError } from 'tsbpf';
import { loadTcbytes, type TrafficKey } from './tcbytes.js';

function describe(key: TrafficKey): string {
  if (key.ethertype === 0x0800)
    return (
      ({ 1: 'ipv4/icmp', 6: 'ipv4/tcp', 17: 'ipv4/udp' } as Record<number, string>)[key.protocol] ??
      `ipv4/${key.protocol}`
    );
  return (
    ({ 2054: 'arp', 34525: 'ipv6' } as Record<number, string>)[key.ethertype] ??
    `0x${key.ethertype.toString(16).padStart(4, '0')}`
  );
}

async function main(): Promise<void> {
  const [ifname, seconds = '1'] = process.argv.slice(2);
  if (!ifname) throw new UsageError('usage: tcbytes <ifname> [interval-seconds]');
  await using objs = await loadTcbytes();
  // A clsact qdisc is added when the interface has none; the filter is removed on close.
  await using _link = objs.programs.tcEgressBytes.attachTc({ ifname, direction: 'egress' });

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  console.log(`Counting bytes sent on ${ifname}. Ctrl-C to stop.`);
  while (!stop.signal.aborted) {
    await sleep(Number(seconds) * 1000, undefined, { signal: stop.signal }).catch(() => {});
    console.log(`\n${'TRAFFIC'.padEnd(12)} ${'PACKETS'.padStart(10)} ${'BYTES'.padStart(12)}`);
    for (const [key, traffic] of objs.maps.egress.entries()) {
      console.log(
        `${describe(key).padEnd(12)} ${String(traffic.packets).padStart(10)} ${String(traffic.bytes).padStart(12)}`,
      );
    }
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
