// xdpcount: packets an interface receives per IP protocol, counted by XDP, printed every
// interval. Ctrl-C detaches.
//
//   sudo node examples/dist/xdpcount/main.js <ifname> [interval-seconds=1]

import { setTimeout as sleep } from 'node:timers/promises';
import { TsbpfError, UsageError } from 'tsbpf';
import { loadXdpcount } from './xdpcount.js';

const names: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp', 58: 'icmpv6', 256: 'not-ip' };

async function main(): Promise<void> {
  const [ifname, seconds = '1'] = process.argv.slice(2);
  if (!ifname) throw new UsageError('usage: xdpcount <ifname> [interval-seconds]');
  await using objs = await loadXdpcount();
  // Generic mode works on every interface; 'native' is faster where the driver supports XDP.
  await using _link = objs.programs.xdpCount.attachXdp({ ifname, mode: 'generic' });

  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  console.log(`Counting packets received on ${ifname}. Ctrl-C to stop.`);
  while (!stop.signal.aborted) {
    await sleep(Number(seconds) * 1000, undefined, { signal: stop.signal }).catch(() => {});
    const lines: string[] = [];
    for (let slot = 0; slot < objs.maps.packets.length; slot++) {
      // A per-CPU array gives one value per possible CPU: the total is their sum.
      const total = objs.maps.packets.get(slot).reduce((sum, n) => sum + n, 0n);
      if (total > 0n) lines.push(`${(names[slot] ?? `proto ${slot}`).padEnd(10)} ${total}`);
    }
    console.log(`${new Date().toTimeString().slice(0, 8)} ${lines.length === 0 ? '(no packets yet)' : ''}`);
    for (const line of lines) console.log(`  ${line}`);
  }
}

main().catch((error: unknown) => {
  console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
  if (error instanceof TsbpfError && error.hint) console.error(`hint: ${error.hint}`);
  process.exitCode = 1;
});
