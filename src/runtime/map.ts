// BpfMap: one kernel map by its fd, keys and values as raw bytes. The typed views (maps.ts) and the
// event readers are built on it. Per-CPU maps take and return values of valueSize rounded up to 8,
// once per possible CPU, back to back (kernel/bpf/syscall.c, bpf_map_value_size).
import { unlinkSync } from 'node:fs';
import { UsageError } from '../errors.js';
import {
  hostLittleEndian,
  isPerCpuMapType,
  MapType,
  mapTypeName,
  type UpdateFlag,
  UpdateFlags,
} from './constants.js';
import { callError, EINVAL, ENOENT, ENOTSUPP, EOPNOTSUPP } from './errors.js';
import { BatchOpts, koffi, libbpf } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';

export interface MapInfo {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
}

let possibleCpus: number | undefined;

/** Number of possible CPUs, the length of a per-CPU value array. */
export function numPossibleCpus(): number {
  if (possibleCpus === undefined) {
    const n = libbpf().libbpf_num_possible_cpus() as number;
    if (n <= 0) throw callError('libbpf_num_possible_cpus', -n);
    possibleCpus = n;
  }
  return possibleCpus;
}

export class BpfMap implements MapInfo {
  readonly name: string;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  #fd: number;
  readonly #ownsFd: boolean;
  #batchUnsupported = false;
  readonly #dependents = new Set<{ close(): void }>();

  /** `ownsFd`: close() closes the fd (maps opened from a pin); a collection's maps are closed with it. */
  constructor(fd: number, info: MapInfo, options: { ownsFd?: boolean } = {}) {
    this.#fd = fd;
    this.name = info.name;
    this.type = info.type;
    this.keySize = info.keySize;
    this.valueSize = info.valueSize;
    this.maxEntries = info.maxEntries;
    this.flags = info.flags;
    this.#ownsFd = options.ownsFd ?? false;
  }

  get fd(): number {
    if (this.#fd < 0)
      throw new UsageError(`map ${this.name} is closed`, {
        hint: 'use maps before closing their collection',
      });
    return this.#fd;
  }

  get typeName(): string {
    return mapTypeName(this.type);
  }

  get perCpu(): boolean {
    return isPerCpuMapType(this.type);
  }

  /** Bytes of one value as the syscall takes it (all CPUs for per-CPU maps). */
  get valueBufferSize(): number {
    return this.perCpu ? Math.ceil(this.valueSize / 8) * 8 * numPossibleCpus() : this.valueSize;
  }

  #checkKey(key: Uint8Array | null): Uint8Array | null {
    if (key === null) return null;
    if (key.byteLength !== this.keySize) {
      throw new UsageError(
        `map ${this.name}: key is ${key.byteLength} bytes, the map's keys are ${this.keySize}`,
      );
    }
    return key;
  }

  /** The value for key, or undefined when there is none. */
  lookup(key: Uint8Array | null, flags = 0): Uint8Array | undefined {
    const value = new Uint8Array(this.valueBufferSize);
    const err = libbpf().bpf_map_lookup_elem_flags(this.fd, this.#checkKey(key), value, flags) as number;
    if (err === -ENOENT) return undefined;
    if (err < 0) throw callError(`map ${this.name}: lookup`, -err);
    return value;
  }

  /**
   * Looks key up into `value` (valueBufferSize bytes, reused by the caller); false when there is no
   * entry. The typed views use it with scratch buffers so a lookup allocates nothing.
   */
  lookupInto(key: Uint8Array | null, value: Uint8Array, flags = 0): boolean {
    if (value.byteLength < this.valueBufferSize) {
      throw new UsageError(
        `map ${this.name}: value buffer is ${value.byteLength} bytes, expected ${this.valueBufferSize}`,
      );
    }
    const err = libbpf().bpf_map_lookup_elem_flags(this.fd, this.#checkKey(key), value, flags) as number;
    if (err === -ENOENT) return false;
    if (err < 0) throw callError(`map ${this.name}: lookup`, -err);
    return true;
  }

  update(key: Uint8Array | null, value: Uint8Array, flag: UpdateFlag | number = 'any'): void {
    if (value.byteLength !== this.valueBufferSize) {
      throw new UsageError(
        `map ${this.name}: value is ${value.byteLength} bytes, expected ${this.valueBufferSize}`,
      );
    }
    const flags = typeof flag === 'number' ? flag : UpdateFlags[flag];
    const err = libbpf().bpf_map_update_elem(this.fd, this.#checkKey(key), value, flags) as number;
    if (err < 0) throw callError(`map ${this.name}: update`, -err, updateDetail(-err, flag));
  }

  /** Deletes key; false when it was not there. */
  delete(key: Uint8Array): boolean {
    const err = libbpf().bpf_map_delete_elem(this.fd, this.#checkKey(key)) as number;
    if (err === -ENOENT) return false;
    if (err < 0) throw callError(`map ${this.name}: delete`, -err);
    return true;
  }

  /** The key after `key` (the first key for undefined), or undefined at the end. */
  nextKey(key: Uint8Array | undefined): Uint8Array | undefined {
    const next = new Uint8Array(this.keySize);
    const err = libbpf().bpf_map_get_next_key(this.fd, key ? this.#checkKey(key) : null, next) as number;
    if (err === -ENOENT) return undefined;
    if (err < 0) throw callError(`map ${this.name}: next key`, -err);
    return next;
  }

  /** Looks up and deletes in one step (queue/stack pop: key null). */
  lookupAndDelete(key: Uint8Array | null): Uint8Array | undefined {
    const value = new Uint8Array(this.valueBufferSize);
    const err = libbpf().bpf_map_lookup_and_delete_elem(this.fd, this.#checkKey(key), value) as number;
    if (err === -ENOENT) return undefined;
    if (err < 0) throw callError(`map ${this.name}: lookup and delete`, -err);
    return value;
  }

  *keys(): IterableIterator<Uint8Array> {
    let key: Uint8Array | undefined;
    // A key deleted while we walk makes get_next_key restart from the first key; that is the kernel's
    // documented behaviour and callers that delete while iterating get each remaining key at least once.
    for (;;) {
      key = this.nextKey(key);
      if (!key) return;
      yield key;
    }
  }

  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    for (const key of this.keys()) {
      const value = this.lookup(key);
      if (value) yield [key, value];
    }
  }

  /** Whether batch operations can be used on this map (the kernel refuses them for some types). */
  get supportsBatch(): boolean {
    return (
      !this.#batchUnsupported && !(this.type === MapType.ringbuf || this.type === MapType.perfEventArray)
    );
  }

  /**
   * Reads every entry with BPF_MAP_LOOKUP_BATCH, `chunk` entries per syscall; undefined when the
   * kernel does not support batches for this map (callers fall back to keys()/lookup()).
   */
  lookupBatch(chunk = 256): Array<[Uint8Array, Uint8Array]> | undefined {
    const out: Array<[Uint8Array, Uint8Array]> = [];
    const ks = this.keySize;
    const vs = this.valueBufferSize;
    const ok = this.forEachBatch((keys, values, n) => {
      for (let i = 0; i < n; i++) {
        out.push([keys.slice(i * ks, (i + 1) * ks), values.slice(i * vs, (i + 1) * vs)]);
      }
    }, chunk);
    return ok ? out : undefined;
  }

  /**
   * Walks every entry with BPF_MAP_LOOKUP_BATCH: `visit` gets the keys and values of each chunk
   * back to back (keySize and valueBufferSize bytes apart) in buffers reused for the next chunk, so
   * it must decode or copy what it keeps. False when the kernel does not support batches for this
   * map (nothing was visited).
   */
  forEachBatch(visit: (keys: Uint8Array, values: Uint8Array, count: number) => void, chunk = 256): boolean {
    if (!this.supportsBatch) return false;
    const l = libbpf();
    const vsize = this.valueBufferSize;
    // Hash maps use a 4-byte-or-key-sized opaque batch token; key size is always enough.
    const tokenSize = Math.max(this.keySize, 4);
    const keys = new Uint8Array(this.keySize * chunk);
    const values = new Uint8Array(vsize * chunk);
    // The kernel reads in_batch and writes out_batch: two tokens, swapped after each call.
    let inBatch: Uint8Array | null = null;
    let outBatch: Uint8Array = new Uint8Array(tokenSize);
    let spare: Uint8Array = new Uint8Array(tokenSize);
    const opts = { sz: koffi.sizeof(BatchOpts), elem_flags: 0, flags: 0 };
    const count = [chunk];
    for (;;) {
      count[0] = chunk;
      const err = l.bpf_map_lookup_batch(this.fd, inBatch, outBatch, keys, values, count, opts) as number;
      const n = count[0] ?? 0;
      if (err < 0 && err !== -ENOENT) {
        if (isUnsupported(-err) && inBatch === null) {
          this.#batchUnsupported = true;
          return false;
        }
        throw callError(`map ${this.name}: lookup batch`, -err);
      }
      if (n > 0) visit(keys, values, n);
      if (err === -ENOENT) return true;
      inBatch = outBatch;
      outBatch = spare;
      spare = inBatch;
    }
  }

  /** Writes many entries with BPF_MAP_UPDATE_BATCH; false when unsupported (nothing written). */
  updateBatch(entries: Array<[Uint8Array, Uint8Array]>, flag: UpdateFlag = 'any'): boolean {
    if (!this.supportsBatch) return false;
    if (entries.length === 0) return true;
    const vsize = this.valueBufferSize;
    const keys = new Uint8Array(this.keySize * entries.length);
    const values = new Uint8Array(vsize * entries.length);
    entries.forEach(([k, v], i) => {
      keys.set(this.#checkKey(k)!, i * this.keySize);
      if (v.byteLength !== vsize)
        throw new UsageError(`map ${this.name}: value is ${v.byteLength} bytes, expected ${vsize}`);
      values.set(v, i * vsize);
    });
    const count = [entries.length];
    const opts = { sz: koffi.sizeof(BatchOpts), elem_flags: UpdateFlags[flag], flags: 0 };
    const err = libbpf().bpf_map_update_batch(this.fd, keys, values, count, opts) as number;
    if (err < 0) {
      if (isUnsupported(-err) && count[0] === 0) {
        this.#batchUnsupported = true;
        return false;
      }
      throw callError(`map ${this.name}: update batch`, -err, updateDetail(-err, flag));
    }
    return true;
  }

  /**
   * BPF_MAP_UPDATE_BATCH of the first `count` keys and values packed back to back in `keys` and
   * `values` (keySize and valueBufferSize bytes apart); false when unsupported (nothing written).
   */
  updateBatchPacked(keys: Uint8Array, values: Uint8Array, count: number, flag: UpdateFlag = 'any'): boolean {
    if (!this.supportsBatch) return false;
    if (count === 0) return true;
    if (keys.byteLength < count * this.keySize || values.byteLength < count * this.valueBufferSize) {
      throw new UsageError(`map ${this.name}: batch buffers are shorter than ${count} entries`);
    }
    const done = [count];
    const opts = { sz: koffi.sizeof(BatchOpts), elem_flags: UpdateFlags[flag], flags: 0 };
    const err = libbpf().bpf_map_update_batch(this.fd, keys, values, done, opts) as number;
    if (err < 0) {
      if (isUnsupported(-err) && done[0] === 0) {
        this.#batchUnsupported = true;
        return false;
      }
      throw callError(`map ${this.name}: update batch`, -err, updateDetail(-err, flag));
    }
    return true;
  }

  /** Deletes many keys with BPF_MAP_DELETE_BATCH; the count deleted, or undefined when unsupported. */
  deleteBatch(keyList: Uint8Array[]): number | undefined {
    if (!this.supportsBatch) return undefined;
    if (keyList.length === 0) return 0;
    const keys = new Uint8Array(this.keySize * keyList.length);
    keyList.forEach((k, i) => {
      keys.set(this.#checkKey(k)!, i * this.keySize);
    });
    const count = [keyList.length];
    const opts = { sz: koffi.sizeof(BatchOpts), elem_flags: 0, flags: 0 };
    const err = libbpf().bpf_map_delete_batch(this.fd, keys, count, opts) as number;
    if (err < 0 && err !== -ENOENT) {
      if (isUnsupported(-err) && count[0] === 0) {
        this.#batchUnsupported = true;
        return undefined;
      }
      throw callError(`map ${this.name}: delete batch`, -err);
    }
    return count[0] ?? 0;
  }

  /** Pins the map at path (on a bpffs mount). */
  pin(path: string): void {
    const err = libbpf().bpf_obj_pin(this.fd, path) as number;
    if (err < 0) throw callError(`map ${this.name}: pin at ${path}`, -err, pinDetail(-err));
  }

  /** Removes a pin made with pin(path). */
  unpin(path: string): void {
    unlinkSync(path);
  }

  /** Closes the fd when this map owns it (opened from a pin); a collection's maps close with it. */
  close(): void {
    for (const d of [...this.#dependents]) d.close();
    this.#dependents.clear();
    if (this.#fd >= 0 && this.#ownsFd) libc().close(this.#fd);
    this.#fd = -1;
  }

  /** Called by the owning collection when it closes: dependents (readers) close first. */
  invalidate(): void {
    for (const d of [...this.#dependents]) d.close();
    this.#dependents.clear();
    this.#fd = -1;
  }

  /** @internal a reader or view that must close before this map's fd goes away. */
  addDependent(d: { close(): void }): void {
    this.#dependents.add(d);
  }

  /** @internal */
  removeDependent(d: { close(): void }): void {
    this.#dependents.delete(d);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function isUnsupported(errno: number): boolean {
  return errno === EINVAL || errno === ENOTSUPP || errno === EOPNOTSUPP;
}

function updateDetail(errno: number, flag: UpdateFlag | number): string[] {
  if (errno === 17) return ['the key exists (flag noexist)'];
  if (errno === ENOENT && flag === 'exist') return ['the key does not exist (flag exist)'];
  if (errno === 7) return ['the map is full (E2BIG): raise max_entries before load'];
  return [];
}

export function pinDetail(errno: number): string[] {
  if (errno === 17) return ['something is already pinned there'];
  if (errno === ENOENT || errno === 1)
    return ['the directory must be on a bpf filesystem (mount -t bpf bpf /sys/fs/bpf)'];
  return [];
}

/** struct bpf_map_info (include/uapi/linux/bpf.h): the fields we read. */
export function mapInfoFromFd(fd: number): MapInfo & { id: number } {
  const info = new Uint8Array(96);
  const len = [info.byteLength];
  const err = libbpf().bpf_obj_get_info_by_fd(fd, info, len) as number;
  if (err < 0) throw callError('bpf_obj_get_info_by_fd', -err);
  const view = new DataView(info.buffer);
  const le = hostLittleEndian;
  const nameBytes = info.subarray(24, 40);
  const end = nameBytes.indexOf(0);
  return {
    type: view.getUint32(0, le),
    id: view.getUint32(4, le),
    keySize: view.getUint32(8, le),
    valueSize: view.getUint32(12, le),
    maxEntries: view.getUint32(16, le),
    flags: view.getUint32(20, le),
    name: new TextDecoder().decode(nameBytes.subarray(0, end < 0 ? 16 : end)),
  };
}

/** Opens a map pinned at path. The returned map owns its fd: close() it. */
export function openPinnedMap(path: string): BpfMap {
  const fd = libbpf().bpf_obj_get(path) as number;
  if (fd < 0)
    throw callError(`open pinned map ${path}`, -fd, -fd === ENOENT ? ['nothing is pinned there'] : []);
  try {
    return new BpfMap(fd, mapInfoFromFd(fd), { ownsFd: true });
  } catch (error) {
    libc().close(fd);
    throw error;
  }
}
