// Typed views over the maps whose values are kernel objects named by fd: the XDP redirect targets
// (devices, CPUs, AF_XDP sockets) that bpf_redirect_map() sends frames to, and the socket maps that
// sk_skb/sk_msg programs redirect stream data through. An update passes an fd (an ifindex for
// devmaps); the kernel keeps the object, and a lookup returns an id or a cookie, never the fd.
import type { Socket } from 'node:net';
import type { Codec } from '../codegen/codec.js';
import { UsageError } from '../errors.js';
import { hostLittleEndian, MapType, type UpdateFlag, UpdateFlags } from './constants.js';
import { callError, EBADF, EEXIST, EINVAL, ENOENT, ENOSPC, EOPNOTSUPP } from './errors.js';
import { libbpf } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';
import type { BpfMap } from './map.js';
import type { Program } from './program.js';

function requireType(map: BpfMap, view: string, types: number[], hint: string): void {
  if (!types.includes(map.type)) {
    throw new UsageError(`map ${map.name} (${map.typeName}) does not fit ${view}`, { hint });
  }
}

function requireSize(map: BpfMap, what: 'key' | 'value', actual: number, allowed: number[], layout: string) {
  if (!allowed.includes(actual)) {
    throw new UsageError(
      `map ${map.name}: ${what}s are ${actual} bytes; a ${map.typeName}'s are ${allowed.join(' or ')}`,
      { hint: `declare the ${what} as ${layout}` },
    );
  }
}

const u32 = (value: number): Uint8Array => {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, value >>> 0, hostLittleEndian);
  return b;
};

function u32Key(map: BpfMap, key: number, what: string): Uint8Array {
  if (!Number.isInteger(key) || key < 0 || key > 0xffffffff) {
    throw new UsageError(`map ${map.name}: ${what} ${key} is not an unsigned 32-bit integer`);
  }
  return u32(key);
}

const readU32 = (bytes: Uint8Array, offset: number): number =>
  new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(offset, hostLittleEndian);

function* u32Keys(map: BpfMap): IterableIterator<number> {
  for (const k of map.keys()) yield readU32(k, 0);
}

function programFd(program: Program | number): number {
  return typeof program === 'number' ? program : program.fd;
}

function ifindexOf(map: BpfMap, target: { ifindex?: number; ifname?: string }): number {
  if (target.ifindex !== undefined) return target.ifindex;
  if (target.ifname === undefined) {
    throw new UsageError(`map ${map.name}: name the device: { ifname } or { ifindex }`);
  }
  const index = libc().if_nametoindex(target.ifname) as number;
  if (index === 0) {
    throw new UsageError(`map ${map.name}: network interface ${target.ifname} does not exist`, {
      hint: 'list interfaces with `ip link`',
    });
  }
  return index;
}

/**
 * A redirect value with an optional program: struct bpf_devmap_val { __u32 ifindex; ... } and
 * struct bpf_cpumap_val { __u32 qsize; ... } (include/uapi/linux/bpf.h) share the layout
 * { __u32 first; union { int fd; __u32 id; } bpf_prog; }: an fd going in, an id coming out. With a
 * 4-byte value the map holds the first field only and takes no program.
 */
function encodeWithProgram(map: BpfMap, first: number, program: Program | number | undefined, kind: string) {
  const value = new Uint8Array(map.valueSize);
  const view = new DataView(value.buffer);
  view.setUint32(0, first >>> 0, hostLittleEndian);
  if (map.valueSize === 8) {
    // The kernel takes fd > 0 as a program; -1 says "none" on every kernel.
    view.setInt32(4, program === undefined ? -1 : programFd(program), hostLittleEndian);
  } else if (program !== undefined) {
    throw new UsageError(`map ${map.name}: its 4-byte values hold no ${kind} program`, {
      hint: `declare the value as struct bpf_${kind}_val to run a program on redirected frames`,
    });
  }
  return value;
}

function decodeProgramId(value: Uint8Array): number | undefined {
  if (value.byteLength < 8) return undefined;
  const id = readU32(value, 4);
  return id === 0 ? undefined : id;
}

/** Where a devmap entry sends frames: a device, and optionally a SEC("xdp/devmap") program run first. */
export interface DevMapTarget {
  ifindex?: number;
  ifname?: string;
  /** A SEC("xdp/devmap") program (or its fd) run on each frame before it leaves (8-byte values only). */
  program?: Program | number;
}

/** A devmap entry as the kernel reports it. */
export interface DevMapEntry {
  ifindex: number;
  /** The id of the entry's program, when it has one. */
  programId?: number;
}

/**
 * BPF_MAP_TYPE_DEVMAP (keys are indexes 0..maxEntries-1) and BPF_MAP_TYPE_DEVMAP_HASH (any u32
 * keys): the devices bpf_redirect_map() transmits frames on. Values are an ifindex (`__u32`) or a
 * struct bpf_devmap_val, which can also carry a SEC("xdp/devmap") program.
 */
export class DevMap {
  readonly map: BpfMap;
  constructor(map: BpfMap) {
    requireType(
      map,
      'DevMap',
      [MapType.devmap, MapType.devmapHash],
      'DevMap takes BPF_MAP_TYPE_DEVMAP or BPF_MAP_TYPE_DEVMAP_HASH maps',
    );
    requireSize(map, 'value', map.valueSize, [4, 8], '__u32 (ifindex) or struct bpf_devmap_val');
    this.map = map;
  }

  /** Sends frames redirected to `key` out of a device: its ifindex, its name, or a DevMapTarget. */
  set(key: number, target: number | string | DevMapTarget, flag: UpdateFlag = 'any'): void {
    const t: DevMapTarget =
      typeof target === 'number'
        ? { ifindex: target }
        : typeof target === 'string'
          ? { ifname: target }
          : target;
    const value = encodeWithProgram(this.map, ifindexOf(this.map, t), t.program, 'devmap');
    this.map.update(u32Key(this.map, key, 'key'), value, flag);
  }

  get(key: number): DevMapEntry | undefined {
    const raw = this.map.lookup(u32Key(this.map, key, 'key'));
    if (!raw) return undefined;
    const programId = decodeProgramId(raw);
    return programId === undefined ? { ifindex: readU32(raw, 0) } : { ifindex: readU32(raw, 0), programId };
  }

  has(key: number): boolean {
    return this.get(key) !== undefined;
  }

  /** Removes the entry (for a DEVMAP, true for any index in range: the kernel does not say whether it held one). */
  delete(key: number): boolean {
    return this.map.delete(u32Key(this.map, key, 'key'));
  }

  /** The keys that hold a device. */
  *keys(): IterableIterator<number> {
    for (const [key] of this.entries()) yield key;
  }

  *entries(): IterableIterator<[number, DevMapEntry]> {
    for (const key of u32Keys(this.map)) {
      const entry = this.get(key); // a devmap walks every index, set or not
      if (entry) yield [key, entry];
    }
  }
}

/** A cpumap entry: the queue size of that CPU's kthread and optionally a SEC("xdp/cpumap") program. */
export interface CpuMapTarget {
  /** Frames queued for the CPU before more are dropped (the kernel's default tools use 192..2048). */
  qsize: number;
  /** A SEC("xdp/cpumap") program (or its fd) run on that CPU on each frame (8-byte values only). */
  program?: Program | number;
}

export interface CpuMapEntry {
  qsize: number;
  programId?: number;
}

/**
 * BPF_MAP_TYPE_CPUMAP: keys are CPU numbers; bpf_redirect_map() hands frames to a kernel thread on
 * that CPU, which builds the skb there. Values are a queue size (`__u32`) or struct bpf_cpumap_val.
 */
export class CpuMap {
  readonly map: BpfMap;
  constructor(map: BpfMap) {
    requireType(map, 'CpuMap', [MapType.cpumap], 'CpuMap takes BPF_MAP_TYPE_CPUMAP maps');
    requireSize(map, 'value', map.valueSize, [4, 8], '__u32 (qsize) or struct bpf_cpumap_val');
    this.map = map;
  }

  /** Starts CPU `cpu`'s redirect queue: a queue size, or a CpuMapTarget. */
  set(cpu: number, target: number | CpuMapTarget, flag: UpdateFlag = 'any'): void {
    const t = typeof target === 'number' ? { qsize: target } : target;
    if (!Number.isInteger(t.qsize) || t.qsize <= 0) {
      throw new UsageError(`map ${this.map.name}: queue size ${t.qsize} is not a positive integer`, {
        hint: 'give qsize as the number of frames to queue, e.g. 192',
      });
    }
    const value = encodeWithProgram(this.map, t.qsize, t.program, 'cpumap');
    this.map.update(u32Key(this.map, cpu, 'CPU'), value, flag);
  }

  get(cpu: number): CpuMapEntry | undefined {
    const raw = this.map.lookup(u32Key(this.map, cpu, 'CPU'));
    if (!raw) return undefined;
    const programId = decodeProgramId(raw);
    return programId === undefined ? { qsize: readU32(raw, 0) } : { qsize: readU32(raw, 0), programId };
  }

  delete(cpu: number): boolean {
    return this.map.delete(u32Key(this.map, cpu, 'CPU'));
  }

  /** The CPUs that have a queue. */
  *keys(): IterableIterator<number> {
    for (const key of u32Keys(this.map)) if (this.get(key)) yield key;
  }
}

/** A socket given by fd, as a Node net.Socket (its handle's fd), or as anything with an `fd`. */
export type SocketRef = number | Socket | { readonly fd: number };

/** The fd of a socket reference; a UsageError naming the map when there is none (yet). */
export function socketFd(map: BpfMap, socket: SocketRef): number {
  if (typeof socket === 'number') return socket;
  // A net.Socket's fd is on its libuv handle (Linux: TCP and Unix sockets), once connected.
  const fd = 'fd' in socket ? socket.fd : (socket as { _handle?: { fd?: number } })._handle?.fd;
  if (typeof fd !== 'number' || fd < 0) {
    throw new UsageError(`map ${map.name}: the socket has no file descriptor (not connected, or closed)`, {
      hint: "add a socket once it is connected: after 'connect' (client) or in the server's 'connection' handler",
    });
  }
  return fd;
}

/** Puts a socket fd at key; the kernel's refusal of the socket (EOPNOTSUPP) says what it takes. */
function socketUpdate(map: BpfMap, key: Uint8Array, fd: number, flag: UpdateFlag): void {
  const err = libbpf().bpf_map_update_elem(map.fd, key, fd32(map, fd), UpdateFlags[flag]) as number;
  if (err === -EOPNOTSUPP) {
    throw new UsageError(`map ${map.name}: the kernel does not take socket fd ${fd} (EOPNOTSUPP)`, {
      hint:
        map.type === MapType.xskmap
          ? 'an XSKMAP takes AF_XDP sockets (frames reach one once it is bound to the queue its key names)'
          : 'socket maps take TCP sockets once connected (or listening), UDP and Unix sockets',
    });
  }
  if (err < 0) {
    const detail =
      -err === EBADF ? ['that is not an open fd'] : -err === EEXIST ? ['the key exists (flag noexist)'] : [];
    throw callError(`map ${map.name}: add socket fd ${fd}`, -err, detail);
  }
}

/** An fd as the map's value: 4 bytes, or 8 for maps whose lookups return a socket cookie. */
function fd32(map: BpfMap, fd: number): Uint8Array {
  const value = new Uint8Array(map.valueSize);
  new DataView(value.buffer).setUint32(0, fd, hostLittleEndian);
  return value;
}

/** A socket map's cookie lookup: the socket cookie (u64) with 8-byte values. */
function lookupCookie(map: BpfMap, key: Uint8Array): bigint | undefined {
  const value = new Uint8Array(map.valueSize);
  const err = libbpf().bpf_map_lookup_elem_flags(map.fd, key, value, 0) as number;
  if (err === -ENOENT) return undefined;
  if (err === -ENOSPC) {
    throw new UsageError(`map ${map.name}: lookups return socket cookies only with 8-byte values`, {
      hint: 'declare the value as __u64 (the update still takes the socket fd)',
    });
  }
  if (err < 0) throw callError(`map ${map.name}: lookup`, -err);
  return new DataView(value.buffer).getBigUint64(0, hostLittleEndian);
}

/**
 * BPF_MAP_TYPE_SOCKMAP: sockets by index 0..maxEntries-1, for bpf_sk_redirect_map() and
 * bpf_msg_redirect_map(). Attach the map's sk_skb/sk_msg programs (program.attachToMap(map)) before
 * adding sockets: a socket takes the programs the map has when it is added.
 */
export class SockMap {
  readonly map: BpfMap;
  constructor(map: BpfMap) {
    requireType(
      map,
      'SockMap',
      [MapType.sockmap],
      'SockMap takes BPF_MAP_TYPE_SOCKMAP maps (SockHash for SOCKHASH)',
    );
    requireSize(map, 'value', map.valueSize, [4, 8], '__u32 (or __u64 to read socket cookies back)');
    this.map = map;
  }
  /** Puts a socket at index: an fd, a connected net.Socket, or anything with an fd. */
  set(index: number, socket: SocketRef, flag: UpdateFlag = 'any'): void {
    socketUpdate(this.map, u32Key(this.map, index, 'index'), socketFd(this.map, socket), flag);
  }
  /** Takes the socket at index out of the map; false when there was none. */
  delete(index: number): boolean {
    const key = u32Key(this.map, index, 'index');
    if (index >= this.map.maxEntries) return false;
    // An empty index is EINVAL here, not ENOENT (net/core/sock_map.c, __sock_map_delete).
    const err = libbpf().bpf_map_delete_elem(this.map.fd, key) as number;
    if (err === -EINVAL || err === -ENOENT) return false;
    if (err < 0) throw callError(`map ${this.map.name}: delete`, -err);
    return true;
  }
  /** The socket cookie at index (8-byte values), the value bpf_get_socket_cookie() gives programs. */
  cookie(index: number): bigint | undefined {
    return lookupCookie(this.map, u32Key(this.map, index, 'index'));
  }
}

/** BPF_MAP_TYPE_SOCKHASH: sockets by a key of the program's choosing (bpf_sk_redirect_hash()). */
export class SockHash<K> {
  readonly map: BpfMap;
  readonly #key: Codec<K>;
  constructor(map: BpfMap, key: Codec<K>) {
    requireType(
      map,
      'SockHash',
      [MapType.sockhash],
      'SockHash takes BPF_MAP_TYPE_SOCKHASH maps (SockMap for SOCKMAP)',
    );
    if (key.size !== map.keySize) {
      throw new UsageError(
        `map ${map.name}: the key codec is ${key.size} bytes, the map's keys are ${map.keySize}`,
        { hint: 'regenerate the loader (tsbpf build) after changing the C types' },
      );
    }
    requireSize(map, 'value', map.valueSize, [4, 8], '__u32 (or __u64 to read socket cookies back)');
    this.map = map;
    this.#key = key;
  }
  set(key: K, socket: SocketRef, flag: UpdateFlag = 'any'): void {
    socketUpdate(this.map, this.#key.encode(key), socketFd(this.map, socket), flag);
  }
  delete(key: K): boolean {
    return this.map.delete(this.#key.encode(key));
  }
  cookie(key: K): bigint | undefined {
    return lookupCookie(this.map, this.#key.encode(key));
  }
  *keys(): IterableIterator<K> {
    for (const k of this.map.keys()) yield this.#key.decode(k);
  }
}

/**
 * BPF_MAP_TYPE_XSKMAP: AF_XDP sockets by receive queue index, for bpf_redirect_map() from XDP. The
 * kernel takes AF_XDP sockets only; frames reach one once it is bound to that queue of the device.
 * It gives no lookup from user space.
 */
export class XskMap {
  readonly map: BpfMap;
  constructor(map: BpfMap) {
    requireType(map, 'XskMap', [MapType.xskmap], 'XskMap takes BPF_MAP_TYPE_XSKMAP maps');
    this.map = map;
  }
  /** Puts an AF_XDP socket (its fd) at queue index. */
  set(queue: number, socket: number | { readonly fd: number }, flag: UpdateFlag = 'any'): void {
    socketUpdate(this.map, u32Key(this.map, queue, 'queue'), socketFd(this.map, socket), flag);
  }
  /** Empties queue index (true for any index in range: the kernel does not say whether it held one). */
  delete(queue: number): boolean {
    return this.map.delete(u32Key(this.map, queue, 'queue'));
  }
}
