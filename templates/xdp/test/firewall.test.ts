// Runs the program in the kernel, two ways. First on crafted packets with testRun (the
// kernel's BPF_PROG_TEST_RUN: no network needed). Then on real traffic: UDP datagrams sent over
// a veth pair from a new network namespace. Needs root (CAP_BPF and CAP_NET_ADMIN).

import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { on } from 'node:events';
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
  const port = 40000 + (process.pid % 20000);
  const ip = (...args: string[]) => execFileSync('ip', args, { stdio: 'pipe' });
  /** Sends one UDP datagram from inside the namespace to the host side. */
  const sendFromNamespace = (message: string) =>
    execFileSync('ip', [
      'netns',
      'exec',
      ns,
      process.execPath,
      '-e',
      `const s = require('node:dgram').createSocket('udp4');
       s.send(${JSON.stringify(message)}, ${port}, '10.211.0.1', (e) => { if (e) throw e; s.close(); });`,
    ]);

  beforeAll(() => {
    ip('netns', 'add', ns);
    ip('link', 'add', hostIf, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns);
    ip('addr', 'add', '10.211.0.1/24', 'dev', hostIf);
    ip('link', 'set', hostIf, 'up');
    ip('-n', ns, 'addr', 'add', '10.211.0.2/24', 'dev', 'eth0');
    ip('-n', ns, 'link', 'set', 'eth0', 'up');
  });
  afterAll(() => {
    spawnSync('ip', ['netns', 'del', ns]); // takes the veth pair with it
  });

  it('counts packets from an allowed source and lets them through; drops them once disallowed', async () => {
    await using objs = await loadFirewall();
    const peer = { prefixlen: 24, addr: Uint8Array.of(10, 211, 0, 0) };
    objs.maps.allowlist.set(peer, 1);
    await using _link = objs.programs.xdpFirewall.attachXdp({ ifname: hostIf, mode: 'generic' });

    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(port, '10.211.0.1', resolve));
    const received: string[] = [];
    const arrivals = on(socket, 'message');
    const nextMessage = async () => {
      const { value } = await arrivals.next();
      received.push(String(value[0]));
    };
    const flow = { saddr: Uint8Array.of(10, 211, 0, 2), protocol: IPPROTO_UDP };

    sendFromNamespace('first');
    await nextMessage(); // allowed: it arrives, and was counted on the way
    expect(objs.maps.stats.get(flow)).toBe(1n);

    objs.maps.allowlist.delete(peer);
    sendFromNamespace('dropped');
    // The count goes up before the verdict: wait for it, the verdict is then made.
    while (objs.maps.stats.get(flow) !== 2n) await new Promise((resolve) => setTimeout(resolve, 10));

    objs.maps.allowlist.set(peer, 1);
    sendFromNamespace('third');
    await nextMessage();
    socket.close();

    expect(received).toEqual(['first', 'third']); // the second never reached the socket
    expect(objs.maps.stats.get(flow)).toBe(3n);
  });
});
