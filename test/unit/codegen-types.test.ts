// Generated types and codecs against the host C compiler and clang's own initialised data, for
// both byte orders; variable-length records; and the generated code under tsc --strict.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BTF_KIND, type ObjectInfo, parseBtf, readKernelBtf, readObject } from '../../src/btf/index.js';
import { copyBytes, type RecordCodec } from '../../src/codegen/codec.js';
import { emitTypes, emitTypesModule } from '../../src/codegen/types.js';
import { TsbpfError } from '../../src/errors.js';
import {
  BtfWriter,
  codecModule,
  hostLayout,
  importGenerated,
  layoutsObject,
} from '../fixtures/btf/helpers.js';

const GLOBALS = ['g_tricky', 'g_varrec', 'g_packed', 'g_top'] as const;

function variable(obj: ObjectInfo, name: string) {
  for (const s of obj.dataSections) {
    const v = s.variables.find((x) => x.name === name);
    if (v) return { ...v, bytes: s.data.subarray(v.offset, v.offset + v.size) };
  }
  throw new Error(`no variable ${name}`);
}

function generate(obj: ObjectInfo, endianness: 'host' | 'little' | 'big' = 'host') {
  const roots = GLOBALS.map((g) => variable(obj, g).type);
  roots.push(obj.btf.get('flexrec', 'struct').id);
  return emitTypesModule(obj.btf, roots, { endianness });
}

type Codecs = Record<string, RecordCodec<Record<string, unknown>>> & { Color: Record<string, number> };

const expectedTricky = {
  flag: 0xa5,
  big: 0x1234567890abcdefn,
  neg: -1234567890123456789n,
  sneg: -123456,
  sshort: -2,
  cname: 'hi',
  ubytes: Uint8Array.from([1, 2, 250, 255]),
  sbytes: Int8Array.from([-1, 2, -128]),
  bf1: 5,
  bf2: 100,
  bf3: -200,
  bf4: 0xabcdef1234n,
  in: { a: 0xbeef, b: 7, c: 0xdeadbeef },
  arr: [
    { a: 1, b: 2, c: 3 },
    { a: 4, b: 5, c: 6 },
  ],
  matrix: [Uint32Array.from([1, 2, 3]), Uint32Array.from([4, 5, 6])],
  names: ['ab', 'cde'],
  num: { i: 0x3f800000, f: 1, bytes: Uint8Array.from([0, 0, 0x80, 0x3f]) },
  anon_u: 0x01020304,
  point: { x: 9, y: 10 },
  ok: true,
  d: -2.5,
  f: 0.25,
  ptr: 0n,
  shorts: Int16Array.from([-300, 300]),
  longs: BigUint64Array.from([0xffffffffffffffffn, 42n]),
};

describe('generated codecs', () => {
  it('decode the host compiler’s bytes to the initialiser’s values, and encode them back', async () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    const mod = (await importGenerated(generate(obj))) as Codecs;
    const host = hostLayout();
    const Tricky = mod.Tricky!;
    const hostTricky = host.bytes.get('g_tricky')!;
    expect(Tricky.size).toBe(hostTricky.length);
    const value = Tricky.decode(hostTricky);
    expect(value).toMatchObject(expectedTricky);
    expect(value.anon_h).toEqual(Uint16Array.from([0x0304, 0x0102]));
    expect(value.col).toBe(mod.Color.BLUE);
    expect(Tricky.encode(value)).toEqual(hostTricky);

    expect(mod.Varrec!.decode(host.bytes.get('g_varrec')!)).toEqual({
      pid: 42,
      len: 3,
      comm: 'cat',
      data: Uint16Array.from([10, 20, 30, 0, 0, 0, 0, 0]),
    });
    expect(mod.Packed!.size).toBe(7);
    expect(mod.Packed!.decode(host.bytes.get('g_packed')!)).toEqual({ a: 1, b: 0x11223344, c: 0x5566 });
    expect(mod.Packed!.encode({ a: 1, b: 0x11223344, c: 0x5566 })).toEqual(host.bytes.get('g_packed'));
    expect(mod.Top!.decode(host.bytes.get('g_top')!)).toEqual({
      whole: 0x1122334455667788n,
      parts: { lo: 0x55667788, hi: 0x11223344 },
    });
    for (const g of ['g_varrec', 'g_top'] as const) {
      const codec = g === 'g_varrec' ? mod.Varrec! : mod.Top!;
      expect(codec.encode(codec.decode(host.bytes.get(g)!))).toEqual(host.bytes.get(g));
    }
  });

  for (const target of ['bpfel', 'bpfeb'] as const) {
    it(`decode clang's ${target} .data bytes (codecs in that byte order)`, async () => {
      const obj = readObject(layoutsObject(target), `layouts.${target}.o`);
      const mod = (await importGenerated(generate(obj, target === 'bpfel' ? 'little' : 'big'))) as Codecs;
      const bytes = variable(obj, 'g_tricky').bytes;
      const value = mod.Tricky!.decode(bytes);
      const numBytes = target === 'bpfel' ? [0, 0, 0x80, 0x3f] : [0x3f, 0x80, 0, 0];
      expect(value).toMatchObject({
        ...expectedTricky,
        num: { ...expectedTricky.num, bytes: Uint8Array.from(numBytes) },
      });
      // encode(decode(b)) equals b (the initialised data has zero padding).
      expect(mod.Tricky!.encode(value)).toEqual(bytes);
      for (const [g, codec] of [
        ['g_varrec', mod.Varrec!],
        ['g_packed', mod.Packed!],
        ['g_top', mod.Top!],
      ] as const) {
        const b = variable(obj, g).bytes;
        expect(codec.encode(codec.decode(b))).toEqual(b);
      }
    });
  }

  it('round-trip random bytes except in padding', async () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    const mod = (await importGenerated(generate(obj))) as Codecs;
    const Packed = mod.Packed!;
    for (let seed = 1; seed < 50; seed++) {
      const b = Uint8Array.from({ length: Packed.size }, (_, i) => (seed * 31 + i * 17) & 0xff);
      expect(Packed.encode(Packed.decode(b))).toEqual(b);
    }
    // struct inner has one byte of padding at offset 3: zeroed on encode, everything else kept.
    const Inner = mod.Inner!;
    const b = Uint8Array.from([1, 2, 3, 0xff, 5, 6, 7, 8]);
    expect(Inner.encode(Inner.decode(b))).toEqual(Uint8Array.from([1, 2, 3, 0, 5, 6, 7, 8]));
  });

  it('decode variable-length records', async () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    const mod = (await importGenerated(generate(obj))) as Codecs;
    const Varrec = mod.Varrec!;
    const full = hostLayout().bytes.get('g_varrec')!;
    expect(Varrec.minSize).toBe(16);
    // Header plus three of eight u16 elements.
    const { value, length } = Varrec.decodeWithLength(full.subarray(0, 16 + 6));
    expect(length).toBe(22);
    expect(value).toEqual({ pid: 42, len: 3, comm: 'cat', data: Uint16Array.from([10, 20, 30]) });
    // An odd byte of a partial element is not consumed.
    expect(Varrec.decodeWithLength(full.subarray(0, 16 + 5)).length).toBe(20);
    expect(Varrec.decode(full.subarray(0, 16)).data).toEqual(new Uint16Array(0));
    expect(Varrec.decodeWithLength(full).length).toBe(32);
    // Too short for the fixed part: a clear TsbpfError.
    expect(() => Varrec.decode(full.subarray(0, 12))).toThrow(TsbpfError);
    expect(() => Varrec.decode(full.subarray(0, 12))).toThrow(/struct varrec.*16 bytes/);
    // A flexible array member takes what the record holds.
    const Flexrec = mod.Flexrec!;
    expect(Flexrec.size).toBe(4);
    const rec = Uint8Array.from([3, 0, 0, 0, 1, 0, 2, 0, 3, 0]);
    expect(Flexrec.decodeWithLength(rec)).toEqual({
      value: { n: 3, vals: Uint16Array.from([1, 2, 3]) },
      length: 10,
    });
    // Decoding at an offset within a larger buffer.
    const shifted = new Uint8Array(40);
    shifted.set(full, 8);
    expect(Varrec.decodeWithLength(shifted, 8).value).toEqual(Varrec.decode(full));
  });

  it('read records in place through views: every field as decode reads it, byte arrays aliased', async () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    const mod = (await importGenerated(generate(obj))) as Codecs;
    const host = hostLayout();
    for (const [name, global] of [
      ['Tricky', 'g_tricky'],
      ['Varrec', 'g_varrec'],
      ['Packed', 'g_packed'],
      ['Top', 'g_top'],
    ] as const) {
      const codec = mod[name]!;
      const record = host.bytes.get(global)!;
      // The record 5 bytes into a larger buffer, as in a ring: views read it where it lies.
      const ring = new Uint8Array(record.length + 16).fill(0xee);
      ring.set(record, 5);
      const view = codec.createView!().$at(ring, 5, record.length) as unknown as Record<string, unknown>;
      const value = codec.decode(record);
      for (const key of Object.keys(value)) expect([name, key, view[key]]).toEqual([name, key, value[key]]);
      const copy = (view as unknown as { $decode(): unknown }).$decode();
      expect(copy).toEqual(value);
      // $decode() copies; a byte-array getter is a window on the record itself.
      if (name === 'Tricky') {
        const ubytes = view.ubytes as Uint8Array;
        expect(ubytes.buffer).toBe(ring.buffer);
        ring[ubytes.byteOffset] = 99;
        expect((view.ubytes as Uint8Array)[0]).toBe(99);
        expect((copy as { ubytes: Uint8Array }).ubytes[0]).toBe(1);
      }
    }
    // A variable-length record: the trailing array holds what the record's length allows.
    const varrec = hostLayout().bytes.get('g_varrec')!;
    const short = mod.Varrec!.createView!().$at(varrec, 0, 16 + 6) as unknown as Record<string, unknown>;
    expect(short.data).toEqual(Uint16Array.from([10, 20, 30]));
    expect((short as unknown as { $decode(): unknown }).$decode()).toEqual(
      mod.Varrec!.decodeWithLength(varrec.subarray(0, 22)).value,
    );
    const flex = mod.Flexrec!.createView!().$at(Uint8Array.from([2, 0, 0, 0, 7, 0, 9, 0]), 0, 8);
    expect((flex as unknown as { vals: Uint16Array }).vals).toEqual(Uint16Array.from([7, 9]));
  });

  it('names a view getter for a C field called constructor without declaring a constructor', async () => {
    const w = new BtfWriter();
    const u32 = w.add('unsigned int', BTF_KIND.int, 0, false, 4, [32]);
    const odd = w.add('odd', BTF_KIND.struct, 2, false, 8, [
      w.str('constructor'),
      u32,
      0,
      w.str('x'),
      u32,
      32,
    ]);
    const code = emitTypesModule(parseBtf(w.build(), { file: 'hand.btf' }), [odd]);
    expect(typeCheck(code)).toEqual([]);
    const mod = (await importGenerated(code)) as Codecs;
    const bytes = Uint8Array.from([1, 0, 0, 0, 2, 0, 0, 0]);
    const view = mod.Odd!.createView!().$at(bytes, 0, 8) as unknown as Record<string, unknown>;
    expect([view.constructor, view.x]).toEqual([1, 2]);
    expect(mod.Odd!.decode(bytes)).toEqual({ constructor: 1, x: 2 });
  });

  it('copies byte arrays out: longer than 64 bytes from a shared slab, each with bytes of its own', async () => {
    const w = new BtfWriter();
    const u8 = w.add('unsigned char', BTF_KIND.int, 0, false, 1, [8]); // 1
    const u32 = w.add('unsigned int', BTF_KIND.int, 0, false, 4, [32]); // 2
    const arr = (n: number) => w.add('', BTF_KIND.array, 0, false, 0, [u8, u32, n]);
    const [small, big, rest] = [arr(64), arr(100), arr(200)]; // 3, 4, 5
    // struct blobs { u32 len; u8 small[64]; u8 big[100]; u8 rest[200]; } (368 bytes)
    const blobs = w.add('blobs', BTF_KIND.struct, 4, false, 368, [
      ...[w.str('len'), u32, 0],
      ...[w.str('small'), small, 32],
      ...[w.str('big'), big, 32 + 64 * 8],
      ...[w.str('rest'), rest, 32 + 164 * 8],
    ]);
    const code = emitTypesModule(parseBtf(w.build(), { file: 'hand.btf' }), [blobs]);
    expect(typeCheck(code)).toEqual([]);
    expect(code).toContain('copyBytes(b, o + 68, o + 68 + 100)');
    const mod = (await importGenerated(code)) as Codecs;
    const Blobs = mod.Blobs as RecordCodec<{
      len: number;
      small: Uint8Array;
      big: Uint8Array;
      rest: Uint8Array;
    }>;
    const bytes = Uint8Array.from({ length: 368 }, (_, i) => (i * 7) & 0xff);
    const a = Blobs.decode(bytes);
    const b = Blobs.decode(bytes);
    expect([a.small, a.big, a.rest]).toEqual([bytes.slice(4, 68), bytes.slice(68, 168), bytes.slice(168)]);
    expect(a.small.buffer.byteLength).toBe(64); // up to 64 bytes: an array of its own
    expect(a.big.buffer.byteLength).toBe(65536); // a slab
    // Nothing is shared with the input or between values.
    a.big.fill(1);
    a.rest.fill(2);
    expect([b.big, b.rest]).toEqual([bytes.slice(68, 168), bytes.slice(168)]);
    expect(bytes.slice(68, 168)).not.toEqual(a.big);
    // A short record: the trailing array as far as the bytes go.
    const short = Blobs.decodeWithLength(bytes.subarray(0, 168 + 70));
    expect(short.value.rest).toEqual(bytes.slice(168, 238));
    expect(Blobs.encode(b)).toEqual(bytes);
  });

  it('carves copies from a new slab once one is full, and leaves odd requests to slice()', () => {
    const source = Uint8Array.from({ length: 8192 }, (_, i) => i & 0xff);
    const copies = Array.from({ length: 100 }, (_, i) => copyBytes(source, i, i + 1000)); // 100 KB
    copies.forEach((c, i) => {
      expect(c).toEqual(source.slice(i, i + 1000));
    });
    // 100 KB spans two or three 64 KiB slabs, depending on how full the current one was.
    const slabs = new Set(copies.map((c) => c.buffer)).size;
    expect(slabs).toBeGreaterThanOrEqual(2);
    expect(slabs).toBeLessThanOrEqual(3);
    expect(copyBytes(source, 0, 5000).buffer.byteLength).toBe(5000); // past 4 KiB: its own
    expect(copyBytes(source, 8100, 8300)).toEqual(source.slice(8100, 8300)); // clipped, as slice
    expect(copyBytes(source, 10, 10)).toEqual(new Uint8Array(0));
  });

  it('copies up to 8 bytes into arrays of their own, as slice() would, clipping the same way', () => {
    const source = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
    for (const [start, end] of [
      [0, 8],
      [3, 4],
      [60, 64],
      [60, 68], // past the end: clipped
      [-2, 3], // a negative start counts from the end, as in slice()
      [5, 2],
    ] as const) {
      const copy = copyBytes(source, start, end);
      expect(copy).toEqual(source.slice(start, end));
      expect(copy.buffer).not.toBe(source.buffer);
    }
    const copy = copyBytes(source, 8, 16);
    copy.fill(0);
    expect(source.slice(8, 16)).toEqual(Uint8Array.from({ length: 8 }, (_, i) => i + 9));
  });

  it('names types in PascalCase, resolves collisions deterministically and reports codecs', () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    const btf = obj.btf;
    const tricky = btf.get('tricky', 'struct').id;
    const a = emitTypes(btf, [tricky, btf.get('top', 'union').id], { reserved: ['Inner'] });
    const b = emitTypes(btf, [btf.get('top', 'union').id, tricky], { reserved: ['Inner'] });
    expect(a.code).toBe(b.code);
    expect(a.nameOf(tricky)).toBe('Tricky');
    expect(a.code).toContain('export interface InnerStruct {');
    // `number` would shadow the global Number: the kind suffix resolves it.
    expect(a.code).toContain('export const NumberUnion: ');
    expect(a.names).toContain('Color');
    const u32 = btf.get('u32', 'typedef').id;
    expect(a.nameOf(u32)).toBe('number');
    expect(a.codecOf(u32)).toBe('u32');
    expect(a.codecOf(btf.get('u64', 'typedef').id)).toBe('u64');
    expect(a.imports()).toContain('u32');
  });

  it('type-checks under tsc --strict with noUncheckedIndexedAccess', () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    expect(typeCheck(generate(obj))).toEqual([]);
  });

  it('handles the kernel’s own types (task_struct, sk_buff, bpf_attr, pt_regs)', async () => {
    const btf = readKernelBtf();
    const roots = [
      btf.get('task_struct', 'struct').id,
      btf.get('sk_buff', 'struct').id,
      btf.get('bpf_attr', 'union').id,
      btf.get('pt_regs', 'struct').id,
    ];
    const code = emitTypesModule(btf, roots);
    expect(typeCheck(code)).toEqual([]);
    const mod = (await importGenerated(code)) as Codecs;
    const task = mod.TaskStruct!;
    expect(task.size).toBe(btf.get('task_struct', 'struct').size);
    const zeros = new Uint8Array(task.size);
    const value = task.decode(zeros);
    expect(value.pid).toBe(0);
    expect(value.comm).toBe('');
    expect(task.encode(value)).toEqual(zeros);
  });
});

function typeCheck(code: string): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'tsbpf-tsc-'));
  const file = join(dir, 'generated.ts');
  writeFileSync(file, code);
  const program = ts.createProgram([file], {
    strict: true,
    noUncheckedIndexedAccess: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    skipLibCheck: true,
    types: [],
    paths: { tsbpf: [codecModule] },
    allowImportingTsExtensions: true,
  });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName}:${d.start}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
  return diagnostics;
}

describe('generated codecs (more)', () => {
  it('handle enum64, old-style bitfields, typedef-named and hinted anonymous types, name collisions', async () => {
    const w = new BtfWriter();
    const u32 = w.add('unsigned int', BTF_KIND.int, 0, false, 4, [32]); // 1
    const bits5 = w.add('', BTF_KIND.int, 0, false, 4, [5]); // 2: old-style 5-bit bitfield type
    const e64 = w.add('big', BTF_KIND.enum64, 2, true, 8, [
      w.str('MINUS'),
      0xfffffffe,
      0xffffffff,
      w.str('HUGE'),
      0,
      0x40000000,
    ]); // 3
    // 4: struct foo { u32 a; u32 b:5 (kind_flag 0, bit 32); u32 c:5 (bit 37); enum big e; } (24 bytes)
    const foo = w.add('foo', BTF_KIND.struct, 4, false, 24, [
      w.str('a'),
      u32,
      0,
      w.str('b'),
      bits5,
      32,
      w.str('c'),
      bits5,
      37,
      w.str('e'),
      e64,
      64,
    ]);
    const fooUnion = w.add('foo', BTF_KIND.union, 1, false, 4, [w.str('v'), u32, 0]); // 5: union foo
    const anon = w.add('', BTF_KIND.struct, 1, false, 4, [w.str('z'), u32, 0]); // 6
    const td = w.add('pair_t', BTF_KIND.typedef, 0, false, anon); // 7
    const anon2 = w.add('', BTF_KIND.struct, 1, false, 4, [w.str('q'), u32, 0]); // 8
    // 9: struct holder { foo f; pair_t p; union foo u; }
    const holder = w.add('holder', BTF_KIND.struct, 3, false, 32, [
      w.str('f'),
      foo,
      0,
      w.str('p'),
      td,
      192,
      w.str('u'),
      fooUnion,
      224,
    ]);
    const btf = parseBtf(w.build(), { file: 'hand.btf' });
    const emitted = emitTypes(btf, [holder, anon2], { names: new Map([[anon2, 'counts_value']]) });
    expect(emitted.nameOf(holder)).toBe('Holder');
    expect(emitted.nameOf(foo)).toBe('Foo');
    expect(emitted.nameOf(fooUnion)).toBe('FooUnion');
    expect(emitted.nameOf(td)).toBe('PairT');
    expect(emitted.nameOf(anon2)).toBe('CountsValue');
    expect(emitted.nameOf(e64)).toBe('Big');
    expect(emitted.codecOf(e64)).toBe('s64');
    expect(emitted.code).toContain('HUGE: 4611686018427387904n');
    expect(emitted.code).toContain('MINUS: -2n');
    const imports = emitted.imports();
    const mod = (await importGenerated(
      `import { ${imports.join(', ')} } from 'tsbpf';\n${emitted.code}`,
    )) as Codecs;
    const Holder = mod.Holder!;
    const value = {
      f: { a: 7, b: 17, c: 30, e: -2n },
      p: { z: 5 },
      u: { v: 0xfeedface },
    };
    const bytes = Holder.encode(value);
    // b: 5 bits at bit 32 = byte 4 bits 0-4; c: 5 bits at bit 37 = byte 4 bits 5-7 + byte 5 bits 0-1.
    const c = 30;
    expect(bytes[4]).toBe((17 | (c << 5)) & 0xff);
    expect(bytes[5]).toBe(c >> 3);
    expect(Holder.decode(bytes)).toEqual(value);
    expect(mod.Big).toEqual({ MINUS: -2n, HUGE: 1n << 62n });
  });

  it("imports only names that 'tsbpf' (the runtime's index) exports", async () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    const emitted = emitTypes(
      obj.btf,
      GLOBALS.map((g) => variable(obj, g).type),
    );
    for (const g of GLOBALS) emitted.codecOf(variable(obj, g).type);
    const runtime = await import('../../src/runtime/index.js');
    const values = emitted.imports().filter((n) => !n.startsWith('type '));
    expect(values.filter((n) => !(n in runtime))).toEqual([]);
  });
});
