// Typed views over a raw BpfMap, one per map family. Keys and values go through codecs (the
// generated BTF codecs, or the primitives u32, u64, bytes(n), ...); the view checks the codec
// sizes against the map once, so a mismatch fails at construction rather than at the first lookup.
import type { Codec } from '../codegen/codec.js';
import { TsbpfError, UsageError } from '../errors.js';
import { hostLittleEndian, MapType, type UpdateFlag } from './constants.js';
import type { BpfMap } from './map.js';
import { numPossibleCpus } from './map.js';
import type { Program } from './program.js';

export function checkSize(map: BpfMap, what: 'key' | 'value', codec: Codec<unknown>, expected: number): void {
  if (codec.size !== expected) {
    throw new UsageError(
      `map ${map.name}: the ${what} codec is ${codec.size} bytes, the map's ${what}s are ${expected}`,
      {
        hint: 'regenerate the loader (tsbpf build) after changing the C types',
      },
    );
  }
}

export function requireType(map: BpfMap, view: string, types: number[]): void {
  if (!types.includes(map.type))
    throw new UsageError(`map ${map.name} is a ${map.typeName}; ${view} does not fit it`);
}

/** Key/value maps: hash, LRU hash, LPM trie (with an LpmKey codec), and the array family by index. */
export class HashMap<K, V> {
  readonly map: BpfMap;
  readonly #key: Codec<K>;
  readonly #value: Codec<V>;

  // Scratch buffers for single operations and batches: reused, never handed out (codecs copy).
  readonly #keyBuf: Uint8Array;
  readonly #valueBuf: Uint8Array;
  #batchKeys = new Uint8Array(0);
  #batchValues = new Uint8Array(0);

  constructor(map: BpfMap, key: Codec<K>, value: Codec<V>) {
    checkSize(map, 'key', key as Codec<unknown>, map.keySize);
    checkSize(map, 'value', value as Codec<unknown>, map.valueSize);
    if (map.perCpu) throw new UsageError(`map ${map.name} is per-CPU: use PerCpuHashMap`);
    this.map = map;
    this.#key = key;
    this.#value = value;
    this.#keyBuf = new Uint8Array(map.keySize);
    this.#valueBuf = new Uint8Array(map.valueSize);
  }

  /** The key encoded into the scratch key buffer. */
  #encodeKey(key: K): Uint8Array {
    this.#key.encodeInto(key, this.#keyBuf, 0);
    return this.#keyBuf;
  }

  get(key: K): V | undefined {
    return this.map.lookupInto(this.#encodeKey(key), this.#valueBuf)
      ? this.#value.decode(this.#valueBuf, 0)
      : undefined;
  }

  set(key: K, value: V, flag: UpdateFlag = 'any'): void {
    this.#value.encodeInto(value, this.#valueBuf, 0);
    this.map.update(this.#encodeKey(key), this.#valueBuf, flag);
  }

  delete(key: K): boolean {
    return this.map.delete(this.#encodeKey(key));
  }

  has(key: K): boolean {
    return this.map.lookupInto(this.#encodeKey(key), this.#valueBuf);
  }

  *keys(): IterableIterator<K> {
    for (const k of this.map.keys()) yield this.#key.decode(k);
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  /** Every entry; one batch syscall per 256 entries where the kernel supports it. */
  *entries(): IterableIterator<[K, V]> {
    const batch = this.#readBatch();
    if (batch) {
      yield* batch;
      return;
    }
    for (const [k, v] of this.map.entries()) yield [this.#key.decode(k), this.#value.decode(v)];
  }

  /** Every entry decoded straight out of the batch buffers; undefined when batches are unsupported. */
  #readBatch(): Array<[K, V]> | undefined {
    const out: Array<[K, V]> = [];
    const key = this.#key;
    const value = this.#value;
    const ks = this.map.keySize;
    const vs = this.map.valueSize;
    const ok = this.map.forEachBatch((keys, values, n) => {
      for (let i = 0; i < n; i++) out.push([key.decode(keys, i * ks), value.decode(values, i * vs)]);
    });
    return ok ? out : undefined;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /** Number of entries (walks the keys). */
  get size(): number {
    let n = 0;
    for (const _ of this.map.keys()) n++;
    return n;
  }

  /** Reads every entry with batch syscalls (falls back to one lookup per key). */
  getBatch(): Array<[K, V]> {
    return this.#readBatch() ?? [...this.entries()];
  }

  /** Writes entries with BPF_MAP_UPDATE_BATCH (one update per entry where unsupported). */
  setBatch(entries: Iterable<[K, V]>, flag: UpdateFlag = 'any'): void {
    // Encoded straight into one pair of batch buffers (kept for the next call), grown as needed.
    const ks = this.map.keySize;
    const vs = this.map.valueSize;
    const hint = Array.isArray(entries) ? entries.length : 64;
    if (this.#batchKeys.length < hint * ks) this.#growBatch(hint);
    let n = 0;
    for (const [k, v] of entries) {
      if ((n + 1) * ks > this.#batchKeys.length) this.#growBatch(2 * (n + 1));
      this.#key.encodeInto(k, this.#batchKeys, n * ks);
      this.#value.encodeInto(v, this.#batchValues, n * vs);
      n++;
    }
    try {
      if (this.map.updateBatchPacked(this.#batchKeys, this.#batchValues, n, flag)) return;
      for (let i = 0; i < n; i++) {
        this.map.update(
          this.#batchKeys.subarray(i * ks, (i + 1) * ks),
          this.#batchValues.subarray(i * vs, (i + 1) * vs),
          flag,
        );
      }
    } finally {
      // Keep buffers for typical batches; do not hold on to a huge one-off.
      if (this.#batchKeys.byteLength + this.#batchValues.byteLength > 1 << 20) this.#growBatch(0);
    }
  }

  /** Resizes the batch buffers to hold `count` entries, keeping what fits. */
  #growBatch(count: number): void {
    const keys = new Uint8Array(count * this.map.keySize);
    const values = new Uint8Array(count * this.map.valueSize);
    keys.set(this.#batchKeys.subarray(0, keys.length));
    values.set(this.#batchValues.subarray(0, values.length));
    this.#batchKeys = keys;
    this.#batchValues = values;
  }

  /** Deletes keys with BPF_MAP_DELETE_BATCH; returns how many were deleted. */
  deleteBatch(keys: Iterable<K>): number {
    const raw = [...keys].map((k) => this.#key.encode(k));
    const n = this.map.deleteBatch(raw);
    if (n !== undefined) return n;
    return raw.filter((k) => this.map.delete(k)).length;
  }

  /** Deletes every entry. */
  clear(): void {
    const keys = [...this.map.keys()];
    if (this.map.deleteBatch(keys) === undefined) for (const k of keys) this.map.delete(k);
  }
}

const u32key = (index: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, index, hostLittleEndian);
  return b;
};

/** BPF_MAP_TYPE_ARRAY: values by index 0..maxEntries-1; every index exists. */
export class ArrayMap<V> {
  readonly map: BpfMap;
  readonly #value: Codec<V>;
  // Scratch buffers reused by every get/set (codecs copy what they decode).
  readonly #keyBuf = new Uint8Array(4);
  readonly #keyView = new DataView(this.#keyBuf.buffer);
  readonly #valueBuf: Uint8Array;
  constructor(map: BpfMap, value: Codec<V>) {
    requireType(map, 'ArrayMap', [MapType.array]);
    checkSize(map, 'value', value as Codec<unknown>, map.valueSize);
    this.map = map;
    this.#value = value;
    this.#valueBuf = new Uint8Array(map.valueSize);
  }
  #index(index: number): Uint8Array {
    this.#check(index);
    this.#keyView.setUint32(0, index, hostLittleEndian);
    return this.#keyBuf;
  }
  get length(): number {
    return this.map.maxEntries;
  }
  get(index: number): V {
    if (!this.map.lookupInto(this.#index(index), this.#valueBuf)) {
      throw new TsbpfError(`map ${this.map.name}: index ${index} has no value`);
    }
    return this.#value.decode(this.#valueBuf, 0);
  }
  set(index: number, value: V): void {
    this.#value.encodeInto(value, this.#valueBuf, 0);
    this.map.update(this.#index(index), this.#valueBuf);
  }
  *entries(): IterableIterator<[number, V]> {
    for (let i = 0; i < this.length; i++) yield [i, this.get(i)];
  }
  *values(): IterableIterator<V> {
    for (let i = 0; i < this.length; i++) yield this.get(i);
  }
  #check(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.map.maxEntries) {
      throw new UsageError(`map ${this.map.name}: index ${index} is outside 0..${this.map.maxEntries - 1}`);
    }
  }
}

/** Splits/joins the per-CPU value layout: one value per possible CPU, each rounded up to 8 bytes. */
class PerCpuValues<V> {
  readonly #codec: Codec<V>;
  readonly #stride: number;
  constructor(codec: Codec<V>) {
    this.#codec = codec;
    this.#stride = Math.ceil(codec.size / 8) * 8;
  }
  decode(raw: Uint8Array): V[] {
    const out: V[] = [];
    for (let cpu = 0; cpu < numPossibleCpus(); cpu++) out.push(this.#codec.decode(raw, cpu * this.#stride));
    return out;
  }
  encode(values: V[] | V): Uint8Array {
    const n = numPossibleCpus();
    const raw = new Uint8Array(this.#stride * n);
    for (let cpu = 0; cpu < n; cpu++) {
      const v = Array.isArray(values) ? values[cpu] : values;
      if (v === undefined)
        throw new UsageError(`per-CPU value: give ${n} values (one per possible CPU) or a single value`);
      this.#codec.encodeInto(v, raw, cpu * this.#stride);
    }
    return raw;
  }
}

/** Per-CPU hash maps: values are arrays, one per possible CPU. set() takes such an array or one value for all. */
export class PerCpuHashMap<K, V> {
  readonly map: BpfMap;
  readonly #key: Codec<K>;
  readonly #values: PerCpuValues<V>;
  constructor(map: BpfMap, key: Codec<K>, value: Codec<V>) {
    requireType(map, 'PerCpuHashMap', [MapType.percpuHash, MapType.lruPercpuHash]);
    checkSize(map, 'key', key as Codec<unknown>, map.keySize);
    checkSize(map, 'value', value as Codec<unknown>, map.valueSize);
    this.map = map;
    this.#key = key;
    this.#values = new PerCpuValues(value);
  }
  get(key: K): V[] | undefined {
    const raw = this.map.lookup(this.#key.encode(key));
    return raw && this.#values.decode(raw);
  }
  set(key: K, values: V[] | V, flag: UpdateFlag = 'any'): void {
    this.map.update(this.#key.encode(key), this.#values.encode(values), flag);
  }
  delete(key: K): boolean {
    return this.map.delete(this.#key.encode(key));
  }
  has(key: K): boolean {
    return this.map.lookup(this.#key.encode(key)) !== undefined;
  }
  *keys(): IterableIterator<K> {
    for (const k of this.map.keys()) yield this.#key.decode(k);
  }
  *entries(): IterableIterator<[K, V[]]> {
    const batch = this.map.lookupBatch() ?? [...this.map.entries()];
    for (const [k, v] of batch) yield [this.#key.decode(k), this.#values.decode(v)];
  }
  get size(): number {
    let n = 0;
    for (const _ of this.map.keys()) n++;
    return n;
  }
}

/** BPF_MAP_TYPE_PERCPU_ARRAY. */
export class PerCpuArrayMap<V> {
  readonly map: BpfMap;
  readonly #values: PerCpuValues<V>;
  constructor(map: BpfMap, value: Codec<V>) {
    requireType(map, 'PerCpuArrayMap', [MapType.percpuArray]);
    checkSize(map, 'value', value as Codec<unknown>, map.valueSize);
    this.map = map;
    this.#values = new PerCpuValues(value);
  }
  get length(): number {
    return this.map.maxEntries;
  }
  get(index: number): V[] {
    return this.#values.decode(this.map.lookup(u32key(index))!);
  }
  set(index: number, values: V[] | V): void {
    this.map.update(u32key(index), this.#values.encode(values));
  }
}

/** An LPM trie key: struct bpf_lpm_trie_key { __u32 prefixlen; __u8 data[]; } (uapi/linux/bpf.h). */
export interface LpmKey<D> {
  prefixLen: number;
  data: D;
}

/** The codec for LPM trie keys whose data part has the given codec (e.g. bytes(4) for IPv4). */
export function lpmKey<D>(data: Codec<D>): Codec<LpmKey<D>> {
  const size = 4 + data.size;
  return {
    size,
    decode(bytes, offset = 0) {
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      return { prefixLen: view.getUint32(offset, hostLittleEndian), data: data.decode(bytes, offset + 4) };
    },
    encode(value) {
      const out = new Uint8Array(size);
      this.encodeInto(value, out, 0);
      return out;
    },
    encodeInto(value, bytes, offset = 0) {
      new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).setUint32(
        offset,
        value.prefixLen,
        hostLittleEndian,
      );
      data.encodeInto(value.data, bytes, offset + 4);
    },
  };
}

/** BPF_MAP_TYPE_LPM_TRIE: longest-prefix-match lookups. */
export class LpmTrieMap<D, V> extends HashMap<LpmKey<D>, V> {
  constructor(map: BpfMap, data: Codec<D>, value: Codec<V>) {
    requireType(map, 'LpmTrieMap', [MapType.lpmTrie]);
    super(map, lpmKey(data), value);
  }
  /** The value of the longest prefix that matches `data` (prefix length = all bits of data). */
  match(data: D, prefixLen?: number): V | undefined {
    return this.get({ prefixLen: prefixLen ?? (this.map.keySize - 4) * 8, data });
  }
}

/** BPF_MAP_TYPE_PROG_ARRAY: tail-call targets by index. */
export class ProgArray {
  readonly map: BpfMap;
  constructor(map: BpfMap) {
    requireType(map, 'ProgArray', [MapType.progArray]);
    this.map = map;
  }
  set(index: number, program: Program | number): void {
    const fd = typeof program === 'number' ? program : program.fd;
    this.map.update(u32key(index), u32key(fd));
  }
  delete(index: number): boolean {
    return this.map.delete(u32key(index));
  }
  /** The id of the program at index (the kernel returns ids, not fds), or undefined. */
  getId(index: number): number | undefined {
    const raw = this.map.lookup(u32key(index));
    return raw && new DataView(raw.buffer).getUint32(0, hostLittleEndian);
  }
}

/** BPF_MAP_TYPE_ARRAY_OF_MAPS / HASH_OF_MAPS: values are inner maps (set by fd, read back as ids). */
export class MapOfMaps<K = number> {
  readonly map: BpfMap;
  readonly #key: Codec<K> | undefined;
  constructor(map: BpfMap, key?: Codec<K>) {
    requireType(map, 'MapOfMaps', [MapType.arrayOfMaps, MapType.hashOfMaps]);
    this.map = map;
    this.#key = key;
  }
  #encodeKey(key: K): Uint8Array {
    if (this.#key) return this.#key.encode(key);
    if (typeof key === 'number' && this.map.keySize === 4) return u32key(key);
    throw new UsageError(`map ${this.map.name}: give a key codec for ${this.map.keySize}-byte keys`);
  }
  set(key: K, inner: BpfMap | number, flag: UpdateFlag = 'any'): void {
    const fd = typeof inner === 'number' ? inner : inner.fd;
    this.map.update(this.#encodeKey(key), u32key(fd), flag);
  }
  /** The id of the inner map at key, or undefined. */
  getId(key: K): number | undefined {
    const raw = this.map.lookup(this.#encodeKey(key));
    return raw && new DataView(raw.buffer).getUint32(0, hostLittleEndian);
  }
  delete(key: K): boolean {
    return this.map.delete(this.#encodeKey(key));
  }
}

/** BPF_MAP_TYPE_STACK_TRACE: stacks by the id bpf_get_stackid() returned, as instruction addresses. */
export class StackTraceMap {
  readonly map: BpfMap;
  constructor(map: BpfMap) {
    requireType(map, 'StackTraceMap', [MapType.stackTrace]);
    this.map = map;
  }
  /** The addresses of stack `id`, innermost first, without the trailing zeros; undefined when unknown. */
  get(id: number): bigint[] | undefined {
    const raw = this.map.lookup(u32key(id));
    if (!raw) return undefined;
    const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
    const out: bigint[] = [];
    for (let o = 0; o + 8 <= raw.byteLength; o += 8) {
      const ip = view.getBigUint64(o, hostLittleEndian);
      if (ip === 0n) break;
      out.push(ip);
    }
    return out;
  }
  delete(id: number): boolean {
    return this.map.delete(u32key(id));
  }
  *ids(): IterableIterator<number> {
    for (const k of this.map.keys()) yield new DataView(k.buffer).getUint32(0, hostLittleEndian);
  }
}

/** BPF_MAP_TYPE_QUEUE (FIFO) and BPF_MAP_TYPE_STACK (LIFO). */
export class QueueMap<V> {
  readonly map: BpfMap;
  readonly #value: Codec<V>;
  constructor(map: BpfMap, value: Codec<V>) {
    requireType(map, 'QueueMap', [MapType.queue, MapType.stack]);
    checkSize(map, 'value', value as Codec<unknown>, map.valueSize);
    this.map = map;
    this.#value = value;
  }
  /** Adds a value; with overwrite, a full queue drops its oldest (BPF_EXIST), otherwise it throws. */
  push(value: V, options: { overwrite?: boolean } = {}): void {
    this.map.update(null, this.#value.encode(value), options.overwrite ? 'exist' : 'any');
  }
  /** Removes and returns the next value, or undefined when empty. */
  pop(): V | undefined {
    const raw = this.map.lookupAndDelete(null);
    return raw && this.#value.decode(raw);
  }
  /** Returns the next value without removing it. */
  peek(): V | undefined {
    const raw = this.map.lookup(null);
    return raw && this.#value.decode(raw);
  }
}

/** A typed global in a data section (.data/.bss live memory; .rodata before load). */
export class Variable<T> {
  readonly #section: () => Uint8Array;
  readonly offset: number;
  readonly #codec: Codec<T>;
  constructor(section: () => Uint8Array, offset: number, codec: Codec<T>) {
    this.#section = section;
    this.offset = offset;
    this.#codec = codec;
  }
  get(): T {
    return this.#codec.decode(this.#section(), this.offset);
  }
  set(value: T): void {
    const bytes = this.#section();
    if (this.offset + this.#codec.size > bytes.byteLength) {
      throw new TsbpfError(
        `variable at offset ${this.offset} does not fit its section (${bytes.byteLength} bytes)`,
      );
    }
    this.#codec.encodeInto(value, bytes, this.offset);
  }
}
