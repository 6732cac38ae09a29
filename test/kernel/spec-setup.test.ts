// Setting up an object before load: every bpf_map__set_* / bpf_program__set_* of libbpf 1.1 through
// MapSpec and ProgramSpec, observed through the kernel's view (/proc/self/fdinfo, kernel/bpf/syscall.c
// bpf_map_show_fdinfo and bpf_prog_show_fdinfo) or through what the programs then do; maps whose C
// declaration leaves a size to user space, refused before load with the line to write.
import {
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type Collection, CollectionSpec, UsageError, VerifierError } from '../../src/runtime/index.js';
import { checkMapSizes } from '../../src/runtime/map-sizes.js';
import { compileFixture } from '../helpers/bpf.js';
import { repoRoot } from '../helpers/paths.js';
import { fixture, getppid, setU32 } from './helpers.js';

/** The kernel's view of a map or program fd: the key/value lines of /proc/self/fdinfo/<fd>. */
function fdinfo(fd: number): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n')) {
    const m = /^(\w+):\s*(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
}

function u32le(n: number): Uint8Array {
  const b = new Uint8Array(4);
  setU32(b, 0, n);
  return b;
}

function only(spec: CollectionSpec, ...programs: string[]): void {
  for (const p of spec.programs.values()) p.autoload = programs.includes(p.name);
}

const BPF_F_NO_PREALLOC = 1 << 0;
const BPF_F_NUMA_NODE = 1 << 2;
const BPF_F_SLEEPABLE = 1 << 4;
const BPF_CGROUP_INET4_CONNECT = 10;
const BPF_CGROUP_INET6_CONNECT = 11;

function sizingSpec(): CollectionSpec {
  const spec = CollectionSpec.fromBytes(fixture('sizing'), { name: 'sizing' });
  setU32(spec.dataSection('.rodata')!, 0, process.pid);
  return spec;
}

describe('maps sized from user space', () => {
  it('a stack trace map declared with only key_size and a hash with max_entries 0 load once sized', async () => {
    const spec = sizingSpec();
    expect(spec.maps.get('stackmap')!.valueSize).toBe(0);
    expect(spec.maps.get('call_counts')!.maxEntries).toBe(0);
    spec.maps.get('stackmap')!.valueSize = 127 * 8;
    spec.maps.get('call_counts')!.maxEntries = 128;
    using coll = await spec.load();
    const link = coll.program('on_getppid').attach();
    for (let i = 0; i < 3; i++) getppid();
    link.close();
    const stacks = coll.map('stackmap');
    expect(fdinfo(stacks.fd).value_size).toBe(String(127 * 8));
    expect(fdinfo(coll.map('call_counts').fd).max_entries).toBe('128');
    const count = coll.map('call_counts').lookup(u32le(process.pid));
    expect(count && new DataView(count.buffer).getBigUint64(0, true)).toBe(3n);
    const id = new DataView(coll.dataSection('.data')!.buffer).getBigInt64(0, true);
    expect(id).toBeGreaterThanOrEqual(0n);
    const frames = stacks.lookup(u32le(Number(id)))!;
    expect(frames.byteLength).toBe(127 * 8);
    // The innermost frame is an address in node (or libc).
    expect(new DataView(frames.buffer).getBigUint64(0, true)).toBeGreaterThan(0n);
  });

  it('refuses an unsized stack trace map before load, with the line to write', async () => {
    const spec = sizingSpec();
    spec.maps.get('call_counts')!.maxEntries = 128;
    const error = await spec.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      'map stackmap: value_size is 0 (BPF_MAP_TYPE_STACK_TRACE needs depth * 8); set it before load: spec.maps.stackmap.valueSize = 127 * 8',
    );
    // Nothing was used up: the spec loads once sized.
    spec.maps.get('stackmap')!.valueSize = 127 * 8;
    using coll = await spec.load();
    expect(coll.mapNames).toContain('stackmap');
  });

  it('refuses a hash with max_entries 0 before load, naming its camelCase key', async () => {
    const spec = sizingSpec();
    spec.maps.get('stackmap')!.valueSize = 127 * 8;
    const error = await spec.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UsageError);
    expect((error as Error).message).toBe(
      'map call_counts: max_entries is 0 (BPF_MAP_TYPE_HASH needs the most entries it may hold); set it before load: spec.maps.callCounts.maxEntries = 1024',
    );
    spec.close();
  });

  it('refuses no map of the existing fixtures, examples and templates', () => {
    const sources = [
      ...['runtime', 'gen', 'realworld'].flatMap((d) =>
        readdirSync(join(repoRoot, 'test/fixtures', d)).map((f) => join('test/fixtures', d, f)),
      ),
      ...readdirSync(join(repoRoot, 'examples')).map((d) => join('examples', d, `${d}.bpf.c`)),
      ...readdirSync(join(repoRoot, 'templates'))
        .filter((d) => existsSync(join(repoRoot, 'templates', d, 'src')))
        .flatMap((d) =>
          readdirSync(join(repoRoot, 'templates', d, 'src')).map((f) => join('templates', d, 'src', f)),
        ),
    ].filter((f) => f.endsWith('.c') && !f.endsWith('sizing.bpf.c') && existsSync(join(repoRoot, f)));
    let checked = 0;
    for (const source of sources) {
      let spec: CollectionSpec;
      try {
        spec = CollectionSpec.fromBytes(compileFixture(join(repoRoot, source)), { name: 'fixture' });
      } catch {
        continue; // compiled or opened only with the flags of its own test (a linked object's half)
      }
      try {
        expect(() => checkMapSizes(spec.maps.values()), source).not.toThrow();
        checked++;
      } finally {
        spec.close();
      }
    }
    expect(checked).toBeGreaterThan(20);
  });
});

describe('map setters, observed by the kernel', () => {
  it('type, key/value size, flags, NUMA node, map_extra, initial value and autocreate', async () => {
    const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(spec);
    const plain = spec.maps.get('plain')!;
    plain.keySize = 8;
    plain.valueSize = 16;
    plain.flags = BPF_F_NO_PREALLOC | BPF_F_NUMA_NODE;
    plain.numaNode = 0;
    spec.maps.get('bloom')!.mapExtra = 3n;
    spec.maps.get('optional_map')!.type = 'percpuArray';
    spec.maps.get('outer')!.autocreate = false;
    const bss = [...spec.maps.values()].find((m) => m.internal && m.name.endsWith('.bss'))!;
    const pattern = new Uint8Array(bss.valueSize).fill(0x5a);
    bss.initialValue = pattern;
    expect(bss.initialValue).toEqual(pattern);
    using coll = await spec.load();
    expect(fdinfo(coll.map('plain').fd)).toMatchObject({
      map_type: '1',
      key_size: '8',
      value_size: '16',
      map_flags: '0x5',
    });
    expect(fdinfo(coll.map('bloom').fd).map_extra).toBe('0x3');
    expect(fdinfo(coll.map('optional_map').fd).map_type).toBe('6');
    expect(coll.mapNames).not.toContain('outer');
    expect(coll.dataSection('.bss')).toEqual(pattern);
  });

  it('a NUMA node the machine lacks reaches the kernel, which refuses it', async () => {
    const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(spec);
    spec.maps.get('outer')!.autocreate = false;
    spec.maps.get('plain')!.flags = BPF_F_NUMA_NODE;
    spec.maps.get('plain')!.numaNode = 1 << 20;
    await expect(spec.load()).rejects.toThrow(/plain/);
  });

  it('autocreate off with the program that uses the map left out', async () => {
    const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(spec, 'keep_all');
    spec.maps.get('optional_map')!.autocreate = false;
    spec.maps.get('outer')!.autocreate = false;
    using coll = await spec.load();
    expect(coll.mapNames).not.toContain('optional_map');
    expect(coll.programNames).toEqual(['keep_all']);
  });

  it('an inner map given for a map of maps without an inner definition', async () => {
    const first = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(first);
    first.maps.get('outer')!.autocreate = false;
    using shapes = await first.load();
    const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(spec);
    spec.maps.get('outer')!.innerMap = shapes.map('inner_shape');
    using coll = await spec.load();
    const outer = coll.map('outer');
    outer.update(u32le(0), u32le(shapes.map('inner_shape').fd));
    // A map of another shape (a hash) is not an inner map of this template.
    expect(() => outer.update(u32le(0), u32le(shapes.map('plain').fd))).toThrow();
  });

  it('a pin path: libbpf pins the map there at load', async () => {
    const dir = `/sys/fs/bpf/tsbpf-spec-setup-${process.pid}`;
    mkdirSync(dir, { mode: 0o700 });
    try {
      const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
      only(spec);
      spec.maps.get('outer')!.autocreate = false;
      spec.maps.get('plain')!.pinPath = join(dir, 'plain');
      expect(spec.maps.get('plain')!.pinPath).toBe(join(dir, 'plain'));
      let coll: Collection | undefined = await spec.load();
      try {
        expect(existsSync(join(dir, 'plain'))).toBe(true);
        expect(statSync(join(dir, 'plain')).isFile()).toBe(true);
      } finally {
        coll.close();
        coll = undefined;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('program setters, observed by the kernel', () => {
  it('type: a socket filter loaded as a tc classifier', async () => {
    const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(spec, 'keep_all');
    spec.maps.get('outer')!.autocreate = false;
    expect(spec.programs.get('keep_all')!.type).toBe(1);
    spec.programs.get('keep_all')!.type = 'schedCls';
    using coll = await spec.load();
    expect(fdinfo(coll.program('keep_all').fd).prog_type).toBe('3');
  });

  it('attach target: a tp_btf program moved from sys_enter to sys_exit', async () => {
    const hits = async (target?: string) => {
      const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
      only(spec, 'on_syscall');
      spec.maps.get('outer')!.autocreate = false;
      setU32(spec.dataSection('.rodata')!, 0, process.pid);
      if (target) spec.programs.get('on_syscall')!.attachTarget = { functionName: target };
      using coll = await spec.load();
      using _link = coll.program('on_syscall').attach();
      const fd = openSync('/dev/null', 'w');
      // write() returns 4242: the argument sys_exit sees; sys_enter sees the syscall number.
      writeSync(fd, new Uint8Array(4242));
      closeSync(fd);
      return new DataView(coll.dataSection('.bss')!.buffer).getBigUint64(0, true);
    };
    expect(await hits()).toBe(0n);
    expect(await hits('sys_exit')).toBeGreaterThanOrEqual(1n);
  });

  it('expected attach type: the IPv6 connect hook may not read user_ip4', async () => {
    const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(spec, 'connect_v4');
    spec.maps.get('outer')!.autocreate = false;
    const prog = spec.programs.get('connect_v4')!;
    expect(prog.expectedAttachType).toBe(BPF_CGROUP_INET4_CONNECT);
    prog.expectedAttachType = BPF_CGROUP_INET6_CONNECT;
    const error = await spec.load().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(VerifierError);
    expect((error as VerifierError).log).toMatch(/invalid bpf_context access/);
  });

  it('flags: BPF_F_SLEEPABLE reaches the kernel, which refuses it for a socket filter', async () => {
    const spec = CollectionSpec.fromBytes(fixture('setters'), { name: 'setters' });
    only(spec, 'keep_all');
    spec.maps.get('outer')!.autocreate = false;
    spec.programs.get('keep_all')!.flags = BPF_F_SLEEPABLE;
    expect(spec.programs.get('keep_all')!.flags).toBe(BPF_F_SLEEPABLE);
    const error = await spec.load().catch((e: unknown) => e);
    expect(String((error as VerifierError).log ?? (error as Error).message)).toMatch(/sleepable/);
  });

  it("log level: level 2 adds the verifier's precision tracking to the log", async () => {
    const log = async (level?: number) => {
      const spec = CollectionSpec.fromBytes(fixture('bad'), { name: 'bad' });
      if (level !== undefined) spec.programs.get('unchecked_lookup')!.logLevel = level;
      const error = await spec.load().catch((e: unknown) => e);
      return (error as VerifierError).log;
    };
    // libbpf retries a failed load at level 1; level 2 adds the precision tracking lines
    // ("mark_precise: frame0: ..." since 6.4, "last_idx N first_idx M" before).
    const precision = /^(mark_precise: |last_idx \d+ first_idx \d+$)/m;
    expect(await log()).not.toMatch(precision);
    expect(await log(2)).toMatch(precision);
  });
});

describe('setters after load', () => {
  it('throw a UsageError once the spec was loaded or closed', async () => {
    const spec = sizingSpec();
    const stackmap = spec.maps.get('stackmap')!;
    const prog = spec.programs.get('on_getppid')!;
    stackmap.valueSize = 127 * 8;
    spec.maps.get('call_counts')!.maxEntries = 16;
    using _coll = await spec.load();
    expect(() => {
      stackmap.valueSize = 8;
    }).toThrow(UsageError);
    expect(() => {
      stackmap.maxEntries = 8;
    }).toThrow(
      /^map stackmap: maxEntries cannot change: its spec was loaded, and libbpf applies it only before load$/,
    );
    expect(() => {
      stackmap.type = 'hash';
    }).toThrow(UsageError);
    expect(() => {
      stackmap.autocreate = false;
    }).toThrow(UsageError);
    expect(() => {
      prog.flags = 1;
    }).toThrow(UsageError);
    expect(() => {
      prog.autoload = false;
    }).toThrow(UsageError);
    const closed = sizingSpec();
    closed.close();
    expect(() => {
      closed.maps.get('stackmap')!.pinPath = '/sys/fs/bpf/x';
    }).toThrow(/its spec was closed/);
  });
});
