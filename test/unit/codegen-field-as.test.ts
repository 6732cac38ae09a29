// char[N] fields decoded as a string (up to the first NUL, the default), as the NUL-separated
// strings they hold, or as bytes; every byte reachable whatever the choice ($raw on views, raw on
// codecs); the choices as the config and `tsbpf gen --field-as` give them, and their errors.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { BTF_KIND, parseBtf } from '../../src/btf/index.js';
import { parseConfig } from '../../src/build/config.js';
import { parseFieldAs } from '../../src/build/field-as.js';
import { cstrings, type RecordCodec, readCStrings, writeCStrings } from '../../src/codegen/codec.js';
import { resolveFieldAs } from '../../src/codegen/field-as.js';
import { findType } from '../../src/codegen/loader.js';
import { emitTypesModule, type FieldChoice } from '../../src/codegen/types.js';
import { ConfigError, TsbpfError, UsageError } from '../../src/errors.js';
import { BtfWriter, codecModule, importGenerated } from '../fixtures/btf/helpers.js';

/** struct rec { u32 n; char name[8]; char argv[16]; char path[12]; char tail[10]; } and friends. */
function recBtf() {
  const w = new BtfWriter();
  const u32 = w.add('unsigned int', BTF_KIND.int, 0, false, 4, [32]); // 1
  const char = w.add('char', BTF_KIND.int, 0, false, 1, [(1 << 24) | 8]); // 2: signed char, as clang writes it
  const arr = (n: number) => w.add('', BTF_KIND.array, 0, false, 0, [char, u32, n]);
  const name8 = arr(8);
  const argv16 = arr(16);
  const path12 = arr(12);
  const tail10 = arr(10);
  const inner = w.add('', BTF_KIND.struct, 1, false, 12, [w.str('path'), path12, 0]); // anonymous: promoted
  const rec = w.add('rec', BTF_KIND.struct, 5, false, 52, [
    w.str('n'),
    u32,
    0,
    w.str('name'),
    name8,
    32,
    w.str('argv'),
    argv16,
    96,
    w.str(''),
    inner,
    224,
    w.str('tail'),
    tail10,
    320,
  ]);
  const td = w.add('rec_t', BTF_KIND.typedef, 0, false, rec);
  const btf = parseBtf(w.build(), { file: 'hand.btf' });
  return { btf, rec, td };
}

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
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName}:${d.start}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

type Rec = Record<string, unknown>;
type RawCodec = RecordCodec<Rec> & { raw(bytes: Uint8Array, field: string, offset?: number): Uint8Array };
type View = Rec & {
  $raw(field: string): Uint8Array;
  $decode(): Rec;
  $at(b: Uint8Array, o: number, n: number): View;
};

/** The record's bytes: n = 7, name "ab\0cd", argv "x\0yy\0zzz\0", path "usr\0\0\0bin", tail "t\0u". */
function recBytes(): Uint8Array {
  const b = new Uint8Array(52);
  new DataView(b.buffer).setUint32(0, 7, true);
  b.set(Buffer.from('ab\0cd'), 4);
  b.set(Buffer.from('x\0yy\0zzz\0'), 12);
  b.set(Buffer.from('usr\0\0\0bin'), 28);
  b.set(Buffer.from('t\0u'), 40);
  return b;
}

async function generated(choices: Record<string, FieldChoice>) {
  const { btf, rec } = recBtf();
  const resolved = resolveFieldAs(btf, choices, findType);
  const code = emitTypesModule(btf, [rec], { endianness: 'little', fieldAs: resolved.byType });
  const mod = await importGenerated(code);
  return { code, Rec: mod.Rec as RawCodec };
}

describe('char[N] field choices in generated codecs', () => {
  it('decode as a string up to the first NUL by default, and say so and how to read the rest', async () => {
    const { code, Rec } = await generated({});
    expect(Rec.decode(recBytes())).toEqual({ n: 7, name: 'ab', argv: 'x', path: 'usr', tail: 't' });
    expect(code).toContain('  name: string;');
    expect(code).toMatch(
      /char\[8\], offset 4; the text up to the first NUL only: every byte: `view\.\$raw\('name'\)`/,
    );
    expect(code).toContain('`tsbpf gen --field-as rec.argv=strings|bytes`');
    expect(typeCheck(code)).toEqual([]);
  });

  it('decode as strings (split on NUL, trailing empty ones dropped) and as bytes, typed so, and encode back', async () => {
    const { code, Rec } = await generated({
      'rec.name': 'bytes',
      'rec.argv': 'strings',
      'rec.path': 'strings', // promoted from an anonymous struct
      'struct rec.tail': 'strings', // a trailing array: as far as the record goes
    });
    expect(code).toContain('  argv: string[];');
    expect(code).toContain('  name: Uint8Array;');
    expect(typeCheck(code)).toEqual([]);
    const bytes = recBytes();
    const value = Rec.decode(bytes);
    expect(value).toEqual({
      n: 7,
      name: Uint8Array.from(Buffer.from('ab\0cd\0\0\0')),
      argv: ['x', 'yy', 'zzz'],
      path: ['usr', '', '', 'bin'],
      tail: ['t', 'u'],
    });
    expect(Rec.encode(value as Rec)).toEqual(bytes);
    // A short record: the trailing strings are those its bytes hold.
    expect(Rec.decodeWithLength(bytes.subarray(0, 41)).value.tail).toEqual(['t']);
  });

  it('read every choice in place through views, with $raw() a window on each char[N] field', async () => {
    const { Rec } = await generated({ 'rec.argv': 'strings', 'rec_t.name': 'bytes' });
    const ring = new Uint8Array(64).fill(0xee);
    ring.set(recBytes(), 8);
    const view = (Rec.createView!() as unknown as View).$at(ring, 8, 52);
    expect([view.name, view.argv, view.path]).toEqual([
      Uint8Array.from(Buffer.from('ab\0cd\0\0\0')),
      ['x', 'yy', 'zzz'],
      'usr',
    ]);
    expect(view.$decode()).toEqual(Rec.decode(recBytes()));
    // The string stops at the first NUL; $raw has all of the field, whatever it decodes as.
    const path = view.$raw('path');
    expect(Buffer.from(path).toString('latin1')).toBe('usr\0\0\0bin\0\0\0');
    expect(path.buffer).toBe(ring.buffer);
    expect(Buffer.from(view.$raw('argv')).toString('latin1')).toBe('x\0yy\0zzz\0\0\0\0\0\0\0\0');
    expect(view.$raw('name')).toHaveLength(8);
    // A record cut short: $raw of the trailing field stops where the record does.
    expect(view.$at(ring, 8, 43).$raw('tail')).toHaveLength(3);
  });

  it('codec.raw() copies a field’s bytes out of a record at an offset', async () => {
    const { Rec } = await generated({});
    const buffer = new Uint8Array(60);
    buffer.set(recBytes(), 4);
    const raw = Rec.raw(buffer, 'path', 4);
    expect(Buffer.from(raw).toString('latin1')).toBe('usr\0\0\0bin\0\0\0');
    expect(raw.buffer).not.toBe(buffer.buffer);
    expect(() => Rec.raw(buffer, 'path', 40)).toThrow(TsbpfError);
  });

  it('keep the default output when no choice is given, and differ only for the fields chosen', async () => {
    const plain = (await generated({})).code;
    expect((await generated({})).code).toBe(plain);
    expect((await generated({ 'rec.argv': 'string' })).code).toBe(plain);
    const chosen = (await generated({ 'rec.argv': 'strings' })).code;
    expect(chosen).not.toBe(plain);
    expect(chosen).toContain('readCStrings(b, o + 12, 16)');
    expect(chosen).toContain('readCString(b, o + 4, 8)');
  });
});

describe('cstrings and the helpers', () => {
  it('split on NUL, keep empty strings between others, drop those at the end, and round-trip', () => {
    const codec = cstrings(12);
    expect(codec.decode(Buffer.from('a\0\0b\0\0\0\0\0\0\0\0'))).toEqual(['a', '', 'b']);
    expect(codec.decode(new Uint8Array(12))).toEqual([]);
    expect(codec.decode(Buffer.from('abcdefghijkl'))).toEqual(['abcdefghijkl']);
    expect(codec.decode(codec.encode(['é', 'bb']))).toEqual(['é', 'bb']);
    // What does not fit is cut, never written past the field.
    const b = new Uint8Array(8).fill(0xff);
    writeCStrings(b, 1, 6, ['abc', 'def', 'g']);
    expect([...b]).toEqual([0xff, 97, 98, 99, 0, 100, 101, 0xff]);
    expect(readCStrings(b, 1, 6)).toEqual(['abc', 'de']);
  });
});

describe('resolving choices against the BTF', () => {
  const { btf } = recBtf();
  const fails = (choices: Record<string, string>): UsageError => {
    try {
      resolveFieldAs(btf, choices as Record<string, FieldChoice>, findType);
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      return error as UsageError;
    }
    throw new Error('resolveFieldAs did not throw');
  };

  it('names an unknown type with the nearest one', () => {
    const e = fails({ 'recc.argv': 'strings' });
    expect(e.message).toBe("field choice recc.argv=strings: no struct or union named 'recc'");
    expect(e.hint).toBe("did you mean 'rec.argv'?");
  });

  it('names an unknown field with the nearest char[N] field and lists them', () => {
    const e = fails({ 'rec.argz': 'strings' });
    expect(e.message).toBe("field choice rec.argz=strings: struct rec has no field 'argz'");
    expect(e.hint).toBe("did you mean 'rec.argv'? (its char[N] fields: name, argv, path, tail)");
  });

  it('refuses a field that is not a char array, and a choice that is not one', () => {
    expect(fails({ 'rec.n': 'bytes' }).message).toContain('n is unsigned int, not a char[N] array');
    expect(fails({ 'rec.argv': 'text' }).message).toContain('text is not one of string, strings, bytes');
  });
});

describe('choices in tsbpf.config.json and on the command line', () => {
  const config = (fieldAs: unknown) => ({
    programs: [{ ident: 'probe', sources: ['probe.bpf.c'], fieldAs }],
  });
  const configError = (fieldAs: unknown): ConfigError => {
    try {
      parseConfig(config(fieldAs), '/p/tsbpf.config.json');
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('parseConfig did not throw');
  };

  it('reads "fieldAs" per program (absent: none)', () => {
    const parsed = parseConfig(config({ 'exec_event.args': 'strings', 'struct x.y': 'bytes' }), '/p/c.json');
    expect(parsed.programs[0]!.fieldAs).toEqual({ 'exec_event.args': 'strings', 'struct x.y': 'bytes' });
    expect(
      parseConfig({ programs: [{ ident: 'p', sources: ['p.c'] }] }, '/p/c.json').programs[0]!.fieldAs,
    ).toEqual({});
  });

  it('names a bad choice with the key path and the nearest choice', () => {
    const e = configError({ 'exec_event.args': 'strngs' });
    expect(e.message).toBe(
      '/p/tsbpf.config.json: programs[0].fieldAs.exec_event.args: expected "string", "strings", "bytes" or "number", got "strngs"',
    );
    expect(e.hint).toMatch(/^did you mean "strings"\?/);
  });

  it('names a key that is not TYPE.FIELD, and a misspelt "fieldAs"', () => {
    expect(configError({ args: 'strings' }).message).toBe(
      '/p/tsbpf.config.json: programs[0].fieldAs.args: expected TYPE.FIELD as the key',
    );
    expect(configError(['exec_event.args']).message).toContain('programs[0].fieldAs: expected an object');
    try {
      parseConfig({ programs: [{ ident: 'p', sources: ['p.c'], fieldsAs: {} }] }, '/p/c.json');
      throw new Error('no error');
    } catch (error) {
      expect((error as ConfigError).hint).toBe('did you mean "fieldAs"?');
    }
  });

  it('parses --field-as TYPE.FIELD=CHOICE flags and names bad ones', () => {
    expect(parseFieldAs(['exec_event.args=strings', ' struct x.y = bytes', 'x.y=string'])).toEqual({
      'exec_event.args': 'strings',
      'struct x.y': 'bytes',
      'x.y': 'string',
    });
    expect(() => parseFieldAs(['exec_event=strings'])).toThrow(
      '--field-as exec_event=strings: expected TYPE.FIELD=string|strings|bytes',
    );
    expect(() => parseFieldAs(['e.args'])).toThrow('--field-as e.args: no choice after TYPE.FIELD=');
    try {
      parseFieldAs(['e.args=byte']);
      throw new Error('no error');
    } catch (error) {
      expect(error).toBeInstanceOf(UsageError);
      expect((error as UsageError).message).toBe('--field-as e.args=byte: unknown choice "byte"');
      expect((error as UsageError).hint).toMatch(/^did you mean "bytes"\?/);
    }
  });
});

/** struct stamp { u64 ts; s64 delta; u32 n; u64 total; u64 *where; } (40 bytes). */
function stampBtf() {
  const w = new BtfWriter();
  const u64 = w.add('unsigned long long', BTF_KIND.int, 0, false, 8, [64]); // 1
  const s64 = w.add('long long', BTF_KIND.int, 0, false, 8, [(1 << 24) | 64]); // 2
  const u32 = w.add('unsigned int', BTF_KIND.int, 0, false, 4, [32]); // 3
  const ptr = w.add('', BTF_KIND.ptr, 0, false, u64); // 4
  const stamp = w.add('stamp', BTF_KIND.struct, 5, false, 40, [
    ...[w.str('ts'), u64, 0],
    ...[w.str('delta'), s64, 64],
    ...[w.str('n'), u32, 128],
    ...[w.str('total'), u64, 192],
    ...[w.str('where'), ptr, 256],
  ]);
  return { btf: parseBtf(w.build(), { file: 'hand.btf' }), stamp };
}

type StampCodec = RecordCodec<Rec>;

async function stampCodec(choices: Record<string, FieldChoice>, endianness: 'little' | 'big' = 'little') {
  const { btf, stamp } = stampBtf();
  const resolved = resolveFieldAs(btf, choices, findType);
  const code = emitTypesModule(btf, [stamp], { endianness, fieldAs: resolved.byType });
  return { code, Stamp: (await importGenerated(code)).Stamp as StampCodec };
}

describe('64-bit integer fields decoded as numbers (fieldAs "number")', () => {
  it('are typed number, read in place and decoded as numbers, the rest bigints, and encode back', async () => {
    const { code, Stamp } = await stampCodec({ 'stamp.ts': 'number', 'struct stamp.delta': 'number' });
    expect(code).toContain('  ts: number;');
    expect(code).toContain('  delta: number;');
    expect(code).toContain('  total: bigint;');
    expect(code).toContain('  where: bigint;');
    expect(code).toContain('exact up to 2^53 - 1, a larger value throws when decoded');
    expect(typeCheck(code)).toEqual([]);
    const bytes = new Uint8Array(40);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, 2n ** 53n - 1n, true);
    dv.setBigInt64(8, -(2n ** 53n) + 1n, true);
    dv.setUint32(16, 5, true);
    dv.setBigUint64(24, 2n ** 64n - 1n, true);
    dv.setBigUint64(32, 0xffff_8000_0000_1000n, true);
    const value = Stamp.decode(bytes);
    expect(value).toEqual({
      ts: 2 ** 53 - 1,
      delta: -(2 ** 53) + 1,
      n: 5,
      total: 2n ** 64n - 1n,
      where: 0xffff_8000_0000_1000n,
    });
    expect(Stamp.encode(value)).toEqual(bytes);
    const view = (Stamp.createView!() as unknown as View).$at(bytes, 0, 40);
    expect([view.ts, view.delta]).toEqual([2 ** 53 - 1, -(2 ** 53) + 1]);
  });

  it('leave the output unchanged without the choice', async () => {
    const plain = (await stampCodec({})).code;
    expect(plain).toContain('  ts: bigint;');
    expect(plain).not.toContain('AsNumber');
    const chosen = (await stampCodec({ 'stamp.total': 'number' })).code;
    expect(chosen).toContain("total: getU64AsNumber(v, o + 24, true, 'stamp.total'),");
    expect(chosen).toContain("setU64FromNumber(v, o + 24, x.total, true, 'stamp.total');");
    // Only the chosen field's lines (and the imports) differ.
    const lines = new Set(plain.split('\n'));
    const changed = chosen.split('\n').filter((line) => !lines.has(line));
    expect(changed.length).toBeGreaterThan(0);
    for (const line of changed) expect(line).toMatch(/total|import|AsNumber|exact up to 2\^53/);
  });

  it('throw a TsbpfError naming the field and the fix for values a number cannot hold, never rounding', async () => {
    const { Stamp } = await stampCodec({ 'stamp.ts': 'number', 'stamp.delta': 'number' });
    const bytes = new Uint8Array(40);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, 2n ** 53n, true);
    let error: unknown;
    try {
      Stamp.decode(bytes);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(TsbpfError);
    expect((error as TsbpfError).message).toBe(
      'stamp.ts is 9007199254740992, which a number cannot hold exactly (the field decodes as a number: it must stay within ±(2^53 - 1))',
    );
    expect((error as TsbpfError).hint).toContain('take "stamp.ts": "number" out of "fieldAs"');
    dv.setBigUint64(0, 0n, true);
    dv.setBigInt64(8, -(2n ** 53n), true);
    expect(() => Stamp.decode(bytes)).toThrow('stamp.delta is -9007199254740992');
    // Encoding: not an integer, out of range, or negative for an unsigned field.
    const value = { ts: 1, delta: 0, n: 0, total: 0n, where: 0n };
    expect(() => Stamp.encode({ ...value, ts: -1 })).toThrow(
      'stamp.ts: cannot encode -1: it must be an integer from 0 to 2^53 - 1',
    );
    expect(() => Stamp.encode({ ...value, ts: 1.5 })).toThrow(TsbpfError);
    expect(() => Stamp.encode({ ...value, delta: 2 ** 53 })).toThrow('stamp.delta: cannot encode');
  });

  it('decode exactly every value in range and throw for every value outside it, in both byte orders (property)', async () => {
    const little = (await stampCodec({ 'stamp.ts': 'number', 'stamp.delta': 'number' })).Stamp;
    const big = (await stampCodec({ 'stamp.ts': 'number', 'stamp.delta': 'number' }, 'big')).Stamp;
    const max = 2n ** 53n - 1n;
    const edges = [0n, 1n, max, max + 1n, -max, -max - 1n, 2n ** 32n - 1n, 2n ** 32n, -(2n ** 32n)];
    const u = fc.oneof(
      fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
      fc.bigInt({ min: 0n, max: max + 1n }),
      fc.constantFrom(...edges.filter((x) => x >= 0n)),
    );
    const s = fc.oneof(
      fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
      fc.bigInt({ min: -max - 1n, max: max + 1n }),
      fc.constantFrom(...edges),
    );
    fc.assert(
      fc.property(u, s, fc.boolean(), (ts, delta, le) => {
        const codec = le ? little : big;
        const bytes = new Uint8Array(40);
        const dv = new DataView(bytes.buffer);
        dv.setBigUint64(0, ts, le);
        dv.setBigInt64(8, delta, le);
        const fits = ts <= max && delta <= max && delta >= -max;
        if (!fits) {
          expect(() => codec.decode(bytes)).toThrow(TsbpfError);
          return;
        }
        const value = codec.decode(bytes);
        expect(value.ts).toBe(Number(ts));
        expect(value.delta).toBe(Number(delta));
        expect(BigInt(value.ts as number)).toBe(ts);
        expect(BigInt(value.delta as number)).toBe(delta);
        expect(codec.encode(value)).toEqual(bytes);
      }),
      { numRuns: 2000 },
    );
  });

  it('are refused for fields that are not 64-bit integers, naming those that are', () => {
    const { btf } = stampBtf();
    const fails = (choices: Record<string, string>) => () =>
      resolveFieldAs(btf, choices as Record<string, FieldChoice>, findType);
    expect(fails({ 'stamp.n': 'number' })).toThrow(
      'field choice stamp.n=number: n is unsigned int, not a 64-bit integer: only those decode as number',
    );
    expect(fails({ 'stamp.where': 'number' })).toThrow(UsageError);
    let hint: string | undefined;
    try {
      fails({ 'stamp.tss': 'number' })();
    } catch (error) {
      hint = (error as UsageError).hint;
    }
    expect(hint).toBe("did you mean 'stamp.ts'? (its 64-bit integer fields: ts, delta, total)");
    expect(fails({ 'stamp.ts': 'strings' })).toThrow('ts is unsigned long long, not a char[N] array');
    expect(parseFieldAs(['stamp.ts=number'])).toEqual({ 'stamp.ts': 'number' });
    expect(
      parseConfig(
        { programs: [{ ident: 'p', sources: ['p.c'], fieldAs: { 'e.ts': 'number' } }] },
        '/p/c.json',
      ).programs[0]!.fieldAs,
    ).toEqual({ 'e.ts': 'number' });
  });
});
