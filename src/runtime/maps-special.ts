// Typed views over the map kinds whose keys or values are not plain data: cgroup arrays and
// reuseport socket arrays (fds in, the kernel keeps a reference), bloom filters (values without
// keys), local storage (one value per task, cgroup, socket or inode, keyed from user space by an fd
// of that object) and struct_ops maps (a kernel ops table whose functions are BPF programs).
// Layouts and semantics from kernel/bpf/{arraymap,bloom_filter,bpf_local_storage,bpf_struct_ops}.c
// and net/core/{sock_map,sock_reuseport,bpf_sk_storage}.c.
import { closeSync } from 'node:fs';
import type { Codec } from '../codegen/codec.js';
import { NotSupportedError, UsageError } from '../errors.js';
import { withCgroupFd } from './cgroup.js';
import { hostLittleEndian, MapType, type UpdateFlag } from './constants.js';
import { callError, EEXIST, EINVAL, ENOSYS, ESRCH } from './errors.js';

/** errno EBUSY (include/uapi/asm-generic/errno-base.h). */
const EBUSY = 16;

import { koffi, libbpf, type Pointer } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';
import { captureLibbpf } from './ffi/print.js';
import { LibbpfLink, type Link } from './link.js';
import type { BpfMap } from './map.js';
import { checkSize, requireType } from './maps.js';

/** A host-order u32 (an index, or an fd as the kernel reads it from a map key or value). */
function u32(value: number): Uint8Array {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value, hostLittleEndian);
  return b;
}

/** An fd argument: a non-negative integer (an fd the caller opened and still holds). */
function checkFd(map: BpfMap, what: string, fd: number): number {
  if (!Number.isInteger(fd) || fd < 0) {
    throw new UsageError(`map ${map.name}: ${what} ${fd} is not a file descriptor`, {
      hint: `give the fd of an open ${what.replace(/ fd$/, '')} (a non-negative integer)`,
    });
  }
  return fd;
}

function checkIndex(map: BpfMap, index: number): number {
  if (!Number.isInteger(index) || index < 0 || index >= map.maxEntries) {
    throw new UsageError(`map ${map.name}: index ${index} is outside 0..${map.maxEntries - 1}`);
  }
  return index;
}

/** Arrays whose values are kernel objects set by fd: slots by index, emptied with delete(). */
export abstract class FdArray {
  readonly map: BpfMap;
  constructor(map: BpfMap, view: string, type: number) {
    requireType(map, view, [type]);
    this.map = map;
  }
  get length(): number {
    return this.map.maxEntries;
  }
  /** Empties slot index; false when it was empty. */
  delete(index: number): boolean {
    return this.map.delete(u32(checkIndex(this.map, index)));
  }
}

/**
 * BPF_MAP_TYPE_CGROUP_ARRAY: cgroups by index, for bpf_current_task_under_cgroup() and
 * bpf_skb_under_cgroup(). A slot is set from a cgroup v2 directory's path or an open fd of one; the
 * kernel keeps its own reference, so the fd may be closed afterwards. The kernel gives nothing back
 * for a lookup from user space, so there is no get().
 */
export class CgroupArray extends FdArray {
  constructor(map: BpfMap) {
    super(map, 'CgroupArray', MapType.cgroupArray);
  }
  /** Puts the cgroup at `cgroup` (a directory such as /sys/fs/cgroup/my.slice, or its open fd) in slot index. */
  set(index: number, cgroup: string | number): void {
    checkIndex(this.map, index);
    if (typeof cgroup === 'number') {
      this.map.update(u32(index), u32(checkFd(this.map, 'cgroup fd', cgroup)));
      return;
    }
    withCgroupFd(`map ${this.map.name}: index ${index}`, cgroup, (fd) =>
      this.map.update(u32(index), u32(fd)),
    );
  }
}

/**
 * BPF_MAP_TYPE_BLOOM_FILTER: a set that answers "maybe present" or "certainly absent". Values are
 * added (push) and tested (has), never listed or removed. False positives grow with the number of
 * values pushed beyond max_entries and shrink with the hash count (map_extra, 1..15).
 */
export class BloomFilter<V> {
  readonly map: BpfMap;
  readonly #value: Codec<V>;
  readonly #buffer: Uint8Array;
  constructor(map: BpfMap, value: Codec<V>) {
    requireType(map, 'BloomFilter', [MapType.bloomFilter]);
    checkSize(map, 'value', value as Codec<unknown>, map.valueSize);
    this.map = map;
    this.#value = value;
    this.#buffer = new Uint8Array(map.valueSize);
  }
  /** Adds a value (BPF_MAP_UPDATE_ELEM with no key). */
  push(value: V): void {
    this.map.update(null, this.#value.encode(value));
  }
  /** Whether value may have been pushed (false: it certainly was not). A lookup with no key is the peek. */
  has(value: V): boolean {
    this.#value.encodeInto(value, this.#buffer, 0);
    return this.map.lookupInto(null, this.#buffer);
  }
}

/**
 * Local storage keyed from user space by an fd of the owner: BPF_MAP_TYPE_TASK_STORAGE (a pidfd),
 * INODE_STORAGE (any open fd of the file), SK_STORAGE (a socket fd) and CGRP_STORAGE (an fd of the
 * cgroup directory). Programs reach the same value through the object itself
 * (bpf_task_storage_get, bpf_inode_storage_get, bpf_sk_storage_get, bpf_cgrp_storage_get); it lives
 * as long as its owner and disappears with it.
 */
export abstract class LocalStorage<V, O> {
  readonly map: BpfMap;
  readonly #value: Codec<V>;
  readonly #buffer: Uint8Array;
  /** What an fd key is the fd of, for messages ("pidfd", "socket fd", ...). */
  protected abstract readonly keyName: string;

  constructor(map: BpfMap, value: Codec<V>, view: string, type: number) {
    requireType(map, view, [type]);
    checkSize(map, 'value', value as Codec<unknown>, map.valueSize);
    this.map = map;
    this.#value = value;
    this.#buffer = new Uint8Array(map.valueSize);
  }

  /**
   * Runs fn with the fd key for owner: the owner itself when it is an fd; subclasses whose owners
   * may be something else (a pid, a path) open an fd for the call.
   */
  protected withFd<T>(owner: O, _what: string, fn: (fd: number) => T): T {
    return fn(owner as number);
  }

  #key(fd: number): Uint8Array {
    return u32(checkFd(this.map, this.keyName, fd));
  }

  /** The owner's value, or undefined when it has none. */
  get(owner: O): V | undefined {
    return this.withFd(owner, 'get', (fd) =>
      this.map.lookupInto(this.#key(fd), this.#buffer) ? this.#value.decode(this.#buffer, 0) : undefined,
    );
  }
  /** Sets the owner's value (creating its storage; flag noexist/exist as for other maps). */
  set(owner: O, value: V, flag: UpdateFlag = 'any'): void {
    this.withFd(owner, 'set', (fd) => this.map.update(this.#key(fd), this.#value.encode(value), flag));
  }
  /** Removes the owner's value; false when it had none. */
  delete(owner: O): boolean {
    return this.withFd(owner, 'delete', (fd) => this.map.delete(this.#key(fd)));
  }
  /** Whether the owner has a value. */
  has(owner: O): boolean {
    return this.get(owner) !== undefined;
  }
}

/** A process: an open pidfd of it, or its pid (a pidfd is opened for the call). */
export type TaskRef = number | { pid: number };

/** BPF_MAP_TYPE_TASK_STORAGE: a value per task, keyed by a pidfd (see openPidfd) or `{ pid }`. */
export class TaskStorage<V> extends LocalStorage<V, TaskRef> {
  protected readonly keyName = 'pidfd';
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, value, 'TaskStorage', MapType.taskStorage);
  }
  protected override withFd<T>(task: TaskRef, what: string, fn: (fd: number) => T): T {
    if (typeof task === 'number') return fn(task);
    const fd = openPidfd(task.pid, `map ${this.map.name}: ${what}`);
    try {
      return fn(fd);
    } finally {
      closeSync(fd);
    }
  }
}

/** BPF_MAP_TYPE_INODE_STORAGE: a value per inode, keyed by any open fd of the file. */
export class InodeStorage<V> extends LocalStorage<V, number> {
  protected readonly keyName = 'file fd';
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, value, 'InodeStorage', MapType.inodeStorage);
  }
}

/** BPF_MAP_TYPE_SK_STORAGE: a value per socket, keyed by a socket fd. */
export class SkStorage<V> extends LocalStorage<V, number> {
  protected readonly keyName = 'socket fd';
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, value, 'SkStorage', MapType.skStorage);
  }
}

/**
 * BPF_MAP_TYPE_CGRP_STORAGE (Linux 6.2+): a value per cgroup, keyed by the cgroup v2 directory's
 * path or an open fd of it. (Not BPF_MAP_TYPE_CGROUP_STORAGE, the older per-attachment storage.)
 */
export class CgrpStorage<V> extends LocalStorage<V, string | number> {
  protected readonly keyName = 'cgroup fd';
  constructor(map: BpfMap, value: Codec<V>) {
    super(map, value, 'CgrpStorage', MapType.cgrpStorage);
  }
  protected override withFd<T>(cgroup: string | number, what: string, fn: (fd: number) => T): T {
    if (typeof cgroup === 'number') return fn(cgroup);
    return withCgroupFd(`map ${this.map.name}: ${what}`, cgroup, fn);
  }
}

/**
 * BPF_MAP_TYPE_REUSEPORT_SOCKARRAY: sockets of one SO_REUSEPORT group by index, among which an
 * sk_reuseport program picks (bpf_sk_select_reuseport). A socket must be bound (TCP: listening)
 * with SO_REUSEPORT before it is set; the kernel drops it from the map when it closes.
 */
export class ReuseportSockArray extends FdArray {
  constructor(map: BpfMap) {
    super(map, 'ReuseportSockArray', MapType.reuseportSockarray);
  }
  /** Puts the socket whose fd is socketFd in slot index. */
  set(index: number, socketFd: number, flag: UpdateFlag = 'any'): void {
    checkIndex(this.map, index);
    const fd = checkFd(this.map, 'socket fd', socketFd);
    const value = new Uint8Array(this.map.valueSize); // a u32 or u64 fd
    new DataView(value.buffer).setUint32(hostLittleEndian ? 0 : value.byteLength - 4, fd, hostLittleEndian);
    this.map.update(u32(index), value, flag);
  }
  /**
   * The socket cookie (SO_COOKIE) of the socket in slot index, or undefined when empty. The kernel
   * answers lookups only for maps with 8-byte values.
   */
  cookie(index: number): bigint | undefined {
    checkIndex(this.map, index);
    if (this.map.valueSize !== 8) {
      throw new UsageError(`map ${this.map.name}: the kernel gives cookies only for 8-byte values`, {
        hint: 'declare the value as __u64 in C',
      });
    }
    const raw = this.map.lookup(u32(index));
    return raw && new DataView(raw.buffer).getBigUint64(0, hostLittleEndian);
  }
}

/** What a StructOpsMap needs of its collection: the attach that reaches libbpf's map. */
export interface StructOpsOwner {
  attachStructOps(mapName: string): Link;
}

/**
 * BPF_MAP_TYPE_STRUCT_OPS: a kernel ops table (e.g. struct tcp_congestion_ops) whose functions are
 * this object's SEC("struct_ops/...") programs. attach() registers it with the kernel (libbpf's
 * bpf_map__attach_struct_ops); closing the link, or the collection, unregisters it.
 */
export class StructOpsMap {
  readonly map: BpfMap;
  readonly #owner: StructOpsOwner;
  constructor(map: BpfMap, owner: StructOpsOwner) {
    requireType(map, 'StructOpsMap', [MapType.structOps]);
    this.map = map;
    this.#owner = owner;
  }
  /** Registers the ops table (a TCP congestion control becomes selectable by its .name). */
  attach(): Link {
    return this.#owner.attachStructOps(this.map.name);
  }
}

/** pidfd_open(2) syscall number on x86-64, arm64 and every other architecture (the unified table). */
const SYS_pidfd_open = 434;

/**
 * Opens a pidfd of process pid (pidfd_open(2), Linux 5.3+): the key of TaskStorage, which refers to
 * that process even after its pid is reused. Close it with fs.closeSync.
 */
export function openPidfd(pid: number, what = `open a pidfd of process ${pid}`): number {
  if (!Number.isInteger(pid) || pid <= 0) {
    throw new UsageError(`${what}: pid ${pid} is not a process id`, { hint: 'give a positive integer pid' });
  }
  const fd = Number(libc().syscall(SYS_pidfd_open, 'int', pid, 'uint', 0));
  if (fd >= 0) return fd;
  const errno = koffi.errno();
  if (errno === ENOSYS) {
    throw new NotSupportedError(`${what}: this kernel has no pidfd_open (Linux 5.3+)`, {
      hint: 'upgrade to Linux 5.3 or newer',
    });
  }
  if (errno === ESRCH) {
    throw new UsageError(`${what}: no process ${pid}`, {
      hint: 'check the process is running (ps -p PID)',
    });
  }
  throw callError(`${what}: pidfd_open`, errno, errno === EINVAL ? ['pid is not a thread-group leader'] : []);
}

/**
 * Registers a struct_ops map through libbpf (bpf_map__attach_struct_ops, libbpf 0.8+: it writes the
 * ops table with the programs' fds and returns a link whose destroy removes it). `ptr` is libbpf's
 * struct bpf_map of the collection that loaded it.
 */
export function structOpsLink(map: BpfMap, ptr: Pointer | undefined): LibbpfLink {
  requireType(map, 'attachStructOps', [MapType.structOps]);
  if (!ptr) throw new UsageError(`map ${map.name}: not a map of this collection`);
  map.fd; // throws when closed
  const { result, error, messages } = captureLibbpf(() => libbpf().bpf_map__attach_struct_ops(ptr));
  if (error) throw error;
  if (result) return new LibbpfLink(result);
  const errno = koffi.errno();
  if (errno === EBUSY) {
    throw new UsageError(`map ${map.name}: attach struct_ops: it is attached already (EBUSY)`, {
      hint: 'attach a struct_ops map once; close its link before attaching it again',
    });
  }
  if (errno === EEXIST) {
    throw new UsageError(
      `map ${map.name}: attach struct_ops: the kernel already has ops of that name (EEXIST)`,
      {
        hint: 'give the ops table a .name no other loaded ops use (e.g. a congestion control not in /proc/sys/net/ipv4/tcp_available_congestion_control), or close the other',
      },
    );
  }
  const texts = messages.map((m) => m.text.trim()).slice(-2);
  throw callError(`map ${map.name}: attach struct_ops`, errno, texts, undefined, [
    'CAP_BPF',
    'CAP_SYS_ADMIN',
  ]);
}
