// Fuzzes codec decoding: the codecs generated for the layouts fixture (structs, unions, bitfields,
// arrays, a flexible array, a packed struct) and the primitive codecs, on random buffers of every
// length at every offset. Each decode gives a value or a TsbpfError — never a RangeError or another
// exception — and a value decoded from enough bytes encodes back to bytes that decode the same.
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { readObject } from '../../src/btf/index.js';
import type { Codec, RecordCodec } from '../../src/codegen/codec.js';
import * as codecs from '../../src/codegen/codec.js';
import { emitTypesModule } from '../../src/codegen/types.js';
import { TsbpfError } from '../../src/errors.js';
import { importGenerated, layoutsObject } from '../fixtures/btf/helpers.js';
import { fuzzRuns } from '../helpers/fuzz.js';

type AnyCodec = Codec<unknown> & Partial<RecordCodec<unknown>>;

function decodeOrTyped(codec: AnyCodec, bytes: Uint8Array, offset: number | undefined): unknown {
  try {
    return codec.decode(bytes, offset);
  } catch (error) {
    if (!(error instanceof TsbpfError)) throw error;
    return error;
  }
}

function exercise(name: string, codec: AnyCodec, bytes: Uint8Array, offset: number | undefined): void {
  const value = decodeOrTyped(codec, bytes, offset);
  const at = offset ?? 0;
  if (at >= 0 && bytes.length - at >= codec.size) {
    // Enough bytes: decoding must succeed. Encoding is a normal form: what encode() writes decodes
    // to a value that encodes to the same bytes (strings of invalid UTF-8 and NaNs normalise once;
    // a flexible array beyond sizeof is not part of encode()).
    if (value instanceof TsbpfError) throw new Error(`${name}: ${value.message} with enough bytes`);
    const once = codec.encode(value);
    expect(once.length).toBe(codec.size);
    expect(codec.encode(codec.decode(once, 0))).toEqual(once);
  }
  if (codec.decodeWithLength) {
    try {
      const { length } = codec.decodeWithLength(bytes, offset);
      expect(length).toBeLessThanOrEqual(bytes.length - at);
    } catch (error) {
      if (!(error instanceof TsbpfError)) throw error;
    }
  }
}

const buffers = fc.oneof(
  fc.uint8Array({ maxLength: 16 }),
  fc.uint8Array({ maxLength: 600 }),
  // An array over part of a larger buffer: offsets must be relative to the view.
  fc
    .tuple(fc.uint8Array({ minLength: 1, maxLength: 400 }), fc.nat(64))
    .map(([b, start]) => b.subarray(Math.min(start, b.length))),
);
const offsets = fc.oneof(fc.constant(undefined), fc.integer({ min: -4, max: 700 }));

describe('codec decode fuzz', () => {
  let generated: Record<string, AnyCodec>;

  beforeAll(async () => {
    const obj = readObject(layoutsObject('bpfel'), 'layouts.bpf.o');
    const roots: number[] = [];
    for (const s of obj.dataSections) for (const v of s.variables) roots.push(v.type);
    roots.push(obj.btf.get('flexrec', 'struct').id);
    const mod = await importGenerated(emitTypesModule(obj.btf, roots, { endianness: 'host' }));
    generated = Object.fromEntries(
      Object.entries(mod).filter(
        (e): e is [string, AnyCodec] =>
          typeof e[1] === 'object' && e[1] !== null && typeof (e[1] as AnyCodec).decode === 'function',
      ),
    );
    expect(Object.keys(generated).length).toBeGreaterThanOrEqual(4);
  });

  it('generated codecs: a value or a TsbpfError on any buffer and offset', () => {
    const names = Object.keys(generated);
    fc.assert(
      fc.property(fc.constantFrom(...names), buffers, offsets, (name, bytes, offset) => {
        exercise(name, generated[name] as AnyCodec, bytes, offset);
      }),
      { numRuns: fuzzRuns(4000) },
    );
  });

  it('primitive codecs, bytes(n) and cstring(n): a value or a TsbpfError', () => {
    const fixed: Record<string, AnyCodec> = {
      u8: codecs.u8,
      s8: codecs.s8,
      u16: codecs.u16,
      s16: codecs.s16,
      u32: codecs.u32,
      s32: codecs.s32,
      u64: codecs.u64,
      s64: codecs.s64,
      f32: codecs.f32,
      f64: codecs.f64,
      bool: codecs.bool,
    };
    const codec = fc.oneof(
      fc.constantFrom(...Object.keys(fixed)).map((n) => [n, fixed[n] as AnyCodec] as const),
      fc.nat(40).map((n) => [`bytes(${n})`, codecs.bytes(n) as AnyCodec] as const),
      fc.nat(40).map((n) => [`cstring(${n})`, codecs.cstring(n) as AnyCodec] as const),
    );
    fc.assert(
      fc.property(codec, fc.uint8Array({ maxLength: 48 }), offsets, ([name, c], bytes, offset) => {
        exercise(name, c, bytes, offset);
      }),
      { numRuns: fuzzRuns(5000) },
    );
  });

  it('every codec on every short length is a TsbpfError, not a RangeError', () => {
    for (const [name, codec] of Object.entries(generated)) {
      for (let n = 0; n < codec.size; n++) {
        const error = decodeOrTyped(codec, new Uint8Array(n), 0);
        if (codec.minSize !== undefined && n >= codec.minSize) continue; // variable-length: decodes
        expect(error, `${name} on ${n} bytes`).toBeInstanceOf(TsbpfError);
      }
    }
  });
});
