// Counts IPv4 packets per source and protocol on a network interface, and drops packets from
// sources outside an allowlist. Every 2 seconds it prints the counts; Ctrl-C detaches.
//
//   sudo npm start                          # the default-route interface, everything allowed
//   sudo npm start -- eth0 10.0.0.0/8       # only 10.x.x.x may send IPv4 to eth0 (careful over SSH!)

import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { PermissionError, printable, TsbpfError, VerifierError } from 'tsbpf';
import { loadFirewall } from './firewall.js';

const protocols: Record<number, string> = { 1: 'icmp', 6: 'tcp', 17: 'udp' };

/** The interface of the default route, from /proc/net/route (destination 00000000). */
function defaultInterface(): string {
  const routes = readFileSync('/proc/net/route', 'utf8').split('\n').slice(1);
  return routes.map((line) => line.split('\t')).find((fields) => fields[1] === '00000000')?.[0] ?? 'lo';
}

/** `10.0.0.0/8` -> the allowlist key: prefix length and address bytes. */
function parsePrefix(text: string): { prefixlen: number; addr: Uint8Array } {
  const match = /^(\d+)\.(\d+)\.(\d+)\.(\d+)(?:\/(\d+))?$/.exec(text);
  const bytes = match?.slice(1, 5).map(Number) ?? [];
  const prefixlen = Number(match?.[5] ?? 32);
  if (bytes.length !== 4 || bytes.some((b) => b > 255) || prefixlen > 32) {
    throw new Error(`not an IPv4 prefix: ${text} (expected like 10.0.0.0/8)`);
  }
  return { prefixlen, addr: Uint8Array.from(bytes) };
}

async function main(): Promise<void> {
  const [ifname = defaultInterface(), ...allowed] = process.argv.slice(2);
  const prefixes = (allowed.length > 0 ? allowed : ['0.0.0.0/0']).map(parsePrefix);

  // `await using` detaches the program and frees its maps when main() returns.
  await using objs = await loadFirewall();
  for (const prefix of prefixes) objs.maps.allowlist.set(prefix, 1);
  // Generic mode works on every interface; 'native' is faster where the driver supports it.
  await using _link = objs.programs.xdpFirewall.attachXdp({ ifname, mode: 'generic' });

  // Ctrl-C ends the loop below instead of killing the process, so the cleanup above runs.
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());

  // The name may come from the kernel (/proc/net/route): printed through printable(), like any outside text.
  console.log(`Counting IPv4 packets on ${printable(ifname)}; allowed sources: ${allowed.join(', ') || 'all'}. Ctrl-C to stop.`);
  while (!stop.signal.aborted) {
    await sleep(2000, undefined, { signal: stop.signal }).catch(() => {});
    if (stop.signal.aborted) break;
    console.log(`\n${'SOURCE'.padEnd(16)} ${'PROTO'.padEnd(6)} PACKETS`);
    for (const [flow, packets] of objs.maps.stats.entries()) {
      const proto = protocols[flow.protocol] ?? String(flow.protocol);
      console.log(`${flow.saddr.join('.').padEnd(16)} ${proto.padEnd(6)} ${packets}`);
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
    console.error('Attaching XDP programs needs root: run `sudo npm start`.');
  }
  process.exitCode = 1;
});
