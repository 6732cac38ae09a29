// Runs the program in the kernel, two ways. First on crafted packets with testRun (the
// kernel's BPF_PROG_TEST_RUN: no network needed). Then on real traffic: a veth pair between
// this network namespace and a new one, pinged across. Needs root (CAP_BPF and CAP_NET_ADMIN).

import { execFileSync, spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadFirewall } from '../src/firewall.js';

const XDP_DROP = 1;
const XDP_PASS = 2;
const IPPROTO_ICMP = 1;
const IPPROTO_UDP = 17;

/** An Ethernet frame carrying an IPv4 header (and 8 zero payload bytes) from `source`. */
function ipv4Frame(source: number[], protocol: number): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8);
  frame.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00]); // dst MAC, src MAC, IPv4
  frame.set([0x45, 0, 0, 28, 0, 0, 0, 0, 64, protocol, 0, 0], 14); // version/IHL ... protocol
  frame.set(source, 14 + 12);
  frame.set([10, 0, 0, 1], 14 + 16); // destination
  return frame;
}

describe('on crafted packets (testRun)', () => {
  it('counts per source and protocol, passes allowed sources and drops the rest', async () => {
    await using objs = await loadFirewall();
    objs.maps.allowlist.set({ prefixlen: 8, addr: Uint8Array.of(10, 0, 0, 0) }, 1);
    const program = objs.programs.xdpFirewall;

    expect(program.testRun({ data: ipv4Frame([10, 1, 2, 3], IPPROTO_UDP) }).retval).toBe(XDP_PASS);
    expect(program.testRun({ data: ipv4Frame([10, 1, 2, 3], IPPROTO_UDP) }).retval).toBe(XDP_PASS);
    expect(program.testRun({ data: ipv4Frame([192, 168, 7, 7], IPPROTO_ICMP) }).retval).toBe(XDP_DROP);
    const arp = ipv4Frame([192, 168, 7, 7], IPPROTO_ICMP);
    arp.set([0x08, 0x06], 12); // ethertype ARP: not IPv4, passed and not counted
    expect(program.testRun({ data: arp }).retval).toBe(XDP_PASS);

    const counts = [...objs.maps.stats.entries()]
      .map(([flow, packets]) => [flow.saddr.join('.'), flow.protocol, packets])
      .sort();
    expect(counts).toEqual([
      ['10.1.2.3', IPPROTO_UDP, 2n],
      ['192.168.7.7', IPPROTO_ICMP, 1n],
    ]);
  });
});

describe('on a veth pair', () => {
  // Host side 10.211.0.1 (XDP attached here) <-> 10.211.0.2 inside the namespace.
  const ns = `tsbpf-xdp-${process.pid}`;
  const hostIf = `xdpt${process.pid % 100000}`;
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  const pingFromNamespace = () =>
    spawnSync('ip', ['netns', 'exec', ns, 'ping', '-c', '1', '-W', '1', '10.211.0.1'], { stdio: 'ignore' }).status;

  beforeAll(() => {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('addr', 'add', '10.211.0.1/24', 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', '10.211.0.2/24', 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
    ip('-n', ns, 'link', 'set', 'lo', 'up');
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]); // takes the veth pair with it
  });

  it('counts pings from an allowed source and lets them through; drops them once disallowed', async () => {
    await using objs = await loadFirewall();
    const peer = { prefixlen: 24, addr: Uint8Array.of(10, 211, 0, 0) };
    objs.maps.allowlist.set(peer, 1);
    await using _link = objs.programs.xdpFirewall.attachXdp({ ifname: hostIf, mode: 'generic' });

    expect(pingFromNamespace()).toBe(0);
    const flow = { saddr: Uint8Array.of(10, 211, 0, 2), protocol: IPPROTO_ICMP };
    expect(objs.maps.stats.get(flow)).toBe(1n);

    objs.maps.allowlist.delete(peer);
    expect(pingFromNamespace()).not.toBe(0); // the echo request is dropped before the stack sees it
    expect(objs.maps.stats.get(flow)).toBe(2n);
  });
});
