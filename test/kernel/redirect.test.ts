// XDP redirect maps with live traffic: UDP frames sent from a namespace arrive on the host side of
// a veth pair, where an XDP program (generic mode) sends them through a devmap out of a second
// veth pair (seen by a packet socket on its peer), or through a cpumap to a CPU's kthread (seen by
// a UDP socket on the host). An AF_XDP socket goes in and out of an XSKMAP.
import { execFileSync } from 'node:child_process';
import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ArrayMap,
  CollectionSpec,
  CpuMap,
  DevMap,
  openRawSocket,
  type RawSocket,
  UsageError,
  u64,
  XskMap,
} from '../../src/runtime/index.js';
import { createVethPair, type VethPair, vethNames } from '../helpers/netns.js';
import { openXdpSocket } from '../helpers/xsk.js';
import { fixture } from './helpers.js';

const { hostIf, hostIp } = vethNames('rdx', 110);
const tag = process.pid % 100000;
// A second pair, both ends in this namespace and without addresses: the redirect target and its peer.
const outIf = `rdo${tag}`;
const peerIf = `rdp${tag}`;
let veth: VethPair | undefined;
const sh = (...args: string[]) => execFileSync(args[0]!, args.slice(1), { stdio: 'pipe' }).toString();

beforeAll(() => {
  veth = createVethPair('rdx', 110);
  sh('ip', 'link', 'add', outIf, 'type', 'veth', 'peer', 'name', peerIf);
  sh('ip', 'link', 'set', outIf, 'up');
  sh('ip', 'link', 'set', peerIf, 'up');
});
afterAll(() => {
  try {
    sh('ip', 'link', 'del', outIf);
  } catch {
    // never made
  }
  veth?.destroy();
});

const ifindex = (name: string) => Number(sh('cat', `/sys/class/net/${name}/ifindex`).trim());
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Sends one UDP datagram carrying `text` from inside the namespace to the host side, port 9999. */
function udpFromNs(text: string): void {
  veth!.inNs('bash', '-c', `printf '%s' '${text}' > /dev/udp/${hostIp}/9999`);
}

/** The first frame on `socket` within a second whose bytes contain `text`, or undefined. */
async function frameWith(socket: RawSocket, text: string): Promise<Uint8Array | undefined> {
  const needle = Buffer.from(text);
  for (let i = 0; i < 100; i++) {
    for (let f = socket.receive(); f; f = socket.receive()) {
      if (Buffer.from(f).includes(needle)) return f;
    }
    await sleep(10);
  }
  return undefined;
}

/** A UDP socket on the host address that collects what arrives, as text. */
async function udpListener(): Promise<{ socket: Socket; got: string[] }> {
  const socket = createSocket('udp4');
  const got: string[] = [];
  socket.on('message', (m) => got.push(m.toString()));
  await new Promise<void>((resolve) => socket.bind(9999, hostIp, resolve));
  return { socket, got };
}

async function until(check: () => boolean): Promise<boolean> {
  for (let i = 0; i < 100 && !check(); i++) await sleep(10);
  return check();
}

describe('XDP redirect maps', () => {
  it('redirects frames through a devmap out of another device, running the entry program', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('redirect')).load();
    const devmap = new DevMap(coll.map('tx_ports'));
    const seen = new ArrayMap(coll.map('seen'), u64);
    using peer = openRawSocket(peerIf);
    const host = await udpListener();
    try {
      coll.program('xdp_devmap').attachXdp({ ifname: hostIf, mode: 'generic' });

      // No entry yet: bpf_redirect_map falls back to the verdict in its flags (XDP_PASS).
      udpFromNs('before-entry');
      expect(await until(() => host.got.includes('before-entry'))).toBe(true);

      devmap.set(0, { ifname: outIf, program: coll.program('devmap_prog') });
      const entry = devmap.get(0);
      expect(entry?.ifindex).toBe(ifindex(outIf));
      expect(entry?.programId).toBeGreaterThan(0);
      expect([...devmap.keys()]).toEqual([0]);

      udpFromNs('through-devmap');
      const frame = await frameWith(peer, 'through-devmap');
      expect(frame).toBeDefined();
      expect(frame![23]).toBe(17); // IPv4 protocol UDP, unchanged
      expect(host.got).not.toContain('through-devmap');
      expect(seen.get(0)).toBeGreaterThanOrEqual(1n); // the devmap program ran on it
      expect(seen.get(1)).toBe(BigInt(ifindex(outIf))); // as it left through outIf

      expect(devmap.delete(0)).toBe(true);
      expect(devmap.get(0)).toBeUndefined();
      udpFromNs('after-delete');
      expect(await until(() => host.got.includes('after-delete'))).toBe(true);
    } finally {
      host.socket.close();
    }
  });

  it('redirects through a devmap hash by key and through a devmap of bare ifindexes', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('redirect')).load();
    using peer = openRawSocket(peerIf);

    const hash = new DevMap(coll.map('tx_hash'));
    hash.set(42, outIf);
    expect(hash.get(42)).toEqual({ ifindex: ifindex(outIf) });
    expect([...hash.entries()]).toEqual([[42, { ifindex: ifindex(outIf) }]]);
    const hashLink = coll.program('xdp_devmap_hash').attachXdp({ ifname: hostIf, mode: 'generic' });
    udpFromNs('through-devmap-hash');
    expect(await frameWith(peer, 'through-devmap-hash')).toBeDefined();
    hashLink.close();

    const plain = new DevMap(coll.map('tx_plain'));
    plain.set(0, ifindex(outIf));
    expect(plain.get(0)).toEqual({ ifindex: ifindex(outIf) });
    expect(() => plain.set(1, { ifname: outIf, program: coll.program('devmap_prog') })).toThrow(
      /4-byte values hold no devmap program/,
    );
    coll.program('xdp_devmap_plain').attachXdp({ ifname: hostIf, mode: 'generic' });
    udpFromNs('through-devmap-plain');
    expect(await frameWith(peer, 'through-devmap-plain')).toBeDefined();
  });

  it('redirects frames to a CPU through a cpumap, running the entry program there', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('redirect')).load();
    const cpus = new CpuMap(coll.map('cpus'));
    const seen = new ArrayMap(coll.map('seen'), u64);
    const host = await udpListener();
    try {
      cpus.set(0, { qsize: 192, program: coll.program('cpumap_prog') });
      expect(cpus.get(0)?.qsize).toBe(192);
      expect(cpus.get(0)?.programId).toBeGreaterThan(0);
      expect([...cpus.keys()]).toEqual([0]);
      coll.program('xdp_cpumap').attachXdp({ ifname: hostIf, mode: 'generic' });
      udpFromNs('through-cpumap');
      // The kthread of CPU 0 built the skb and passed it up the stack to the socket.
      expect(await until(() => host.got.includes('through-cpumap'))).toBe(true);
      expect(seen.get(2)).toBeGreaterThanOrEqual(1n);
      expect(seen.get(3)).toBe(0n);
      expect(cpus.delete(0)).toBe(true);
      expect(cpus.get(0)).toBeUndefined();
    } finally {
      host.socket.close();
    }
  });

  it('names the mistakes: a map of another type, an unknown device, a bad queue size', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('redirect')).load();
    expect(() => new DevMap(coll.map('cpus'))).toThrow(UsageError);
    expect(() => new CpuMap(coll.map('tx_ports'))).toThrow(/map tx_ports \(devmap\) does not fit CpuMap/);
    expect(() => new DevMap(coll.map('tx_ports')).set(0, 'no-such-if0')).toThrow(
      /network interface no-such-if0 does not exist/,
    );
    expect(() => new CpuMap(coll.map('cpus')).set(0, 0)).toThrow(/queue size 0 is not a positive integer/);
    expect(() => coll.program('devmap_prog').attach()).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: expect.stringContaining('SEC("xdp/devmap") is a devmap program'),
        hint: expect.stringContaining('new DevMap(map).set(key'),
      }),
    );
  });
});

describe('XSKMAP', () => {
  it('redirects frames to an AF_XDP socket bound to the queue', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('redirect')).load();
    const xsks = new XskMap(coll.map('xsks'));
    using xsk = openXdpSocket(hostIf, 0);
    xsks.set(0, xsk);
    coll.program('xdp_xsk').attachXdp({ ifname: hostIf, mode: 'generic' });
    udpFromNs('through-xskmap');
    let frames: Uint8Array[] = [];
    await until(() => {
      frames = [...frames, ...xsk.receive()];
      return frames.some((f) => Buffer.from(f).includes('through-xskmap'));
    });
    expect(frames.some((f) => Buffer.from(f).includes('through-xskmap'))).toBe(true);
    // Out of the map, frames fall back to XDP_PASS and reach the host's stack.
    const host = await udpListener();
    try {
      expect(xsks.delete(0)).toBe(true);
      udpFromNs('after-xsk-delete');
      expect(await until(() => host.got.includes('after-xsk-delete'))).toBe(true);
    } finally {
      host.socket.close();
    }
  });

  it('says which sockets an XSKMAP takes', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('redirect')).load();
    const xsks = new XskMap(coll.map('xsks'));
    // A packet socket is no AF_XDP socket: the kernel refuses it (EOPNOTSUPP), the error says what it takes.
    using packet = openRawSocket(hostIf);
    expect(() => xsks.set(0, packet)).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: expect.stringMatching(/^map xsks: the kernel does not take socket fd \d+ \(EOPNOTSUPP\)$/),
        hint: expect.stringContaining('an XSKMAP takes AF_XDP sockets'),
      }),
    );
  });
});
