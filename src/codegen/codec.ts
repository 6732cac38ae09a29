// Codecs: how a C value's bytes become a TypeScript value and back. This module has no
// dependencies (no FFI) so that generated code, codegen and the runtime can all share it; the
// runtime re-exports it as part of 'tsbpf'. Numbers are read in the host's byte order, because a
// loader only ever loads the object built for the host's byte order.
import { TsbpfError } from '../errors.js';

/** Converts between a C type's bytes and a TypeScript value. */
export interface Codec<T> {
  /** sizeof the C type in bytes. */
  readonly size: number;
  /**
   * Decodes the value at `offset`; throws TsbpfError when the bytes are too short. The result must
   * not share memory with `bytes`: readers and maps pass their reused buffers and mapped rings.
   */
  decode(bytes: Uint8Array, offset?: number): T;
  /** A new buffer of `size` bytes (padding zeroed). */
  encode(value: T): Uint8Array;
  /** Writes `size` bytes at `offset` (padding zeroed). */
  encodeInto(value: T, bytes: Uint8Array, offset?: number): void;
}

/**
 * A codec for records that may arrive shorter than their C type (variable-length records, such as
 * an event sent with only the used part of a trailing array): `minSize` bytes are required, a
 * trailing array is decoded as far as the bytes go, and the number of bytes consumed is reported.
 */
export interface RecordCodec<T, V extends RecordView<T> = RecordView<T>> extends Codec<T> {
  /** The fewest bytes `decode` accepts: every field but a trailing array must be present. */
  readonly minSize: number;
  /** Decodes and reports how many bytes the value took. */
  decodeWithLength(bytes: Uint8Array, offset?: number): { value: T; length: number };
  /** A new in-place view of this type's records (generated struct and union codecs have one). */
  createView?(): V;
}

const EMPTY_BYTES = new Uint8Array(0);
const EMPTY_VIEW = new DataView(EMPTY_BYTES.buffer);

/**
 * A record read in place, for hot loops: an event reader points one view at each record in turn
 * (`reader.consume(fn)`), and the getters of the generated subclass (`EventView` for
 * `struct event`) read each field straight from the ring when asked. Nothing is copied or
 * allocated per record, so the view, and the byte arrays its getters return, are valid only until
 * `fn` returns; `$decode()` copies the record into a plain value that outlives it. The base class
 * is the view of records without a codec. Its members start with `$`, which C names never do.
 */
export class RecordView<T = Uint8Array> {
  /** The memory holding the record: the mapped ring while `fn` runs, an empty array after it. */
  $bytes: Uint8Array = EMPTY_BYTES;
  /** A DataView over exactly `$bytes`. */
  $view: DataView = EMPTY_VIEW;
  /** Where the record starts in `$bytes`. */
  $offset = 0;
  /** The record's length in bytes (variable-length records may be shorter than their C type). */
  $length = 0;

  /** Points the view at the `length` bytes at `offset` of `bytes`. */
  $at(bytes: Uint8Array, offset: number, length: number): this {
    // Called for every record: kept this small so that V8 inlines it into the readers' loops.
    if (bytes !== this.$bytes) {
      this.$bytes = bytes;
      this.$view = viewOf(bytes);
    }
    this.$offset = offset;
    this.$length = length;
    return this;
  }

  /** Points the view at nothing (readers do after each callback, so a kept view reads no ring). */
  $clear(): void {
    this.$bytes = EMPTY_BYTES;
    this.$view = EMPTY_VIEW;
    this.$offset = 0;
    this.$length = 0;
  }

  /** A copy of the record that stays valid after the callback: its bytes, here. */
  $decode(): T {
    return copyBytes(this.$bytes, this.$offset, this.$offset + this.$length) as unknown as T;
  }
}

// A typed array of up to 64 bytes lives on V8's heap and is cheap to make; a longer one gets memory
// of its own outside the heap, which costs several times more than copying its bytes (decoding
// 128-byte events spent most of its time there). So copies of 65 bytes to 4 KiB are carved from a
// shared 64 KiB slab, as Node carves small Buffers from a pool: each has bytes of its own, but its
// `.buffer` is the slab (`.slice()` gives an ArrayBuffer of its own).
const ON_HEAP_MAX = 64;
// Up to 8 bytes, a new array filled in a loop beats slice() (a call into the runtime) by 10-25%.
const LOOP_MAX = 8;
const SLAB_MAX = 4096;
const SLAB_SIZE = 65536;
let slab = new Uint8Array(0);
let slabUsed = 0;

/**
 * A copy of `b[start, end)` that shares no memory with `b`. Copies of 65 bytes to 4 KiB are carved
 * from a shared 64 KiB slab (their `.buffer`); others are `b.slice(start, end)`.
 */
export function copyBytes(b: Uint8Array, start: number, end: number): Uint8Array {
  const n = end - start;
  if (n <= LOOP_MAX && n >= 0 && start >= 0 && end <= b.length) {
    const copy = new Uint8Array(n);
    for (let i = 0; i < n; i++) copy[i] = b[start + i]!;
    return copy;
  }
  if (n <= ON_HEAP_MAX || n > SLAB_MAX || start < 0 || end > b.length) return b.slice(start, end);
  if (slabUsed + n > slab.length) {
    slab = new Uint8Array(SLAB_SIZE);
    slabUsed = 0;
  }
  const copy = slab.subarray(slabUsed, slabUsed + n);
  copy.set(b.subarray(start, end));
  slabUsed += (n + 7) & ~7;
  return copy;
}

/** True on little-endian hosts. */
export const hostLittleEndian: boolean = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Thrown by codecs given too few bytes. */
export function tooShort(name: string, need: number, have: number, offset: number): TsbpfError {
  return new TsbpfError(
    `cannot decode ${name}: it needs ${need} bytes at offset ${offset}, but only ${Math.max(0, have)} are there`,
    { hint: 'The record is shorter than the C type; check that the program sends the whole struct.' },
  );
}

// viewOf's cache: the last two arrays it made views of (first in, first out). Hot loops decode many
// values from one buffer (a mapped ring, a batch buffer, a map's scratch key and value), so two
// entries catch nearly every call without a WeakMap lookup. The byte length is compared too, so a
// length-tracking array over a resized (or detached) buffer gets a fresh view. The cost: the last
// two arrays stay reachable until two others are decoded.
let lastBytes: Uint8Array | undefined;
let lastLength = -1;
let lastView: DataView | undefined;
let prevBytes: Uint8Array | undefined;
let prevLength = -1;
let prevView: DataView | undefined;

/** A DataView over exactly the bytes of `bytes` (cached: the same array gets the same view). */
export function viewOf(bytes: Uint8Array): DataView {
  const length = bytes.byteLength;
  if (bytes === lastBytes && length === lastLength) return lastView!;
  // A hit on the older entry changes nothing: loops that alternate between two arrays (keys and
  // values of a batch) then hit every time without writing the cache.
  if (bytes === prevBytes && length === prevLength) return prevView!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, length);
  prevBytes = lastBytes;
  prevLength = lastLength;
  prevView = lastView;
  lastBytes = bytes;
  lastLength = length;
  lastView = view;
  return view;
}

function fixed<T>(
  name: string,
  size: number,
  read: (v: DataView, b: Uint8Array, o: number) => T,
  write: (v: DataView, b: Uint8Array, o: number, x: T) => void,
): RecordCodec<T> {
  const codec: RecordCodec<T> = {
    size,
    minSize: size,
    decode(bytes, offset = 0) {
      if (offset < 0 || bytes.length - offset < size)
        throw tooShort(name, size, bytes.length - offset, offset);
      return read(viewOf(bytes), bytes, offset);
    },
    decodeWithLength(bytes, offset = 0) {
      return { value: codec.decode(bytes, offset), length: size };
    },
    encode(value) {
      const bytes = new Uint8Array(size);
      write(new DataView(bytes.buffer), bytes, 0, value);
      return bytes;
    },
    encodeInto(value, bytes, offset = 0) {
      if (offset < 0 || bytes.length - offset < size)
        throw tooShort(name, size, bytes.length - offset, offset);
      write(viewOf(bytes), bytes, offset, value);
    },
  };
  return codec;
}

const le = hostLittleEndian;
export const u8: RecordCodec<number> = fixed(
  'u8',
  1,
  (v, _b, o) => v.getUint8(o),
  (v, _b, o, x) => v.setUint8(o, x),
);
export const s8: RecordCodec<number> = fixed(
  's8',
  1,
  (v, _b, o) => v.getInt8(o),
  (v, _b, o, x) => v.setInt8(o, x),
);
export const u16: RecordCodec<number> = fixed(
  'u16',
  2,
  (v, _b, o) => v.getUint16(o, le),
  (v, _b, o, x) => v.setUint16(o, x, le),
);
export const s16: RecordCodec<number> = fixed(
  's16',
  2,
  (v, _b, o) => v.getInt16(o, le),
  (v, _b, o, x) => v.setInt16(o, x, le),
);
export const u32: RecordCodec<number> = fixed(
  'u32',
  4,
  (v, _b, o) => v.getUint32(o, le),
  (v, _b, o, x) => v.setUint32(o, x, le),
);
export const s32: RecordCodec<number> = fixed(
  's32',
  4,
  (v, _b, o) => v.getInt32(o, le),
  (v, _b, o, x) => v.setInt32(o, x, le),
);
export const u64: RecordCodec<bigint> = fixed(
  'u64',
  8,
  (v, _b, o) => v.getBigUint64(o, le),
  (v, _b, o, x) => v.setBigUint64(o, x, le),
);
export const s64: RecordCodec<bigint> = fixed(
  's64',
  8,
  (v, _b, o) => v.getBigInt64(o, le),
  (v, _b, o, x) => v.setBigInt64(o, x, le),
);
export const f32: RecordCodec<number> = fixed(
  'f32',
  4,
  (v, _b, o) => v.getFloat32(o, le),
  (v, _b, o, x) => v.setFloat32(o, x, le),
);
export const f64: RecordCodec<number> = fixed(
  'f64',
  8,
  (v, _b, o) => v.getFloat64(o, le),
  (v, _b, o, x) => v.setFloat64(o, x, le),
);
export const bool: RecordCodec<boolean> = fixed(
  'bool',
  1,
  (v, _b, o) => v.getUint8(o) !== 0,
  (v, _b, o, x) => v.setUint8(o, x ? 1 : 0),
);

/** `n` raw bytes (a copy on decode). */
export function bytes(n: number): RecordCodec<Uint8Array> {
  return fixed(
    `bytes(${n})`,
    n,
    (_v, b, o) => copyBytes(b, o, o + n),
    (_v, b, o, x) => writeBytes(b, o, n, x),
  );
}

/**
 * A `char[n]` as a string: UTF-8 up to the first NUL. Bytes after it are not in the string:
 * `cstrings(n)` splits them, `bytes(n)` keeps them all.
 */
export function cstring(n: number): RecordCodec<string> {
  return fixed(
    `char[${n}]`,
    n,
    (_v, b, o) => readCString(b, o, n),
    (_v, b, o, x) => writeCString(b, o, n, x),
  );
}

/** A `char[n]` holding NUL-separated strings (argv packed by execsnoop) as `string[]`. */
export function cstrings(n: number): RecordCodec<string[]> {
  return fixed(
    `char[${n}]`,
    n,
    (_v, b, o) => readCStrings(b, o, n),
    (_v, b, o, x) => writeCStrings(b, o, n, x),
  );
}

/** An array of `n` values of `element` (arrays of structs, multi-dimensional arrays). */
export function array<T>(element: Codec<T>, n: number): RecordCodec<T[]> {
  const size = element.size * n;
  return fixed(
    `array(${n})`,
    size,
    (_v, b, o) => {
      const out: T[] = [];
      for (let i = 0; i < n; i++) out.push(element.decode(b, o + i * element.size));
      return out;
    },
    (_v, b, o, x) => {
      for (let i = 0; i < n && i < x.length; i++) element.encodeInto(x[i]!, b, o + i * element.size);
    },
  );
}

type NumberArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array;
type NumberArrayConstructor = {
  new (n: number): NumberArray;
  readonly BYTES_PER_ELEMENT: number;
  readonly name: string;
};
type BigArrayConstructor = { new (n: number): BigUint64Array | BigInt64Array; readonly name: string };

/** An array of `n` integers or floats as a typed array (`typedArray(Uint32Array, 4)`). */
export function typedArray<C extends NumberArrayConstructor | BigArrayConstructor>(
  ctor: C,
  n: number,
): RecordCodec<InstanceType<C>> {
  const element = elementCodec(ctor.name);
  return fixed(
    `${ctor.name}(${n})`,
    element.size * n,
    (_v, b, o) => {
      const out = new ctor(n) as unknown as { [i: number]: unknown };
      for (let i = 0; i < n; i++) out[i] = element.decode(b, o + i * element.size);
      return out as InstanceType<C>;
    },
    (_v, b, o, x) => {
      const src = x as unknown as ArrayLike<number | bigint>;
      for (let i = 0; i < n && i < src.length; i++)
        (element as Codec<unknown>).encodeInto(src[i], b, o + i * element.size);
    },
  );
}

function elementCodec(name: string): Codec<number> | Codec<bigint> {
  const map: Record<string, Codec<number> | Codec<bigint>> = {
    Uint8Array: u8,
    Int8Array: s8,
    Uint16Array: u16,
    Int16Array: s16,
    Uint32Array: u32,
    Int32Array: s32,
    Float32Array: f32,
    Float64Array: f64,
    BigUint64Array: u64,
    BigInt64Array: s64,
  };
  const codec = map[name];
  if (!codec) throw new TsbpfError(`typedArray: unsupported array type ${name}`);
  return codec;
}

// Helpers the generated codecs call. They take the bytes and offsets the generated code computed.

// 64-bit integers as numbers, for fields whose values the user says fit in 53 bits (fieldAs
// "number": counters, durations, sizes). A BigInt per value costs an allocation; two 32-bit loads
// and a multiply do not. Exact up to Number.MAX_SAFE_INTEGER; a value past it throws rather than
// come out rounded, so that a field chosen wrongly is found, not silently wrong.
const TWO_32 = 4294967296;
// The high word of the largest safe integer (2^53 - 1): 2^21 - 1.
const SAFE_HIGH = 0x1fffff;

function notSafe(field: string, value: bigint): TsbpfError {
  return new TsbpfError(
    `${field} is ${value}, which a number cannot hold exactly (the field decodes as a number: it must stay within ±(2^53 - 1))`,
    {
      hint: `Decode it as a bigint: take "${field}": "number" out of "fieldAs" (tsbpf.config.json) or tsbpf gen --field-as, and regenerate.`,
    },
  );
}

/** An unsigned 64-bit integer at `o` as a number; throws TsbpfError (naming `field`) past 2^53 - 1. */
export function getU64AsNumber(v: DataView, o: number, le: boolean, field: string): number {
  // A literal byte order in each branch: V8 then emits plain loads (20% faster than passing `le`).
  const high = le ? v.getUint32(o + 4, true) : v.getUint32(o, false);
  const low = le ? v.getUint32(o, true) : v.getUint32(o + 4, false);
  if (high > SAFE_HIGH) throw notSafe(field, v.getBigUint64(o, le));
  return high * TWO_32 + low;
}

/** A signed 64-bit integer at `o` as a number; throws TsbpfError (naming `field`) outside ±(2^53 - 1). */
export function getS64AsNumber(v: DataView, o: number, le: boolean, field: string): number {
  const high = le ? v.getInt32(o + 4, true) : v.getInt32(o, false);
  const low = le ? v.getUint32(o, true) : v.getUint32(o + 4, false);
  // -2^21 as the high word is safe unless the low word is 0 (that is -2^53).
  if (high > SAFE_HIGH || high < -SAFE_HIGH - 1 || (high === -SAFE_HIGH - 1 && low === 0)) {
    throw notSafe(field, v.getBigInt64(o, le));
  }
  return high * TWO_32 + low;
}

function notEncodable(field: string, value: unknown, signed: boolean): TsbpfError {
  const range = signed ? 'an integer within ±(2^53 - 1)' : 'an integer from 0 to 2^53 - 1';
  return new TsbpfError(`${field}: cannot encode ${String(value)}: it must be ${range}`, {
    hint: `Pass ${range}, or decode the field as a bigint (take "${field}": "number" out of "fieldAs").`,
  });
}

/** Writes a number as an unsigned 64-bit integer; throws unless it is an integer in [0, 2^53 - 1]. */
export function setU64FromNumber(v: DataView, o: number, x: number, le: boolean, field: string): void {
  if (!Number.isSafeInteger(x) || x < 0) throw notEncodable(field, x, false);
  const high = Math.floor(x / TWO_32);
  v.setUint32(le ? o + 4 : o, high, le);
  v.setUint32(le ? o : o + 4, x - high * TWO_32, le);
}

/** Writes a number as a signed 64-bit integer; throws unless it is a safe integer. */
export function setS64FromNumber(v: DataView, o: number, x: number, le: boolean, field: string): void {
  if (!Number.isSafeInteger(x)) throw notEncodable(field, x, true);
  const high = Math.floor(x / TWO_32);
  v.setInt32(le ? o + 4 : o, high, le);
  v.setUint32(le ? o : o + 4, x - high * TWO_32, le);
}

const utf8 = new TextDecoder('utf-8');
const utf8Encoder = new TextEncoder();

/** The string in `b[o, o + n)` up to the first NUL, decoded as UTF-8. */
export function readCString(b: Uint8Array, o: number, n: number): string {
  // Most strings in events (comm, file names) are short ASCII: build them in the scanning loop and
  // fall back to TextDecoder at the first non-ASCII byte.
  const limit = Math.min(o + n, b.length);
  if (limit - o > 128) {
    // Long buffers (paths, argument blocks): a native scan and decode beat the loop below.
    let end = b.indexOf(0, o);
    if (end < 0 || end > limit) end = limit;
    return utf8.decode(b.subarray(o, end));
  }
  let s = '';
  for (let i = o; i < limit; i++) {
    const c = b[i]!;
    if (c === 0) return s;
    if (c >= 0x80) {
      let end = i;
      while (end < limit && b[end] !== 0) end++;
      return utf8.decode(b.subarray(o, end));
    }
    s += String.fromCharCode(c);
  }
  return s;
}

/**
 * The NUL-separated strings in `b[o, o + n)`, each decoded as UTF-8. Empty strings at the end are
 * dropped (they are the zeroed rest of the field); empty ones between others are kept.
 */
export function readCStrings(b: Uint8Array, o: number, n: number): string[] {
  const limit = Math.min(o + n, b.length);
  let end = limit;
  while (end > o && b[end - 1] === 0) end--;
  const out: string[] = [];
  for (let start = o; start < end; ) {
    let nul = b.indexOf(0, start);
    if (nul < 0 || nul > end) nul = end;
    out.push(readCString(b, start, nul - start));
    start = nul + 1;
  }
  return out;
}

/** Writes each string NUL-terminated, one after another, into `b[o, o + n)`; the rest zeroed. */
export function writeCStrings(b: Uint8Array, o: number, n: number, strings: readonly string[]): void {
  const target = b.subarray(o, o + n);
  let at = 0;
  for (const s of strings) {
    if (at >= target.length) break;
    const { written } = utf8Encoder.encodeInto(s, target.subarray(at));
    at += written ?? 0;
    if (at < target.length) target[at++] = 0;
  }
  target.fill(0, at);
}

/** Writes `s` as UTF-8 into `b[o, o + n)`, truncated to n bytes, the rest zeroed. */
export function writeCString(b: Uint8Array, o: number, n: number, s: string): void {
  const target = b.subarray(o, o + n);
  const { written } = utf8Encoder.encodeInto(s, target);
  target.fill(0, written ?? 0);
}

/** Copies up to `n` bytes of `x` to `b[o, o + n)`, the rest zeroed. */
export function writeBytes(b: Uint8Array, o: number, n: number, x: Uint8Array): void {
  const k = Math.min(n, x.length);
  b.set(x.subarray(0, k), o);
  b.fill(0, o + k, o + n);
}

/**
 * Reads a bitfield of `bits` bits (at most 32) starting `bit` bits into the byte at `o`. Bit
 * numbering follows the byte order, as in C: from the least significant bit of `b[o]` on
 * little-endian targets, from its most significant bit on big-endian ones.
 */
export function readBits(
  b: Uint8Array,
  o: number,
  bit: number,
  bits: number,
  signed: boolean,
  le: boolean,
): number {
  const len = (bit + bits + 7) >> 3;
  let raw = 0;
  if (le) for (let i = len - 1; i >= 0; i--) raw = raw * 256 + b[o + i]!;
  else for (let i = 0; i < len; i++) raw = raw * 256 + b[o + i]!;
  const shift = le ? bit : len * 8 - bit - bits;
  let value = Math.floor(raw / 2 ** shift) % 2 ** bits;
  if (signed && value >= 2 ** (bits - 1)) value -= 2 ** bits;
  return value;
}

/** Writes a bitfield read by readBits, leaving the neighbouring bits as they are. */
export function writeBits(
  b: Uint8Array,
  o: number,
  bit: number,
  bits: number,
  value: number,
  le: boolean,
): void {
  const len = (bit + bits + 7) >> 3;
  let raw = 0;
  if (le) for (let i = len - 1; i >= 0; i--) raw = raw * 256 + b[o + i]!;
  else for (let i = 0; i < len; i++) raw = raw * 256 + b[o + i]!;
  const shift = le ? bit : len * 8 - bit - bits;
  const span = 2 ** bits;
  const field = ((Math.trunc(value) % span) + span) % span;
  const old = Math.floor(raw / 2 ** shift) % span;
  raw += (field - old) * 2 ** shift;
  if (le) for (let i = 0; i < len; i++, raw = Math.floor(raw / 256)) b[o + i] = raw % 256;
  else for (let i = len - 1; i >= 0; i--, raw = Math.floor(raw / 256)) b[o + i] = raw % 256;
}

/** readBits for bitfields of 64-bit integers (up to 64 bits wide), as bigint. */
export function readBitsBig(
  b: Uint8Array,
  o: number,
  bit: number,
  bits: number,
  signed: boolean,
  le: boolean,
): bigint {
  const len = (bit + bits + 7) >> 3;
  let raw = 0n;
  if (le) for (let i = len - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(b[o + i]!);
  else for (let i = 0; i < len; i++) raw = (raw << 8n) | BigInt(b[o + i]!);
  const shift = BigInt(le ? bit : len * 8 - bit - bits);
  const value = BigInt.asUintN(bits, raw >> shift);
  return signed ? BigInt.asIntN(bits, value) : value;
}

/** writeBits for bigint bitfields. */
export function writeBitsBig(
  b: Uint8Array,
  o: number,
  bit: number,
  bits: number,
  value: bigint,
  le: boolean,
): void {
  const len = (bit + bits + 7) >> 3;
  let raw = 0n;
  if (le) for (let i = len - 1; i >= 0; i--) raw = (raw << 8n) | BigInt(b[o + i]!);
  else for (let i = 0; i < len; i++) raw = (raw << 8n) | BigInt(b[o + i]!);
  const shift = BigInt(le ? bit : len * 8 - bit - bits);
  const mask = ((1n << BigInt(bits)) - 1n) << shift;
  raw = (raw & ~mask) | ((BigInt.asUintN(bits, value) << shift) & mask);
  if (le) for (let i = 0; i < len; i++, raw >>= 8n) b[o + i] = Number(raw & 0xffn);
  else for (let i = len - 1; i >= 0; i--, raw >>= 8n) b[o + i] = Number(raw & 0xffn);
}
