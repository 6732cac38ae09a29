// Program kinds with attach points of their own (fixture kinds.bpf.c): sk_lookup and
// flow_dissector on a network namespace, syscall programs run with testRun, raw_tp.w and tp_btf
// by attach(), lsm, kprobe.multi and uprobe.multi, netfilter links. Where this kernel or libbpf
// lacks one, the test checks the user's error and skips naming what is missing; the kernel matrix
// (test/kernels/run) runs this file on 6.1 and 6.12, where lsm and kprobe.multi (6.12) run.
import { execFileSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { closeSync, openSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { readObject } from '../../src/btf/index.js';
import { libbpf, libbpfVersion } from '../../src/runtime/ffi/libbpf.js';
import { ArrayMap, type Collection, CollectionSpec, u64 } from '../../src/runtime/index.js';
import { tempDir } from '../helpers/paths.js';
import { fixture, getppid, intFunctions, kernelLinksOf, unlinkFiles } from './helpers.js';

const bytes = fixture('kinds');
const object = readObject(bytes, 'kinds.bpf.o');

enum Counter {
  skLookup = 0,
  rawTpW = 1,
  tpBtf = 2,
  lsm = 3,
  kprobeMulti = 4,
  uprobeMulti = 5,
  nfSeen = 6,
  flow = 7,
}

/** A spec of kinds.bpf.c with only `programs` autoloaded and its .rodata targets set. */
function open(programs: string[], rodata: { port?: number; ino?: bigint } = {}): CollectionSpec {
  const spec = CollectionSpec.fromBytes(bytes, { name: 'kinds' });
  for (const [name, p] of spec.programs) p.autoload = programs.includes(name);
  const section = spec.dataSection('.rodata')!;
  const view = new DataView(section.buffer, section.byteOffset, section.byteLength);
  const offset = (name: string) => {
    const v = object.dataSections.find((s) => s.name === '.rodata')?.variables.find((x) => x.name === name);
    if (!v) throw new Error(`kinds.bpf.c: no ${name} in .rodata`);
    return v.offset;
  };
  view.setUint32(offset('target_pid'), process.pid, true);
  view.setUint32(offset('target_port'), rodata.port ?? 0, true);
  view.setBigUint64(offset('target_ino'), rodata.ino ?? 0n, true);
  return spec;
}

const counter = (coll: Collection, which: Counter) => new ArrayMap(coll.map('counts'), u64).get(which);

/** A port nothing listens on (bound once, then freed). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Connects to 127.0.0.1:port, sends `text`, and resolves when connected (or rejects). */
function connectAndSend(port: number, text: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = createConnection({ port, host: '127.0.0.1' }, () => {
      socket.end(text);
      resolve();
    });
    socket.on('error', reject);
  });
}

describe('sk_lookup', () => {
  it('steers connections for a port to a listening socket from a sockmap, until the link closes', async () => {
    const port = await freePort();
    const server: Server = createServer();
    const received: string[] = [];
    server.on('connection', (s) => {
      let data = '';
      s.on('data', (d) => (data += d));
      s.on('end', () => received.push(data));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      await using coll = await open(['steer'], { port }).load();
      const fd = (server as unknown as { _handle: { fd: number } })._handle.fd;
      // The sockmap takes the socket's fd as its value (the kernel stores the socket).
      const value = new Uint8Array(8);
      new DataView(value.buffer).setUint32(0, fd, true);
      coll.map('listeners').update(new Uint8Array(4), value);
      const link = coll.program('steer').attachNetns();
      expect(kernelLinksOf(process.pid).length).toBeGreaterThan(0);
      await connectAndSend(port, 'hello through sk_lookup');
      await new Promise((r) => setTimeout(r, 100));
      expect(received).toEqual(['hello through sk_lookup']);
      expect(counter(coll, Counter.skLookup)).toBe(1n);
      link.close();
      await expect(connectAndSend(port, 'nobody')).rejects.toThrow(/ECONNREFUSED/);
      expect(counter(coll, Counter.skLookup)).toBe(1n);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });

  it('names what attachNetns takes when given something else', async () => {
    await using coll = await open(['steer', 'sum']).load();
    expect(() => coll.program('steer').attachNetns('/nonexistent/ns')).toThrow(
      'program steer: cannot open network namespace /nonexistent/ns',
    );
    expect(() => coll.program('steer').attachNetns('/proc/self/ns/mnt')).toThrow(
      'program steer: /proc/self/ns/mnt is not a network namespace (EINVAL)',
    );
    expect(() => coll.program('sum').attachNetns()).toThrow(
      'program sum: attachNetns() attaches sk_lookup and flow_dissector programs; SEC("syscall") is neither',
    );
    expect(() => coll.program('steer').attach()).toThrow(
      'program steer: SEC("sk_lookup") names no network namespace, so attach() cannot attach it',
    );
  });
});

/** Ethernet + IPv4 + UDP: 10.1.2.3:1234 -> 10.4.5.6:5678. */
function udpFrame(): Uint8Array {
  const f = new Uint8Array(64);
  const v = new DataView(f.buffer);
  v.setUint16(12, 0x0800);
  f[14] = 0x45;
  v.setUint16(16, 50);
  f[22] = 64;
  f[23] = 17;
  f.set([10, 1, 2, 3], 26);
  f.set([10, 4, 5, 6], 30);
  v.setUint16(34, 1234);
  v.setUint16(36, 5678);
  return f;
}

describe('flow_dissector', () => {
  it('fills the flow keys of a test-run packet (BPF_PROG_TEST_RUN returns struct bpf_flow_keys)', async () => {
    await using coll = await open(['dissect']).load();
    const { retval, data } = coll.program('dissect').testRun({ data: udpFrame() });
    expect(retval).toBe(0); // BPF_OK
    expect(data.byteLength).toBe(56); // sizeof(struct bpf_flow_keys)
    const keys = new DataView(data.buffer, data.byteOffset, data.byteLength);
    expect(keys.getUint16(0, true)).toBe(14); // nhoff
    expect(keys.getUint16(2, true)).toBe(34); // thoff
    expect(keys.getUint16(4, true)).toBe(0x0800); // addr_proto
    expect(data[9]).toBe(17); // ip_proto
    expect(keys.getUint16(10)).toBe(0x0800); // n_proto (network order)
    expect(keys.getUint16(12)).toBe(1234); // sport
    expect(keys.getUint16(14)).toBe(5678); // dport
    expect([...data.subarray(16, 20)]).toEqual([10, 1, 2, 3]);
    expect([...data.subarray(20, 24)]).toEqual([10, 4, 5, 6]);
  });

  it('attaches to a namespace of its own, runs on its packets, and a second one is refused', async () => {
    const ns = `tsbpf-fd-${process.pid}`;
    execFileSync('ip', ['netns', 'add', ns]);
    try {
      const inNs = (script: string) => execFileSync('ip', ['netns', 'exec', ns, 'sh', '-c', script]);
      // RPS on lo makes the receive path hash each packet, which is where the dissector runs.
      inNs('ip link set lo up && echo 1 > /sys/class/net/lo/queues/rx-0/rps_cpus');
      await using coll = await open(['dissect']).load();
      await using other = await open(['dissect']).load();
      const link = coll.program('dissect').attachNetns(`/run/netns/${ns}`);
      expect(() => other.program('dissect').attachNetns(`/run/netns/${ns}`)).toThrow(
        `program dissect: network namespace /run/netns/${ns} already has a flow dissector program (E2BIG)`,
      );
      inNs('ping -c 3 -i 0.2 -q 127.0.0.1 >/dev/null');
      const seen = counter(coll, Counter.flow)!;
      expect(seen).toBeGreaterThanOrEqual(3n);
      link.close();
      inNs('ping -c 2 -i 0.2 -q 127.0.0.1 >/dev/null');
      expect(counter(coll, Counter.flow)).toBe(seen);
      other.program('dissect').attachNetns(`/run/netns/${ns}`).close();
    } finally {
      execFileSync('ip', ['netns', 'del', ns]);
    }
  });
});

describe('syscall programs', () => {
  it('run with testRun: ctx in, the struct the program wrote and its return value out', async () => {
    await using coll = await open(['sum']).load();
    const ctx = new Uint8Array(16);
    const view = new DataView(ctx.buffer);
    view.setInt32(0, 6, true);
    view.setInt32(4, 7, true);
    const result = coll.program('sum').testRun({ ctx });
    expect(result.retval).toBe(42);
    expect(new DataView(result.ctx!.buffer).getBigInt64(8, true)).toBe(13n);
    expect(view.getBigInt64(8, true)).toBe(0n); // the caller's bytes are left as they were
    expect(() => coll.program('sum').attach()).toThrow(
      'program sum: SEC("syscall") is a program that runs when called, not on an event, so attach() cannot attach it',
    );
  });
});

describe('raw_tp.w and tp_btf', () => {
  it('attach with attach() and count this process getppid calls until closed', async () => {
    await using coll = await open(['raw_w_enter', 'btf_enter']).load();
    const links = [coll.program('raw_w_enter').attach(), coll.program('btf_enter').attach()];
    for (let i = 0; i < 3; i++) getppid();
    for (const link of links) link.close();
    getppid();
    expect(counter(coll, Counter.rawTpW)).toBe(3n);
    expect(counter(coll, Counter.tpBtf)).toBe(3n);
  });
});

describe('lsm', () => {
  it('refuses to open one file while attached, or says why this kernel cannot load it', async (ctx) => {
    const path = join(tempDir('tsbpf-lsm-'), 'guarded');
    writeFileSync(path, 'secret');
    const spec = open(['refuse_open'], { ino: BigInt(statSync(path).ino) });
    const loaded = await spec.load().catch((e: unknown) => e as Error);
    if (loaded instanceof Error) {
      expect(loaded.constructor.name).toBe('NotSupportedError');
      expect(loaded.message).toBe(
        'load program refuse_open: the kernel refused the lsm program (SEC("lsm/file_open")) with EPERM ' +
          'although the process has CAP_BPF and CAP_PERFMON: this kernel does not run BPF trampolines',
      );
      return ctx.skip('BPF trampolines: this kernel refuses lsm programs (EPERM at load)');
    }
    await using coll = loaded;
    const link = coll.program('refuse_open').attach();
    expect(() => openSync(path, 'r')).toThrow(/EPERM/);
    expect(counter(coll, Counter.lsm)).toBe(1n);
    link.close();
    closeSync(openSync(path, 'r'));
    unlinkSync(path);
  });
});

describe('kprobe.multi', () => {
  it('counts do_unlinkat calls through one link by name and by pattern, or says the kernel has none', async (ctx) => {
    await using coll = await open(['count_kmulti']).load();
    const program = coll.program('count_kmulti');
    let link: ReturnType<typeof program.attachKprobeMulti>;
    try {
      link = program.attachKprobeMulti({ symbols: ['do_unlinkat'] });
    } catch (e) {
      expect((e as Error).constructor.name).toBe('NotSupportedError');
      expect((e as Error).message).toBe(
        'program count_kmulti: attach kprobe.multi: this kernel has no kprobe.multi links (EOPNOTSUPP)',
      );
      expect((e as { hint: string }).hint).toContain('CONFIG_FPROBE');
      return ctx.skip('kprobe.multi: this kernel is built without CONFIG_FPROBE (EOPNOTSUPP)');
    }
    const dir = tempDir('tsbpf-kmulti-');
    unlinkFiles(dir, 3);
    link.close();
    const byPattern = program.attachKprobeMulti({ pattern: 'do_unlinkat' });
    unlinkFiles(dir, 2);
    byPattern.close();
    unlinkFiles(dir, 1);
    expect(counter(coll, Counter.kprobeMulti)).toBe(5n);
    expect(() => program.attachKprobeMulti({ pattern: 'no_such_function_xyz*' })).toThrow(
      'program count_kmulti: attach kprobe.multi: no kernel function matches pattern no_such_function_xyz*',
    );
  });

  it('names both ways when neither pattern nor symbols is given', async () => {
    await using coll = await open(['count_kmulti']).load();
    expect(() => coll.program('count_kmulti').attachKprobeMulti({})).toThrow(
      'program count_kmulti: attach kprobe.multi: name the functions with either a pattern or a non-empty symbols list',
    );
    expect(() => coll.program('count_kmulti').attach()).toThrow(
      'program count_kmulti: SEC("kprobe.multi") names no kernel functions, so attach() cannot attach it',
    );
  });
});

const hasUprobeMulti = libbpf().bpf_program__attach_uprobe_multi !== undefined;

describe('uprobe.multi', () => {
  it.skipIf(hasUprobeMulti)('with libbpf < 1.3, the load says which libbpf it needs', async () => {
    const [major, minor] = libbpfVersion();
    await expect(open(['count_umulti']).load()).rejects.toThrow(
      `load program count_umulti: SEC("uprobe.multi") needs libbpf >= 1.3 (older ones do not know the section); this process loaded libbpf ${major}.${minor}`,
    );
    // Typed by hand, as libbpf 1.3 types it, it loads; attaching it still needs libbpf 1.3.
    const spec = open(['count_umulti']);
    spec.programs.get('count_umulti')!.type = 2; // BPF_PROG_TYPE_KPROBE
    spec.programs.get('count_umulti')!.expectedAttachType = 48; // BPF_TRACE_UPROBE_MULTI
    await using coll = await spec.load();
    expect(() =>
      coll.program('count_umulti').attachUprobeMulti({ binary: 'libc.so.6', pattern: 'getppid' }),
    ).toThrow(
      `program count_umulti: attach uprobe.multi: attachUprobeMulti() needs libbpf >= 1.3 (bpf_program__attach_uprobe_multi); this process loaded libbpf ${major}.${minor}`,
    );
  });

  it('counts calls of many functions through one link, by name and by pattern', async (ctx) => {
    if (!hasUprobeMulti) {
      return ctx.skip(
        `uprobe.multi: libbpf ${libbpfVersion().join('.')} has no bpf_program__attach_uprobe_multi (libbpf >= 1.3; run with TSBPF_LIBBPF naming a newer one)`,
      );
    }
    // A library of our own for symbols: libbpf 1.5.0 and 1.7.0 resolve no symbol of Debian 12's libc.so.6
    // by name (pattern matching finds them), measured with libbpf's own C API too.
    const { path: library, fns } = intFunctions('multi', {
      tsbpf_multi_a: 'return x + 1;',
      tsbpf_multi_b: 'return x * 2;',
    });
    const [a, b] = [fns.tsbpf_multi_a!, fns.tsbpf_multi_b!];
    await using coll = await open(['count_umulti']).load();
    const program = coll.program('count_umulti');
    const bySymbols = program.attachUprobeMulti({
      binary: library,
      symbols: ['tsbpf_multi_a', 'tsbpf_multi_b'],
      pid: process.pid,
    });
    a(1);
    a(2);
    b(3);
    bySymbols.close();
    const byPattern = program.attachUprobeMulti({ binary: library, pattern: 'tsbpf_multi_*' });
    a(1);
    b(1);
    byPattern.close();
    const inLibc = program.attachUprobeMulti({ binary: 'libc.so.6', pattern: 'getppi?' });
    getppid();
    inLibc.close();
    a(1);
    getppid();
    expect(counter(coll, Counter.uprobeMulti)).toBe(6n);
    expect(() => program.attachUprobeMulti({ binary: library, pattern: 'no_such_function_xyz*' })).toThrow(
      `program count_umulti: attach uprobe.multi: no function of ${library} matches pattern no_such_function_xyz*`,
    );
  });
});

/** Sends n UDP datagrams to 127.0.0.1:port and returns how many a socket there received. */
async function udpRoundTrip(
  port: number,
  receiver: ReturnType<typeof createSocket>,
  n: number,
): Promise<number> {
  let got = 0;
  const onMessage = () => got++;
  receiver.on('message', onMessage);
  const sender = createSocket('udp4');
  for (let i = 0; i < n; i++) {
    await new Promise<void>((resolve, reject) =>
      sender.send('x', port, '127.0.0.1', (e) => (e ? reject(e) : resolve())),
    );
  }
  await new Promise((r) => setTimeout(r, 150));
  sender.close();
  receiver.off('message', onMessage);
  return got;
}

describe('netfilter links', () => {
  let receiver: ReturnType<typeof createSocket> | undefined;
  afterAll(() => receiver?.close());

  it('count and drop UDP to one port on the input hook, with libbpf 1.1 too', async (ctx) => {
    receiver = createSocket('udp4');
    await new Promise<void>((resolve) => receiver!.bind(0, '127.0.0.1', resolve));
    const port = receiver.address().port;
    const loaded = await open(['nf_count', 'nf_drop'], { port })
      .load()
      .catch((e: unknown) => e as Error);
    if (loaded instanceof Error) {
      expect(loaded.constructor.name).toBe('NotSupportedError');
      expect(loaded.message).toMatch(/^load program nf_(count|drop): this kernel has no netfilter programs/);
      return ctx.skip('netfilter programs: this kernel has no BPF_PROG_TYPE_NETFILTER (Linux 6.4+)');
    }
    await using coll = loaded;
    const count = coll.program('nf_count').attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: -100 });
    expect(await udpRoundTrip(port, receiver, 3)).toBe(3);
    expect(counter(coll, Counter.nfSeen)).toBe(3n);
    const drop = coll.program('nf_drop').attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: -50 });
    expect(await udpRoundTrip(port, receiver, 2)).toBe(0);
    expect(counter(coll, Counter.nfSeen)).toBe(5n);
    drop.close();
    count.close();
    expect(await udpRoundTrip(port, receiver, 1)).toBe(1);
    expect(counter(coll, Counter.nfSeen)).toBe(5n);
  });

  it('names a wrong hook, a wrong program and attach() without a hook', async (ctx) => {
    const loaded = await open(['nf_count', 'sum'])
      .load()
      .catch((e: unknown) => e as Error);
    if (loaded instanceof Error)
      return ctx.skip('netfilter programs: this kernel has no BPF_PROG_TYPE_NETFILTER (Linux 6.4+)');
    await using coll = loaded;
    const nf = coll.program('nf_count');
    expect(() => nf.attachNetfilter({ pf: 'ipv4', hooknum: 'inptu' as 'input', priority: 0 })).toThrow(
      'attachNetfilter: hooknum inptu is not a known hooknum',
    );
    expect(() => coll.program('sum').attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: 0 })).toThrow(
      'program sum: attach netfilter: attachNetfilter() attaches SEC("netfilter") programs; SEC("syscall") is not one',
    );
    const first = nf.attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: -77 });
    await using again = await open(['nf_count']).load();
    expect(() =>
      again.program('nf_count').attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: -77 }),
    ).toThrow(
      'program nf_count: attach netfilter (pf 2, hook 1, priority -77): another BPF program holds this hook at this priority (EBUSY)',
    );
    first.close();
    again.program('nf_count').attachNetfilter({ pf: 'ipv4', hooknum: 'input', priority: -77 }).close();
    expect(() => nf.attach()).toThrow(
      'program nf_count: SEC("netfilter") names no netfilter hook, so attach() cannot attach it',
    );
  });
});
