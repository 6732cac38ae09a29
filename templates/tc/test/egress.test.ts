// Runs the program in the kernel, two ways. First on crafted packets with testRun (the
// kernel's BPF_PROG_TEST_RUN: no network needed). Then on real traffic: a veth pair between
// this network namespace and a new one, pinged across. Needs root (CAP_BPF and CAP_NET_ADMIN).

import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadEgress } from '../src/egress.js';

const TC_ACT_OK = 0;

/** An Ethernet frame carrying an IPv4 header to `destination`, padded to `length` bytes. */
function ipv4Frame(destination: number[], length: number): Uint8Array {
  const frame = new Uint8Array(length);
  frame.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00]); // dst MAC, src MAC, IPv4
  frame.set([0x45, 0, 0, length - 14, 0, 0, 0, 0, 64, 17, 0, 0, 10, 0, 0, 1], 14); // ... UDP from 10.0.0.1
  frame.set(destination, 14 + 16);
  return frame;
}

describe('on crafted packets (testRun)', () => {
  it('counts packets and bytes per destination and lets every packet through', async () => {
    await using objs = await loadEgress();
    const program = objs.programs.tcEgress;

    expect(program.testRun({ data: ipv4Frame([10, 9, 8, 7], 60) }).retval).toBe(TC_ACT_OK);
    expect(program.testRun({ data: ipv4Frame([10, 9, 8, 7], 100) }).retval).toBe(TC_ACT_OK);
    expect(program.testRun({ data: ipv4Frame([1, 1, 1, 1], 64) }).retval).toBe(TC_ACT_OK);
    const arp = ipv4Frame([1, 1, 1, 1], 64);
    arp.set([0x08, 0x06], 12); // ethertype ARP: not IPv4, not counted
    expect(program.testRun({ data: arp }).retval).toBe(TC_ACT_OK);

    const counts = [...objs.maps.traffic.entries()]
      .map(([destination, traffic]) => [destination.daddr.join('.'), traffic.packets, traffic.bytes])
      .sort();
    expect(counts).toEqual([
      ['1.1.1.1', 1n, 64n],
      ['10.9.8.7', 2n, 160n],
    ]);
  });
});

describe('on a veth pair', () => {
  // Host side 10.212.0.1 (the program on its egress) <-> 10.212.0.2 inside the namespace.
  const ns = `tsbpf-tc-${process.pid}`;
  const hostIf = `tct${process.pid % 100000}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });

  beforeAll(() => {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('addr', 'add', '10.212.0.1/24', 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', '10.212.0.2/24', 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]); // takes the veth pair with it
  });

  it('counts the pings this host sends to the peer, with their size on the wire', async () => {
    await using objs = await loadEgress();
    await using _link = objs.programs.tcEgress.attachTc({ ifname: hostIf, direction: 'egress' });

    execFileSync('ping', ['-c', '3', '-i', '0.2', '-W', '1', '10.212.0.2'], { stdio: 'ignore' });

    // Each echo request: 14 (Ethernet) + 20 (IPv4) + 8 (ICMP) + 56 (ping's default payload).
    const sent = objs.maps.traffic.get({ daddr: Uint8Array.of(10, 212, 0, 2) });
    expect(sent).toEqual({ packets: 3n, bytes: 3n * 98n });
  });
});
