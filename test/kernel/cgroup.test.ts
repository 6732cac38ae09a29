// cgroup programs against the kernel: each kind attached to a cgroup v2 the test creates, with
// python children that move themselves into it (and twins outside it that must see no effect).
import { execFileSync } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CgroupArray, type Collection, CollectionSpec, UsageError } from '../../src/runtime/index.js';
import { Child, createCgroup, unmountCgroup2 } from './cgroup-helpers.js';
import { fixture, getppid } from './helpers.js';

let group: ReturnType<typeof createCgroup>;
let server: Server;
let serverPort = 0;
/** What the server received, by connection. */
const received: string[] = [];
const children: Child[] = [];

beforeAll(async () => {
  group = createCgroup('cgroup');
  server = createServer((socket) => {
    let data = '';
    socket.on('data', (chunk) => {
      data += chunk;
      socket.write('pong');
    });
    socket.on('end', () => received.push(data));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverPort = (server.address() as { port: number }).port;
});

afterEach(() => {
  for (const child of children.splice(0)) child.kill();
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  group.remove();
  unmountCgroup2();
});

/** A child in the test's cgroup (inside: true) or left where it is. */
async function child(inside = true): Promise<Child> {
  const c = new Child();
  children.push(c);
  if (inside) await c.enter(group.path);
  return c;
}

interface Knobs {
  denyType?: number;
  fromPort?: number;
  toPort?: number;
  dropEgress?: boolean;
}

/** Loads the fixture with its .rodata knobs (struct knobs: u32, u16, u16, u32). */
async function load(knobs: Knobs = {}): Promise<Collection> {
  const spec = CollectionSpec.fromBytes(fixture('cgroup'));
  const rodata = spec.dataSection('.rodata')!;
  const view = new DataView(rodata.buffer, rodata.byteOffset, rodata.byteLength);
  view.setUint32(0, knobs.denyType ?? 0, true);
  view.setUint16(4, knobs.fromPort ?? 0, true);
  view.setUint16(6, knobs.toPort ?? 0, true);
  view.setUint32(8, knobs.dropEgress ? 1 : 0, true);
  return spec.load();
}

const counterNames = [
  'ingressPackets',
  'egressPackets',
  'deniedSockets',
  'rewrittenConnects',
  'activeEstablished',
  'passiveEstablished',
  'underCgroupCalls',
] as const;

/** The fixture's .bss counters (struct counters: u64 each). */
function counters(coll: Collection): Record<(typeof counterNames)[number], number> {
  const bss = coll.dataSection('.bss')!;
  const view = new DataView(bss.buffer, bss.byteOffset, bss.byteLength);
  const out = {} as Record<(typeof counterNames)[number], number>;
  counterNames.forEach((name, i) => {
    out[name] = Number(view.getBigUint64(i * 8, true));
  });
  return out;
}

/** Python: a TCP exchange with the test's server on `port` (ping, then the pong read back). */
const exchange = (port: number) =>
  `s = socket.create_connection(('127.0.0.1', ${port}), timeout=5); s.sendall(b'ping'); result = s.recv(4).decode(); s.close()`;

/** bpftool's view of what is attached to the test's cgroup: the program names. */
function attachedNames(): string[] {
  const out = execFileSync('bpftool', ['cgroup', 'show', group.path, '-j'], { encoding: 'utf8' }).trim();
  return out ? (JSON.parse(out) as Array<{ name: string }>).map((p) => p.name) : [];
}

describe('cgroup_skb', () => {
  it('counts the packets of processes in the cgroup, ingress and egress, and no others', async () => {
    await using coll = await load();
    coll.program('count_ingress').attachCgroup(group.path);
    coll.program('count_egress').attachCgroup(group.path);
    expect(attachedNames().sort()).toEqual(['count_egress', 'count_ingress']);

    const outside = await child(false);
    expect(await outside.value(exchange(serverPort))).toBe('pong');
    expect(counters(coll).egressPackets).toBe(0);
    expect(counters(coll).ingressPackets).toBe(0);

    const inside = await child();
    expect(await inside.value(exchange(serverPort))).toBe('pong');
    // At least SYN, ACK, data and FIN out; SYN-ACK, the data's ACK and pong in.
    expect(counters(coll).egressPackets).toBeGreaterThanOrEqual(3);
    expect(counters(coll).ingressPackets).toBeGreaterThanOrEqual(2);
  });

  it('drops egress packets: a UDP send from the cgroup fails with EPERM, the same send outside works', async () => {
    await using coll = await load({ dropEgress: true });
    coll.program('count_egress').attachCgroup(group.path);
    const send = `s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b'x', ('127.0.0.1', 9)); s.close()`;
    expect((await (await child(false)).run(send)).error).toBeUndefined();
    expect(await (await child()).run(send)).toMatchObject({ error: 'PermissionError', errno: 1 });
    expect(counters(coll).egressPackets).toBe(1);
  });

  it('stops when its link closes', async () => {
    await using coll = await load();
    const link = coll.program('count_egress').attachCgroup(group.path);
    const inside = await child();
    await inside.value(exchange(serverPort));
    const seen = counters(coll).egressPackets;
    expect(seen).toBeGreaterThan(0);
    link.close();
    expect(attachedNames()).toEqual([]);
    await inside.value(exchange(serverPort));
    expect(counters(coll).egressPackets).toBe(seen);
  });
});

describe('cgroup/sock_create', () => {
  it('refuses UDP sockets in the cgroup with EPERM; TCP sockets and processes outside are untouched', async () => {
    await using coll = await load({ denyType: 2 /* SOCK_DGRAM */ });
    coll.program('deny_socket').attachCgroup(group.path);
    const udp = 's = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.close()';
    const tcp = 's = socket.socket(socket.AF_INET, socket.SOCK_STREAM); s.close()';
    const inside = await child();
    expect(await inside.run(udp)).toMatchObject({ error: 'PermissionError', errno: 1 });
    expect(await inside.run(tcp)).toEqual({ result: null });
    expect(await (await child(false)).run(udp)).toEqual({ result: null });
    expect(counters(coll).deniedSockets).toBe(1);
  });
});

describe('cgroup/connect4', () => {
  it("rewrites a connect to 127.0.0.1:port to the server's port", async () => {
    const unused = serverPort === 65_000 ? 65_001 : 65_000;
    await using coll = await load({ fromPort: unused, toPort: serverPort });
    coll.program('redirect_connect').attachCgroup(group.path);
    const inside = await child();
    expect(await inside.value(exchange(unused))).toBe('pong');
    expect(counters(coll).rewrittenConnects).toBe(1);
    // Outside the cgroup nothing listens there.
    expect(await (await child(false)).run(exchange(unused))).toMatchObject({
      error: 'ConnectionRefusedError',
    });
  });

  it('refuses the connect with EPERM when there is no port to rewrite to', async () => {
    await using coll = await load({ fromPort: serverPort, toPort: 0 });
    coll.program('redirect_connect').attachCgroup(group.path);
    expect(await (await child()).run(exchange(serverPort))).toMatchObject({
      error: 'PermissionError',
      errno: 1,
    });
    expect(await (await child(false)).value(exchange(serverPort))).toBe('pong');
  });
});

describe('sockops', () => {
  it('counts the established callbacks of connections from the cgroup', async () => {
    await using coll = await load();
    coll.program('count_established').attachCgroup(group.path);
    await (await child(false)).value(exchange(serverPort));
    expect(counters(coll).activeEstablished).toBe(0);
    const inside = await child();
    await inside.value(exchange(serverPort));
    await inside.value(exchange(serverPort));
    // Active: the child's connects. The server's accepted sockets belong to the test's cgroup.
    expect(counters(coll).activeEstablished).toBe(2);
    expect(counters(coll).passiveEstablished).toBe(0);
  });

  it('attach() names attachCgroup, since SEC("sockops") names no cgroup', async () => {
    await using coll = await load();
    expect(() => coll.program('count_established').attach()).toThrow(
      expect.objectContaining({ name: 'UsageError', hint: expect.stringContaining('attachCgroup(') }),
    );
  });
});

describe('CgroupArray and bpf_current_task_under_cgroup', () => {
  const getppidTimes = (n: number) => `for _ in range(${n}): os.getppid()`;

  it('counts the calls of tasks in the cgroup set by path, then by fd, and stops when deleted', async () => {
    await using coll = await load();
    const watched = new CgroupArray(coll.map('watched'));
    expect(watched.length).toBe(1);
    coll.program('count_under_cgroup').attach();
    const inside = await child();
    const outside = await child(false);

    await inside.value(getppidTimes(3));
    expect(counters(coll).underCgroupCalls).toBe(0); // the slot is empty

    watched.set(0, group.path);
    await inside.value(getppidTimes(5));
    await outside.value(getppidTimes(4));
    getppid();
    expect(counters(coll).underCgroupCalls).toBe(5);

    expect(watched.delete(0)).toBe(true);
    await inside.value(getppidTimes(2));
    expect(counters(coll).underCgroupCalls).toBe(5);

    const fd = openSync(group.path, 'r');
    try {
      watched.set(0, fd);
    } finally {
      closeSync(fd); // the map holds its own reference
    }
    await inside.value(getppidTimes(2));
    expect(counters(coll).underCgroupCalls).toBe(7);
  });

  it('names a path that is not a cgroup v2 directory, and a bad index', async () => {
    await using coll = await load();
    const watched = new CgroupArray(coll.map('watched'));
    expect(() => watched.set(0, '/nonexistent/group')).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message: 'map watched: index 0: cgroup /nonexistent/group: no such directory',
        hint: expect.stringContaining('mkdir'),
      }),
    );
    expect(() => watched.set(0, '/tmp')).toThrow(/cgroup \/tmp: not a cgroup v2 directory/);
    expect(() => watched.set(1, group.path)).toThrow(/index 1 is outside 0..0/);
  });
});

describe('attachCgroup errors', () => {
  it('names a missing directory, a directory that is not a cgroup, and a program that is not a cgroup kind', async () => {
    await using coll = await load();
    const program = coll.program('count_egress');
    let error: unknown;
    try {
      program.attachCgroup('/sys/fs/cgroup/no-such-group');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(UsageError);
    expect(error).toMatchObject({
      message:
        'program count_egress: attach to cgroup: cgroup /sys/fs/cgroup/no-such-group: no such directory',
      hint: expect.stringMatching(/mkdir .*mount -t cgroup2/),
    });
    expect(() => program.attachCgroup('/tmp')).toThrow(/cgroup \/tmp: not a cgroup v2 directory/);
    expect(() => coll.program('count_under_cgroup').attachCgroup(group.path)).toThrow(
      expect.objectContaining({
        name: 'UsageError',
        message:
          'program count_under_cgroup: SEC("tp/syscalls/sys_enter_getppid") does not attach to a cgroup',
      }),
    );
  });

  it('names a cgroup the user may not open as a PermissionError (tried as nobody)', async () => {
    await using coll = await load();
    const dir = `${group.path}/private`;
    execFileSync('mkdir', ['-p', '-m', '700', dir]);
    process.seteuid!(65534); // drops the effective capabilities (CAP_DAC_OVERRIDE) until restored
    let error: unknown;
    try {
      coll.program('count_egress').attachCgroup(dir);
    } catch (e) {
      error = e;
    } finally {
      process.seteuid!(0);
      execFileSync('rmdir', [dir]);
    }
    expect(error).toMatchObject({
      name: 'PermissionError',
      message: `program count_egress: attach to cgroup: cgroup ${dir}: cannot open the directory (EACCES)`,
      hint: expect.stringContaining('ls -ld'),
    });
  });
});
