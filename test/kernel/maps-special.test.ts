// Map kinds whose keys or values are kernel objects, or that have no keys, against the kernel: a
// python child makes the calls the fixture's programs run on (only the child's tgid counts), and
// each storage map is written by a program and read by user space through its fd key, and the
// other way round.
import { createSocket } from 'node:dgram';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { release } from 'node:os';
import { join } from 'node:path';
import koffi from 'koffi';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readKernelBtf } from '../../src/btf/kernel.js';
import { MAP_TYPE_NAMES } from '../../src/btf/maps.js';
import { enumConstants } from '../../src/doctor/features.js';
import {
  array,
  BloomFilter,
  CgrpStorage,
  type Collection,
  CollectionSpec,
  InodeStorage,
  MapType,
  openPidfd,
  QueueMap,
  ReuseportSockArray,
  SkStorage,
  StructOpsMap,
  TaskStorage,
  u32,
  u64,
} from '../../src/runtime/index.js';
import { tempDir } from '../helpers/paths.js';
import { Child, createCgroup, stealFd, unmountCgroup2 } from './cgroup-helpers.js';
import { fixture } from './helpers.js';

/** Whether this kernel has BPF_MAP_TYPE_CGRP_STORAGE (Linux 6.2+), from its BTF. */
const hasCgrpStorage = enumConstants(readKernelBtf()).has('BPF_MAP_TYPE_CGRP_STORAGE');

/** The first map type this kernel lacks: one past the last of its BTF enum bpf_map_type. */
function firstMissingMapType(): number {
  const btf = readKernelBtf();
  for (let id = 1; id < btf.count; id++) {
    const t = btf.type(id);
    // __MAX_BPF_MAP_TYPE (Linux 6.8+) is that count already; older kernels' enums end without it.
    if (t.kind === 'enum' && t.name === 'bpf_map_type')
      return Math.max(...t.values.filter((v) => !v.name.startsWith('__MAX')).map((v) => Number(v.value))) + 1;
  }
  throw new Error('the kernel BTF has no enum bpf_map_type');
}

/** struct counter { __u64 calls, tag, seen_tag; } as [calls, tag, seenTag]. */
const counter = array(u64, 3);

let group: ReturnType<typeof createCgroup>;
const children: Child[] = [];

beforeAll(() => {
  group = createCgroup('maps');
});
afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});
afterAll(() => {
  group.remove();
  unmountCgroup2();
});

/** The fixture loaded, with a child (in the test's cgroup) whose calls the programs count. */
async function setup(): Promise<{ coll: Collection; child: Child; control: DataView }> {
  const spec = CollectionSpec.fromBytes(fixture('special-maps'));
  if (!hasCgrpStorage) {
    spec.maps.get('cgroup_counts')!.autocreate = false;
    spec.programs.get('count_cgroup')!.autoload = false;
  }
  const coll = await spec.load();
  const child = new Child();
  children.push(child);
  await child.enter(group.path);
  const bss = coll.dataSection('.bss')!;
  const control = new DataView(bss.buffer, bss.byteOffset, bss.byteLength);
  control.setUint32(0, child.pid, true); // control.target_tgid
  return { coll, child, control };
}

// struct control's fields (u32 each), by offset.
const BLOOM_QUERY = 4;
const BLOOM_ANSWER = 8;
const POPPED_FIFO = 16;
const POPPED_LIFO = 20;
const CHOSEN_SOCKET = 24;

describe('BloomFilter', () => {
  it('holds what a program pushed and what user space pushed; a program peeks at both', async () => {
    const { coll, child, control } = await setup();
    await using _ = coll;
    const bloom = new BloomFilter(coll.map('seen_tgids'), u32);
    coll.program('push_values').attach();
    expect(bloom.has(child.pid)).toBe(false);
    await child.value('os.getppid()');
    expect(bloom.has(child.pid)).toBe(true);
    expect(bloom.has(0xdead_beef)).toBe(false);

    bloom.push(4242);
    expect(bloom.has(4242)).toBe(true);
    control.setUint32(BLOOM_QUERY, 4242, true);
    await child.value('os.getppid()');
    expect(control.getUint32(BLOOM_ANSWER, true)).toBe(1);
    control.setUint32(BLOOM_QUERY, 0xdead_beef, true);
    await child.value('os.getppid()');
    expect(control.getUint32(BLOOM_ANSWER, true)).toBe(2);
  });
});

describe('QueueMap on QUEUE and STACK', () => {
  it('pops what the program pushed, FIFO and LIFO; the program pops what user space pushed', async () => {
    const { coll, child, control } = await setup();
    await using _ = coll;
    const fifo = new QueueMap(coll.map('fifo'), u32);
    const lifo = new QueueMap(coll.map('lifo'), u32);
    coll.program('push_values').attach();
    await child.value('for _ in range(3): os.getppid()');
    expect(fifo.peek()).toBe(1);
    expect(lifo.peek()).toBe(3);
    expect([fifo.pop(), fifo.pop(), fifo.pop(), fifo.pop()]).toEqual([1, 2, 3, undefined]);
    expect([lifo.pop(), lifo.pop(), lifo.pop(), lifo.pop()]).toEqual([3, 2, 1, undefined]);

    coll.program('pop_values').attach();
    for (const v of [10, 20]) {
      fifo.push(v);
      lifo.push(v);
    }
    await child.value('os.getpgid(0)');
    expect(control.getUint32(POPPED_FIFO, true)).toBe(10);
    expect(control.getUint32(POPPED_LIFO, true)).toBe(20);
    expect(fifo.pop()).toBe(20);
    expect(lifo.pop()).toBe(10);

    // Full (max_entries 8): push throws, unless told to overwrite the oldest.
    for (let i = 0; i < 8; i++) fifo.push(100 + i);
    expect(() => fifo.push(200)).toThrow(/E2BIG|full/);
    fifo.push(200, { overwrite: true });
    expect(fifo.pop()).toBe(101);
  });
});

describe('TaskStorage and CgrpStorage', () => {
  it('a program counts in the caller task storage; user space reads and writes it by pidfd and pid', async () => {
    const { coll, child } = await setup();
    await using _ = coll;
    const tasks = new TaskStorage(coll.map('task_counts'), counter);
    coll.program('count_task').attach();
    const pidfd = openPidfd(child.pid);
    try {
      expect(tasks.get(pidfd)).toBeUndefined();
      await child.value('for _ in range(3): os.getsid(0)');
      expect(tasks.get(pidfd)).toEqual([3n, 0n, 0n]);
      expect(tasks.get({ pid: child.pid })).toEqual([3n, 0n, 0n]);
      expect(tasks.get({ pid: process.pid })).toBeUndefined();

      // User space writes; the program's next call adds to it and copies the tag.
      tasks.set(pidfd, [100n, 7n, 0n]);
      await child.value('os.getsid(0)');
      expect(tasks.get(pidfd)).toEqual([101n, 7n, 7n]);
      expect(tasks.delete({ pid: child.pid })).toBe(true);
      expect(tasks.has(pidfd)).toBe(false);
    } finally {
      closeSync(pidfd);
    }
  });

  it('a program counts in the caller cgroup storage; user space reads and writes it by path and fd', async (ctx) => {
    if (!hasCgrpStorage) {
      ctx.skip(
        'BPF_MAP_TYPE_CGRP_STORAGE is Linux 6.2+; this kernel lacks it (the next test checks the load error)',
      );
    }
    const { coll, child } = await setup();
    await using _ = coll;
    const cgroups = new CgrpStorage(coll.map('cgroup_counts'), counter);
    coll.program('count_cgroup').attach();
    expect(cgroups.get(group.path)).toBeUndefined();
    await child.value('for _ in range(3): os.getsid(0)');
    expect(cgroups.get(group.path)).toEqual([3n, 0n, 0n]);
    const cgroupFd = openSync(group.path, 'r');
    try {
      cgroups.set(cgroupFd, [200n, 9n, 0n]);
      await child.value('os.getsid(0)');
      expect(cgroups.get(cgroupFd)).toEqual([201n, 9n, 9n]);
    } finally {
      closeSync(cgroupFd);
    }
    expect(cgroups.delete(group.path)).toBe(true);
    expect(() => cgroups.get('/tmp')).toThrow(
      /map cgroup_counts: get: cgroup \/tmp: not a cgroup v2 directory/,
    );
  });

  it('a map type the kernel lacks fails the load with a NotSupportedError naming the map, its type and the fix', async () => {
    // CGRP_STORAGE before Linux 6.2 (the 6.1 guest of the kernel matrix); where the kernel has it,
    // the first type past the kernel's own stands in (INSN_ARRAY, Linux 6.19, on 6.12 and 6.18).
    const spec = CollectionSpec.fromBytes(fixture('special-maps'));
    const type = hasCgrpStorage ? firstMissingMapType() : MapType.cgrpStorage;
    spec.maps.get('cgroup_counts')!.type = type;
    // The release that added each type the test may use, as the user is told.
    const since: Record<number, string> = { [MapType.cgrpStorage]: '6.2', 34: '6.19' };
    const named = MAP_TYPE_NAMES[type] && `BPF_MAP_TYPE_${MAP_TYPE_NAMES[type]?.toUpperCase()}`;
    const error = await spec.load().then(
      () => undefined,
      (e: unknown) => e as { name: string; message: string; hint?: string },
    );
    expect(error).toMatchObject({
      name: 'NotSupportedError',
      message: `load BPF object: map cgroup_counts: this kernel has no ${named ? `${named} maps (map type ${type})` : `map type ${type}`}`,
    });
    expect(error?.hint).toContain(
      named
        ? `${named} needs Linux ${since[type]} or newer (this kernel is ${release()}); `
        : `no Linux release tsbpf knows has map type ${type}`,
    );
    expect(error?.hint).toContain(
      "or load without the map: turn its autocreate off before load (spec.maps.get('cgroup_counts').autocreate = false;",
    );
  });

  it('a map refused for another reason stays the kernel error', async () => {
    // A bloom filter with 16 hash functions (map_extra over 15): EINVAL for a type the kernel has.
    const spec = CollectionSpec.fromBytes(fixture('special-maps'));
    if (!hasCgrpStorage) spec.maps.get('cgroup_counts')!.autocreate = false;
    if (!hasCgrpStorage) spec.programs.get('count_cgroup')!.autoload = false;
    spec.maps.get('seen_tgids')!.mapExtra = 16n;
    await expect(spec.load()).rejects.toMatchObject({
      name: 'SystemCallError',
      message: expect.stringMatching(/map 'seen_tgids': failed to create: (Invalid argument|-EINVAL)/),
    });
  });

  it('names a pid that is not there', async () => {
    const { coll } = await setup();
    await using _ = coll;
    const tasks = new TaskStorage(coll.map('task_counts'), counter);
    expect(() => tasks.get({ pid: 4_194_305 })).toThrow(
      expect.objectContaining({ name: 'UsageError', message: 'map task_counts: get: no process 4194305' }),
    );
  });
});

describe('SkStorage', () => {
  it('a cgroup_skb program counts a socket sends in its storage; user space reads and writes it by socket fd', async () => {
    const { coll, child } = await setup();
    await using _ = coll;
    const sockets = new SkStorage(coll.map('socket_counts'), counter);
    coll.program('count_socket').attachCgroup(group.path);
    const fileno = (await child.value(
      "sk = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)\nfor _ in range(3): sk.sendto(b'x', ('127.0.0.1', 9))\nresult = sk.fileno()",
    )) as number;
    const pidfd = openPidfd(child.pid);
    const fd = stealFd(pidfd, fileno); // the child's socket, as an fd of this process
    closeSync(pidfd);
    try {
      expect(sockets.get(fd)).toEqual([3n, 0n, 0n]);
      sockets.set(fd, [50n, 5n, 0n]);
      await child.value("sk.sendto(b'x', ('127.0.0.1', 9))");
      expect(sockets.get(fd)).toEqual([51n, 5n, 5n]);
      expect(sockets.delete(fd)).toBe(true);
      expect(sockets.get(fd)).toBeUndefined();
    } finally {
      closeSync(fd);
    }
  });
});

describe('InodeStorage', () => {
  it('keeps a value per inode: set through one fd of a file, read through another', async () => {
    // Programs reach inode storage only from LSM hooks (bpf_inode_storage_get), which this kernel
    // refuses to load (the qemu matrix runs them); the user-space side is the same everywhere.
    const { coll } = await setup();
    await using _ = coll;
    const inodes = new InodeStorage(coll.map('inode_counts'), counter);
    const dir = tempDir('inode-storage');
    writeFileSync(join(dir, 'a'), 'a');
    writeFileSync(join(dir, 'b'), 'b');
    const a1 = openSync(join(dir, 'a'), 'r');
    const a2 = openSync(join(dir, 'a'), 'r');
    const b = openSync(join(dir, 'b'), 'r');
    try {
      expect(inodes.get(a1)).toBeUndefined();
      inodes.set(a1, [1n, 2n, 3n]);
      expect(inodes.get(a2)).toEqual([1n, 2n, 3n]);
      expect(inodes.get(b)).toBeUndefined();
      expect(() => inodes.set(a2, [0n, 0n, 0n], 'noexist')).toThrow(/EEXIST/);
      expect(inodes.delete(a2)).toBe(true);
      expect(inodes.get(a1)).toBeUndefined();
      expect(() => inodes.get(-1)).toThrow(/file fd -1 is not a file descriptor/);
    } finally {
      for (const fd of [a1, a2, b]) closeSync(fd);
    }
  });
});

const libc = koffi.load('libc.so.6');
const socket = libc.func('int socket(int domain, int type, int protocol)');
const setsockopt = libc.func('int setsockopt(int fd, int level, int name, const void *value, uint32 len)');
const getsockopt = libc.func(
  'int getsockopt(int fd, int level, int name, _Out_ void *value, _Inout_ uint32 *len)',
);
const bind = libc.func('int bind(int fd, const void *addr, uint32 len)');
const recv = libc.func('intptr_t recv(int fd, _Out_ void *buf, size_t len, int flags)');

/** A non-blocking UDP socket with SO_REUSEPORT bound to 127.0.0.1:port. */
function reuseportSocket(port: number): number {
  const fd = socket(2 /* AF_INET */, 2 /* SOCK_DGRAM */ | 0o4000 /* SOCK_NONBLOCK */, 0) as number;
  expect(setsockopt(fd, 1, 15 /* SO_REUSEPORT */, new Int32Array([1]), 4)).toBe(0);
  const addr = new Uint8Array(16);
  const view = new DataView(addr.buffer);
  view.setUint16(0, 2, true);
  view.setUint16(2, port, false);
  addr.set([127, 0, 0, 1], 4);
  expect(bind(fd, addr, 16)).toBe(0);
  return fd;
}

/** Datagrams waiting on a non-blocking socket (read and counted). */
function drain(fd: number): number {
  let n = 0;
  while ((recv(fd, new Uint8Array(64), 64, 0) as number) >= 0) n++;
  return n;
}

describe('ReuseportSockArray', () => {
  it('an sk_reuseport program sends each datagram to the socket at the index it picks', async () => {
    const { coll, control } = await setup();
    await using _ = coll;
    const sockets = new ReuseportSockArray(coll.map('reuseport_sockets'));
    const port = 40_000 + (process.pid % 20_000);
    const fds = [reuseportSocket(port), reuseportSocket(port)];
    try {
      sockets.set(0, fds[0]!);
      sockets.set(1, fds[1]!);
      const cookie = new BigUint64Array(1);
      getsockopt(fds[1], 1, 57 /* SO_COOKIE */, cookie, [8]);
      expect(sockets.cookie(1)).toBe(cookie[0]);
      expect(() => coll.program('select_socket').attach()).toThrow(
        expect.objectContaining({
          name: 'UsageError',
          hint: expect.stringContaining('attachReuseport(socketFd)'),
        }),
      );
      expect(() => coll.program('push_values').attachReuseport(fds[0]!)).toThrow(
        /program push_values is not an sk_reuseport program/,
      );
      coll.program('select_socket').attachReuseport(fds[0]!);

      const client = createSocket('udp4');
      const send = (n: number) =>
        Promise.all(
          Array.from(
            { length: n },
            () => new Promise((resolve) => client.send('x', port, '127.0.0.1', resolve)),
          ),
        );
      try {
        control.setUint32(CHOSEN_SOCKET, 1, true);
        await send(4);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect([drain(fds[0]!), drain(fds[1]!)]).toEqual([0, 4]);
        control.setUint32(CHOSEN_SOCKET, 0, true);
        await send(3);
        await new Promise((resolve) => setTimeout(resolve, 50));
        expect([drain(fds[0]!), drain(fds[1]!)]).toEqual([3, 0]);
      } finally {
        client.close();
      }
      expect(sockets.delete(1)).toBe(true);
      expect(sockets.cookie(1)).toBeUndefined();
    } finally {
      for (const fd of fds) closeSync(fd);
    }
  });
});

describe('StructOpsMap', () => {
  const available = () => readFileSync('/proc/sys/net/ipv4/tcp_available_congestion_control', 'utf8');

  it('registers a TCP congestion control made of BPF programs; sockets that pick it run them', async () => {
    await using coll = await CollectionSpec.fromBytes(fixture('struct-ops')).load();
    const ops = new StructOpsMap(coll.map('tsbpf_cc'), coll);
    expect(available()).not.toContain('tsbpf_cc');
    const link = ops.attach();
    expect(available()).toContain('tsbpf_cc');
    expect(() => ops.attach()).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: 'map tsbpf_cc: attach struct_ops: it is attached already (EBUSY)',
      }),
    );
    // A second copy of the object registers the same name: the kernel refuses it.
    {
      await using twin = await CollectionSpec.fromBytes(fixture('struct-ops')).load();
      expect(() => new StructOpsMap(twin.map('tsbpf_cc'), twin).attach()).toThrow(
        expect.objectContaining({
          name: 'UsageError',
          message: 'map tsbpf_cc: attach struct_ops: the kernel already has ops of that name (EEXIST)',
        }),
      );
    }

    const child = new Child();
    children.push(child);
    const server = await listen();
    try {
      const script = `s = socket.socket(); s.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b'tsbpf_cc'); s.connect(('127.0.0.1', ${server.port})); s.sendall(b'x' * 100000); result = s.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16).rstrip(b'\\0').decode(); s.close()`;
      expect(await child.value(script)).toBe('tsbpf_cc');
      const bss = coll.dataSection('.bss')!;
      expect(new DataView(bss.buffer, bss.byteOffset).getBigUint64(0, true)).toBeGreaterThanOrEqual(1n);
    } finally {
      server.close();
    }
    link.close();
    expect(available()).not.toContain('tsbpf_cc');
  });
});

/** A TCP server on 127.0.0.1 that reads and drops what it gets. */
async function listen(): Promise<{ port: number; close(): void }> {
  const server = createServer((s) => {
    s.resume();
    s.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}
