// Runs the program in the kernel, two ways. First on crafted packets with testRun (the
// kernel's BPF_PROG_TEST_RUN: no network needed). Then on real traffic: UDP datagrams sent over
// a veth pair into a new network namespace. Needs root (CAP_BPF and CAP_NET_ADMIN).

import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
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
  const port = 40000 + (process.pid % 20000);
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

  it('counts the datagrams this host sends to the peer, with their size on the wire', async () => {
    await using objs = await loadEgress();
    await using _link = objs.programs.tcEgress.attachTc({ ifname: hostIf, direction: 'egress' });

    // A receiver inside the namespace: says "ready", then exits after three datagrams.
    const receiver = spawn(
      'ip',
      [
        'netns',
        'exec',
        ns,
        process.execPath,
        '-e',
        `const s = require('node:dgram').createSocket('udp4');
         let n = 0;
         s.on('message', () => { if (++n === 3) s.close(); });
         s.bind(${port}, '10.212.0.2', () => console.log('ready'));`,
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    await once(receiver.stdout, 'data');
    const payload = Buffer.alloc(100, 'x');
    const socket = createSocket('udp4');
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve, reject) =>
        socket.send(payload, port, '10.212.0.2', (error) => (error ? reject(error) : resolve())),
      );
    }
    socket.close();
    const [code] = await once(receiver, 'exit'); // all three arrived, so all three went out
    expect(code).toBe(0);

    // Each datagram: 14 (Ethernet) + 20 (IPv4) + 8 (UDP) + 100 (payload) = 142 bytes.
    const sent = objs.maps.traffic.get({ daddr: Uint8Array.of(10, 212, 0, 2) });
    expect(sent).toEqual({ packets: 3n, bytes: 3n * 142n });
  });
});
