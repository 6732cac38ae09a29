// BTF parsing on clang's output for both byte orders (checked against the host C compiler), on
// hand-made blobs for the kinds clang 14 does not emit, and on this machine's vmlinux.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { BTF_KIND, parseBtf, readKernelBtf, readObject } from '../../src/btf/index.js';
import { parseElf } from '../../src/elf/index.js';
import { FormatError, TsbpfError } from '../../src/errors.js';
import { BtfWriter, hostLayout, layoutsObject, layoutsSource } from '../fixtures/btf/helpers.js';

describe('readObject', () => {
  for (const target of ['bpfel', 'bpfeb'] as const) {
    it(`reads maps, programs, variables and line info of a ${target} object`, () => {
      const obj = readObject(layoutsObject(target), `layouts.${target}.o`);
      expect(obj.littleEndian).toBe(target === 'bpfel');
      expect(obj.btf.littleEndian).toBe(target === 'bpfel');
      const btf = obj.btf;

      const maps = new Map(obj.maps.map((m) => [m.name, m]));
      expect([...maps.keys()]).toEqual(['counts', 'events', 'perf', 'inner', 'outer']);
      const counts = maps.get('counts')!;
      expect(counts).toMatchObject({
        type: 1,
        typeName: 'hash',
        maxEntries: 1024,
        keySize: 4,
        valueSize: 184,
        flags: 1,
      });
      expect(btf.describe(counts.keyType!)).toBe('u32');
      expect(btf.resolve(counts.valueType!)).toMatchObject({ kind: 'struct', name: 'tricky' });
      expect(maps.get('events')).toMatchObject({ type: 27, typeName: 'ringbuf', maxEntries: 4096 });
      expect(maps.get('events')!.keyType).toBeUndefined();
      expect(maps.get('perf')).toMatchObject({
        typeName: 'perf_event_array',
        keySize: 4,
        valueSize: 4,
        pinning: 1,
      });
      const outer = maps.get('outer')!;
      expect(outer).toMatchObject({ typeName: 'array_of_maps', maxEntries: 2, keySize: 4 });
      expect(outer.innerMap).toMatchObject({ typeName: 'array', maxEntries: 1, keySize: 4, valueSize: 8 });

      expect(obj.programs.map((p) => [p.name, p.section, p.global])).toEqual([
        ['handle_execve', 'tracepoint/syscalls/sys_enter_execve', true],
        ['xdp_pass', 'xdp', true],
      ]);
      for (const p of obj.programs) {
        expect(p.insnCount).toBeGreaterThan(0);
        expect(btf.type(p.funcType!)).toMatchObject({ kind: 'func', name: p.name });
      }

      const sections = new Map(obj.dataSections.map((s) => [s.name, s]));
      expect(sections.get('.data')!.variables.map((v) => v.name)).toEqual([
        'g_tricky',
        'g_varrec',
        'g_packed',
        'g_top',
      ]);
      const rodata = sections.get('.rodata')!;
      expect(rodata.readonly).toBe(true);
      const minDuration = rodata.variables.find((v) => v.name === 'min_duration')!;
      const view = new DataView(rodata.data.buffer, rodata.data.byteOffset + minDuration.offset, 8);
      expect(view.getBigUint64(0, obj.littleEndian)).toBe(1000n);
      expect(btf.describe(minDuration.type)).toBe('const volatile u64');
      expect(
        sections
          .get('.bss')!
          .variables.map((v) => v.name)
          .sort(),
      ).toEqual(['counter', 'flex_ptr']);
      expect(sections.get('.bss')!.data.every((b) => b === 0)).toBe(true);
      const custom = sections.get('.data.custom')!;
      expect(custom.variables).toMatchObject([{ name: 'custom_value', offset: 0, size: 4 }]);

      // Line info: the instruction that tests min_duration maps back to that source line.
      const source = readFileSync(layoutsSource, 'utf8').split('\n');
      const wanted = source.findIndex((l) => l.includes('min_duration > 5')) + 1;
      const lines = obj.lineInfo!.lines('xdp');
      const hit = lines.find((l) => l.line === wanted)!;
      expect(hit.file).toMatch(/layouts\.bpf\.c$/);
      expect(hit.text).toContain('min_duration > 5');
      expect(hit.column).toBeGreaterThan(0);
      expect(obj.lineInfo!.lookup('xdp', hit.insn)).toEqual(hit);
      expect(obj.lineInfo!.funcs('xdp')).toMatchObject([{ insn: 0, name: 'xdp_pass' }]);
      expect(obj.lineInfo!.sections).toEqual(expect.arrayContaining(['xdp', '.text']));
      expect(obj.lineInfo!.lookup('no-such-section', 0)).toBeUndefined();
    });
  }

  it('rejects objects that are not eBPF or lack BTF', () => {
    const good = layoutsObject('bpfel');
    const x86 = good.slice();
    x86[18] = 62; // EM_X86_64
    expect(() => readObject(x86, 'x86.o')).toThrow(/x86\.o: not an eBPF object/);
    // Rename .BTF to .XTF in the section name table: the object then has no BTF.
    const noBtf = good.slice();
    const at = Buffer.from(noBtf).indexOf('.BTF\0');
    noBtf[at + 1] = 0x58;
    expect(() => readObject(noBtf, 'nobtf.o')).toThrow(/nobtf\.o: the object has no \.BTF section/);
  });

  it('bounds a .bss by what a map value can hold, and allocates its zeros only when read', () => {
    const good = layoutsObject('bpfel');
    const bss = parseElf(good).sections.find((s) => s.name === '.bss')!;
    const withBssSize = (size: bigint) => {
      const bytes = good.slice();
      const view = new DataView(bytes.buffer);
      view.setBigUint64(Number(view.getBigUint64(40, true)) + bss.index * 64 + 32, size, true);
      return bytes;
    };
    // A .bss has no file bytes, so nothing else bounds its size (a fuzz case: 2^48 + 16).
    expect(() => readObject(withBssSize(2n ** 48n + 16n), 'huge.o')).toThrow(
      /huge\.o: \.bss is 281474976710672 bytes, more than a map value can hold/,
    );
    // 4 GiB - 1 is a valid size; reading the object must not allocate it.
    const before = process.memoryUsage().arrayBuffers;
    const big = readObject(withBssSize(0xffffffffn), 'big.o').dataSections.find((s) => s.name === '.bss')!;
    expect(big.size).toBe(0xffffffff);
    expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(2 ** 20);
    const small = readObject(good).dataSections.find((s) => s.name === '.bss')!;
    expect(small.data).toEqual(new Uint8Array(16));
    expect(small.data).toBe(small.data);
  });

  it('agrees with the host C compiler on sizes, offsets and alignment', () => {
    const host = hostLayout();
    for (const target of ['bpfel', 'bpfeb'] as const) {
      const btf = readObject(layoutsObject(target)).btf;
      for (const [key, offset] of host.offsets) {
        const [type, field] = key.split('.') as [string, string];
        const t = btf.get(type, 'struct');
        expect([key, btf.member(t.id, field)!.bitOffset / 8]).toEqual([key, offset]);
      }
      expect(btf.sizeof(btf.get('tricky', 'struct').id)).toBe(host.sizes.get('g_tricky'));
      expect(btf.sizeof(btf.get('varrec', 'struct').id)).toBe(host.sizes.get('g_varrec'));
      expect(btf.sizeof(btf.get('packed', 'struct').id)).toBe(host.sizes.get('g_packed'));
      expect(btf.sizeof(btf.get('top', 'union').id)).toBe(host.sizes.get('g_top'));
      expect(btf.sizeof(btf.get('flexrec', 'struct').id)).toBe(host.sizes.get('flexrec'));
      expect(btf.alignof(btf.get('packed', 'struct').id)).toBe(1);
      expect(btf.alignof(btf.get('tricky', 'struct').id)).toBe(8);
      expect(btf.alignof(btf.get('inner', 'struct').id)).toBe(4);
      // Bitfields (kind_flag encoding) and the promoted anonymous union.
      const tricky = btf.get('tricky', 'struct').id;
      expect(btf.member(tricky, 'bf3')).toMatchObject({ bitOffset: 359, bitSize: 9 });
      expect(btf.member(tricky, 'anon_h')!.path.map((m) => m.name)).toEqual(['', 'anon_h']);
      expect(btf.sizeof(btf.member(tricky, 'matrix')!.type)).toBe(24);
      expect(btf.describe(btf.member(tricky, 'matrix')!.type)).toBe('u32[2][3]');
    }
  });
});

describe('parseBtf', () => {
  function allKinds(le: boolean) {
    const w = new BtfWriter();
    const int = w.add('int', BTF_KIND.int, 0, false, 4, [(1 << 24) | 32]); // 1: signed int
    const u8 = w.add('unsigned char', BTF_KIND.int, 0, false, 1, [8]); // 2
    const ptr = w.add('', BTF_KIND.ptr, 0, false, int); // 3
    const arr = w.add('', BTF_KIND.array, 0, false, 0, [u8, int, 16]); // 4
    // 5: struct with an old-style bitfield (kind_flag 0: width in an INT of 3 bits).
    const bits3 = w.add('', BTF_KIND.int, 0, false, 4, [3]); // 5
    const st = w.add('s', BTF_KIND.struct, 3, false, 24, [
      w.str('a'),
      int,
      0,
      w.str('b'),
      bits3,
      35,
      w.str('c'),
      arr,
      64,
    ]); // 6
    const un = w.add('u', BTF_KIND.union, 2, false, 8, [w.str('x'), int, 0, w.str('y'), ptr, 0]); // 7
    const en = w.add('e', BTF_KIND.enum, 2, true, 4, [w.str('NEG'), -5 >>> 0, w.str('POS'), 7]); // 8
    const fwd = w.add('f', BTF_KIND.fwd, 0, true, 0); // 9
    const td = w.add('td', BTF_KIND.typedef, 0, false, st); // 10
    const vol = w.add('', BTF_KIND.volatile, 0, false, td); // 11
    const cst = w.add('', BTF_KIND.const, 0, false, vol); // 12
    const res = w.add('', BTF_KIND.restrict, 0, false, ptr); // 13
    const proto = w.add('', BTF_KIND.func_proto, 2, false, int, [w.str('p'), ptr, 0, 0]); // 14
    const func = w.add('fn', BTF_KIND.func, 1, false, proto); // 15
    const v = w.add('var', BTF_KIND.var, 0, false, cst, [1]); // 16
    const ds = w.add('.data', BTF_KIND.datasec, 1, false, 24, [v, 0, 24]); // 17
    const fl = w.add('double', BTF_KIND.float, 0, false, 8); // 18
    const tag = w.add('tag', BTF_KIND.decl_tag, 0, false, st, [1]); // 19
    const ttag = w.add('user', BTF_KIND.type_tag, 0, false, int); // 20
    const e64 = w.add('e64', BTF_KIND.enum64, 2, false, 8, [
      w.str('BIG'),
      0,
      1,
      w.str('MAX'),
      0xffffffff,
      0xffffffff,
    ]); // 21
    void [res, func, ds, fl, tag, ttag, e64, fwd, un, en];
    return parseBtf(w.build(le), { file: 'hand.btf' });
  }

  for (const le of [true, false]) {
    it(`decodes every kind (${le ? 'little' : 'big'}-endian)`, () => {
      const btf = allKinds(le);
      expect(btf.littleEndian).toBe(le);
      expect(btf.count).toBe(22);
      expect(btf.type(1)).toEqual({
        id: 1,
        name: 'int',
        kind: 'int',
        size: 4,
        bits: 32,
        offset: 0,
        signed: true,
        char: false,
        bool: false,
      });
      expect(btf.type(4)).toMatchObject({ kind: 'array', type: 2, indexType: 1, nelems: 16 });
      expect(btf.type(6)).toMatchObject({
        kind: 'struct',
        size: 24,
        members: [
          { name: 'a', bitOffset: 0, bitSize: 0 },
          { name: 'b', bitOffset: 35, bitSize: 3 },
          { name: 'c', bitOffset: 64, bitSize: 0 },
        ],
      });
      expect(btf.type(8)).toMatchObject({
        kind: 'enum',
        signed: true,
        values: [
          { name: 'NEG', value: -5 },
          { name: 'POS', value: 7 },
        ],
      });
      expect(btf.type(9)).toMatchObject({ kind: 'fwd', name: 'f', union: true });
      expect(btf.type(14)).toMatchObject({
        kind: 'func_proto',
        returnType: 1,
        params: [
          { name: 'p', type: 3 },
          { name: '', type: 0 },
        ],
      });
      expect(btf.type(15)).toMatchObject({ kind: 'func', name: 'fn', linkage: 'global' });
      expect(btf.type(16)).toMatchObject({ kind: 'var', linkage: 'global', type: 12 });
      expect(btf.type(17)).toMatchObject({ kind: 'datasec', vars: [{ type: 16, offset: 0, size: 24 }] });
      expect(btf.type(18)).toMatchObject({ kind: 'float', size: 8 });
      expect(btf.type(19)).toMatchObject({ kind: 'decl_tag', name: 'tag', componentIndex: 1 });
      expect(btf.type(20)).toMatchObject({ kind: 'type_tag', name: 'user', type: 1 });
      expect(btf.type(21)).toMatchObject({
        kind: 'enum64',
        values: [
          { name: 'BIG', value: 1n << 32n },
          { name: 'MAX', value: (1n << 64n) - 1n },
        ],
      });
      expect(btf.resolve(12)).toMatchObject({ id: 6, name: 's' });
      expect(btf.unqualified(12)).toMatchObject({ kind: 'typedef', name: 'td' });
      expect(btf.sizeof(12)).toBe(24);
      expect(btf.sizeof(3)).toBe(8);
      expect(btf.sizeof(4)).toBe(16);
      expect(btf.alignof(7)).toBe(8);
      expect(btf.find('s')).toHaveLength(1);
      expect(btf.find('td', 'typedef')[0]!.id).toBe(10);
      expect(btf.find('td', 'struct')).toEqual([]);
      expect(() => btf.get('nope', 'struct')).toThrow(TsbpfError);
      expect(() => btf.type(22)).toThrow(TsbpfError);
      expect(() => btf.sizeof(9)).toThrow(TsbpfError);
      expect(btf.describe(14)).toBe('int (*)(int *, void)');
    });
  }

  it('rejects malformed blobs with a FormatError', () => {
    const refs = new BtfWriter();
    refs.add('', BTF_KIND.ptr, 0, false, 5);
    expect(() => parseBtf(refs.build(), { file: 'x.btf' })).toThrow(
      /x\.btf: malformed BTF: a type refers to id 5/,
    );
    const kind = new BtfWriter();
    kind.add('', 25, 0, false, 0);
    expect(() => parseBtf(kind.build())).toThrow(/unknown kind 25/);
    const cycle = new BtfWriter();
    cycle.add('a', BTF_KIND.typedef, 0, false, 2);
    cycle.add('b', BTF_KIND.typedef, 0, false, 1);
    const btf = parseBtf(cycle.build());
    expect(() => btf.resolve(1)).toThrow(FormatError);
    expect(() => btf.sizeof(1)).toThrow(FormatError);
    const bad = new BtfWriter().build();
    bad[0] = 0;
    expect(() => parseBtf(bad)).toThrow(/bad magic/);
    expect(() => parseBtf(new BtfWriter().build(true), { littleEndian: false })).toThrow(
      /little-endian, expected big/,
    );
  });
});

describe('kernel BTF', () => {
  it('reads this machine’s vmlinux and finds known types', () => {
    const start = performance.now();
    const btf = readKernelBtf();
    const parsed = performance.now();
    const task = btf.get('task_struct', 'struct');
    const pid = btf.member(task.id, 'pid')!;
    console.log(
      `vmlinux BTF: ${btf.count} types, parse ${(parsed - start).toFixed(1)} ms, ` +
        `first lookup ${(performance.now() - parsed).toFixed(1)} ms`,
    );
    expect(btf.count).toBeGreaterThan(50_000);
    expect(btf.describe(pid.type)).toBe('pid_t');
    expect(btf.sizeof(pid.type)).toBe(4);
    expect(btf.resolve(pid.type)).toMatchObject({ kind: 'int', name: 'int', signed: true });
    expect(btf.sizeof(task.id)).toBe(task.size);
    expect(btf.member(task.id, 'comm')!.bitOffset % 8).toBe(0);
    expect(btf.get('bpf_map_type', 'enum').values.find((v) => v.name === 'BPF_MAP_TYPE_RINGBUF')!.value).toBe(
      27,
    );
    // Split BTF: a module-like blob on top of vmlinux refers to vmlinux types and strings.
    const split = new BtfWriter();
    split.add('my_ptr', BTF_KIND.typedef, 0, false, task.id);
    const bytes = split.build();
    const sub = parseBtf(shiftStrings(bytes, btf.stringsEnd), { base: btf, file: 'module.btf' });
    expect(sub.firstId).toBe(btf.count);
    expect(sub.resolve(btf.count)).toBe(task);
    expect(sub.find('task_struct', 'struct')).toEqual([task]);
  });
});

/** Rebases a single-blob's string offsets for use as split BTF (strings follow the base's). */
function shiftStrings(bytes: Uint8Array, base: number): Uint8Array {
  const copy = bytes.slice();
  const v = new DataView(copy.buffer);
  // One typedef at 24: name_off is its first word; the table's leading NUL stays (offset 0 = '').
  v.setUint32(24, v.getUint32(24, true) + base, true);
  return copy;
}
