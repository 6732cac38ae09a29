// Event readers for BPF_MAP_TYPE_RINGBUF and BPF_MAP_TYPE_PERF_EVENT_ARRAY maps.
//
// Ring buffer: we mmap the ring ourselves (libc mmap through koffi, koffi.view over the memory) and
// walk its records in JavaScript, so reading costs no FFI call per event; only the wait for new
// data goes to a worker thread (poller.ts). Layout from kernel/bpf/ringbuf.c: page 0 holds
// consumer_pos (we write it), page 1 producer_pos, then the data pages, mapped twice back to back so
// a record that wraps reads contiguously. Each record starts with struct bpf_ringbuf_hdr
// { u32 len; u32 pg_off } where len carries BPF_RINGBUF_BUSY_BIT (1 << 31) while the producer
// writes it and BPF_RINGBUF_DISCARD_BIT (1 << 30) for discarded records; records are 8-byte aligned.
//
// Perf event array: libbpf's perf_buffer opens and maps one perf ring per CPU; we walk each ring's
// records in JavaScript the same way (struct perf_event_mmap_page and struct perf_event_header from
// include/uapi/linux/perf_event.h), counting PERF_RECORD_LOST records' lost samples.
import type { Codec } from '../codegen/codec.js';
import { TsbpfError, UsageError } from '../errors.js';
import { hostLittleEndian, MapType } from './constants.js';
import { callError } from './errors.js';
import { koffi, libbpf, type Pointer } from './ffi/libbpf.js';
import { dupCloexec, libc, MAP_SHARED, PROT_READ, PROT_WRITE } from './ffi/libc.js';
import { finalizer } from './lifetime.js';
import type { BpfMap } from './map.js';
import { sharedPoller } from './poller.js';

/** Decodes one record; the identity (a copy of the bytes) when there is no codec. */
export type Decoder<E> = (bytes: Uint8Array) => E;

export interface EventReader<E> extends AsyncIterable<E>, AsyncDisposable, Disposable {
  /** Stops reading: pending iterations end, memory and fds are released. Idempotent. */
  close(): void;
  /** Samples the kernel dropped because the buffer was full (perf buffers; 0 for ring buffers). */
  readonly lost: number;
  /** Events in batches: one array per wake-up, for high event rates. */
  batches(): AsyncIterable<E[]>;
  /** The events available now, without waiting (possibly none). */
  readAvailable(max?: number): E[];
  readonly closed: boolean;
}

const BUSY_BIT = 0x80000000;
const DISCARD_BIT = 0x40000000;
const HDR_SIZE = 8;

function decoderOf<E>(codec: Codec<E> | undefined): Decoder<E> {
  if (!codec) return (bytes) => bytes.slice() as unknown as E;
  return (bytes) => codec.decode(bytes, 0);
}

abstract class BaseReader<E> implements EventReader<E> {
  protected closedFlag = false;
  protected pollId = 0;
  protected readonly map: BpfMap;
  protected readonly decode: Decoder<E>;
  /** Decodes `length` bytes at `start` of a larger buffer (no subarray when the codec's fixed size fits). */
  protected readonly decodeAt: (bytes: Uint8Array, start: number, length: number) => E;
  #iterating = false;

  protected constructor(map: BpfMap, codec: Codec<E> | undefined) {
    this.map = map;
    this.decode = decoderOf(codec);
    const decode = this.decode;
    this.decodeAt =
      codec === undefined
        ? (bytes, start, length) => bytes.slice(start, start + length) as unknown as E
        : (bytes, start, length) =>
            length >= codec.size ? codec.decode(bytes, start) : decode(bytes.subarray(start, start + length));
  }

  abstract get lost(): number;
  abstract readAvailable(max?: number): E[];
  protected abstract release(): void;

  get closed(): boolean {
    return this.closedFlag;
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    finalizer.unregister(this);
    this.map.removeDependent(this);
    sharedPoller().remove(this.pollId);
    this.release();
  }

  /** The next non-empty batch, or undefined once closed. */
  async nextBatch(max = 4096): Promise<E[] | undefined> {
    const poller = sharedPoller();
    for (;;) {
      if (this.closedFlag) return undefined;
      const batch = this.readAvailable(max);
      if (batch.length > 0) return batch;
      await poller.wait(this.pollId);
    }
  }

  async *batches(): AsyncGenerator<E[]> {
    this.#enter();
    try {
      for (;;) {
        const batch = await this.nextBatch();
        if (!batch) return;
        yield batch;
      }
    } finally {
      this.#iterating = false;
    }
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<E> {
    this.#enter();
    try {
      for (;;) {
        const batch = await this.nextBatch();
        if (!batch) return;
        for (const event of batch) yield event;
      }
    } finally {
      this.#iterating = false;
    }
  }

  #enter(): void {
    if (this.#iterating) throw new UsageError(`map ${this.map.name}: this reader is already being iterated`);
    this.#iterating = true;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
  }
}

/** Reads a BPF ring buffer through its mmaped memory. */
export class RingBufReader<E = Uint8Array> extends BaseReader<E> {
  readonly #size: number;
  readonly #page: number;
  #consumerPtr: Pointer;
  #producerPtr: Pointer;
  #consumerPos: BigInt64Array;
  #producerPos: BigInt64Array;
  #data8: Uint8Array;
  #data32: Int32Array;
  #cons: number;
  #pollFd = -1;

  constructor(map: BpfMap, codec?: Codec<E>) {
    super(map, codec);
    if (map.type !== MapType.ringbuf)
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a ring buffer`);
    const c = libc();
    this.#page = c.getpagesize() as number;
    this.#size = map.maxEntries;
    const fd = map.fd;
    this.#consumerPtr = c.mmap(null, this.#page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (!this.#consumerPtr || koffi.address(this.#consumerPtr) === 0xffffffffffffffffn) {
      throw callError(`map ${map.name}: mmap ring buffer consumer page`, koffi.errno());
    }
    const producerLength = this.#page + 2 * this.#size;
    this.#producerPtr = c.mmap(null, producerLength, PROT_READ, MAP_SHARED, fd, this.#page);
    if (!this.#producerPtr || koffi.address(this.#producerPtr) === 0xffffffffffffffffn) {
      const errno = koffi.errno();
      c.munmap(this.#consumerPtr, this.#page);
      throw callError(`map ${map.name}: mmap ring buffer data`, errno);
    }
    const consumer = koffi.view(this.#consumerPtr, this.#page);
    const producer = koffi.view(this.#producerPtr, producerLength);
    this.#consumerPos = new BigInt64Array(consumer, 0, 1);
    this.#producerPos = new BigInt64Array(producer, 0, 1);
    this.#data8 = new Uint8Array(producer, this.#page, 2 * this.#size);
    this.#data32 = new Int32Array(producer, this.#page, (2 * this.#size) / 4);
    this.#cons = Number(Atomics.load(this.#consumerPos, 0));
    // Our own fd for epoll: two readers of one map must not share an epoll registration.
    this.#pollFd = dupCloexec(fd);
    this.pollId = sharedPoller().add(this.#pollFd);
    const mapping = {
      consumer: this.#consumerPtr,
      producer: this.#producerPtr,
      page: this.#page,
      producerLength,
      fd: this.#pollFd,
    };
    finalizer.register(this, { close: () => unmap(mapping) }, this);
    map.addDependent(this);
  }

  get lost(): number {
    return 0;
  }

  readAvailable(max = 4096): E[] {
    const out: E[] = [];
    if (this.closedFlag) return out;
    const prod = Number(Atomics.load(this.#producerPos, 0));
    let cons = this.#cons;
    const size = this.#size;
    while (cons < prod && out.length < max) {
      const offset = cons % size;
      const len = Atomics.load(this.#data32, offset >>> 2) >>> 0;
      if (len & BUSY_BIT) break;
      const length = len & ~(BUSY_BIT | DISCARD_BIT);
      if (!(len & DISCARD_BIT)) out.push(this.decodeAt(this.#data8, offset + HDR_SIZE, length));
      cons += (length + HDR_SIZE + 7) & ~7;
    }
    if (cons !== this.#cons) {
      this.#cons = cons;
      Atomics.store(this.#consumerPos, 0, BigInt(cons));
    }
    return out;
  }

  protected release(): void {
    unmap({
      consumer: this.#consumerPtr,
      producer: this.#producerPtr,
      page: this.#page,
      producerLength: this.#page + 2 * this.#size,
      fd: this.#pollFd,
    });
    this.#pollFd = -1;
    this.#consumerPtr = null;
    this.#producerPtr = null;
    const empty = new ArrayBuffer(8);
    this.#consumerPos = new BigInt64Array(empty);
    this.#producerPos = new BigInt64Array(empty);
    this.#data8 = new Uint8Array(0);
    this.#data32 = new Int32Array(0);
  }
}

function unmap(m: {
  consumer: Pointer;
  producer: Pointer;
  page: number;
  producerLength: number;
  fd: number;
}): void {
  if (m.consumer) libc().munmap(m.consumer, m.page);
  if (m.producer) libc().munmap(m.producer, m.producerLength);
  if (m.fd >= 0) libc().close(m.fd);
  m.consumer = null;
  m.producer = null;
  m.fd = -1;
}

export interface PerfReaderOptions {
  /** Pages per CPU ring (a power of two; default 64 = 256 KiB with 4 KiB pages). */
  pageCount?: number;
}

// struct perf_event_mmap_page (include/uapi/linux/perf_event.h): the ring's control page.
const PERF_DATA_HEAD = 1024;
const PERF_DATA_TAIL = 1032;
const PERF_DATA_OFFSET = 1040;
const PERF_DATA_SIZE = 1048;
// enum perf_event_type: the record types a BPF perf event array's rings carry.
const PERF_RECORD_LOST = 2;
const PERF_RECORD_SAMPLE = 9;
// struct perf_event_header { u32 type; u16 misc; u16 size; }; a PERF_SAMPLE_RAW sample follows it
// with u32 size and the bytes; a lost record with u64 id and u64 lost.
const PERF_HEADER_SIZE = 8;

/** One CPU's perf ring, mapped by libbpf; we only read it and advance data_tail. */
interface PerfRing {
  /** The control page as u64s: [PERF_DATA_HEAD / 8] is data_head, [PERF_DATA_TAIL / 8] data_tail. */
  control: BigInt64Array;
  data8: Uint8Array;
  view: DataView;
  data16: Uint16Array;
  data32: Uint32Array;
  size: number;
  /** Our copy of data_tail: we are the ring's only consumer. */
  tail: number;
}

/**
 * Reads a BPF perf event array. libbpf's perf_buffer opens one perf event per CPU, mmaps its ring
 * and gathers the fds in an epoll set (which the shared poller waits on); the records are read here
 * in JavaScript straight from the mapped rings, so an event costs no FFI call. libbpf's consume and
 * its callbacks are never used: we pass none.
 */
export class PerfReader<E = Uint8Array> extends BaseReader<E> {
  #pb: Pointer;
  #lost = 0;
  #rings: PerfRing[] = [];
  /** The ring to start from next time, so that `max` does not starve the last CPUs. */
  #next = 0;
  /** Holds a record that wraps around the end of its ring, made contiguous. */
  #scratch = new Uint8Array(256);
  #scratchView = new DataView(this.#scratch.buffer);

  constructor(map: BpfMap, codec?: Codec<E>, options: PerfReaderOptions = {}) {
    super(map, codec);
    if (map.type !== MapType.perfEventArray) {
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a perf event array`);
    }
    const pageCount = options.pageCount ?? 64;
    if (!Number.isInteger(pageCount) || pageCount <= 0 || (pageCount & (pageCount - 1)) !== 0) {
      throw new UsageError(`perf buffer page count must be a power of two, not ${pageCount}`);
    }
    const l = libbpf();
    const pb = l.perf_buffer__new(map.fd, pageCount, null, null, null, null);
    if (!pb) throw callError(`map ${map.name}: open perf buffer`, koffi.errno());
    this.#pb = pb;
    try {
      this.#rings = mapPerfRings(pb, map.name);
    } catch (error) {
      l.perf_buffer__free(pb);
      throw error;
    }
    this.pollId = sharedPoller().add(l.perf_buffer__epoll_fd(pb) as number);
    const held = { pb };
    finalizer.register(this, { close: () => libbpf().perf_buffer__free(held.pb) }, this);
    map.addDependent(this);
  }

  /** Samples the kernel could not write because a ring was full (from PERF_RECORD_LOST records). */
  get lost(): number {
    return this.#lost;
  }

  readAvailable(max = 4096): E[] {
    const out: E[] = [];
    if (this.closedFlag) return out;
    const rings = this.#rings;
    const n = rings.length;
    const first = this.#next;
    for (let k = 0; k < n && out.length < max; k++) {
      const i = (first + k) % n;
      this.#drain(rings[i]!, out, max);
      if (out.length >= max) this.#next = (i + 1) % n;
    }
    return out;
  }

  /** Reads the records between data_tail and data_head of one ring into out (at most max in all). */
  #drain(ring: PerfRing, out: E[], max: number): void {
    // Atomics.load/store are sequentially consistent: the data_head load orders our reads of the
    // records after it (the kernel's smp_rmb pairing, perf_event.h's comment on data_head), and the
    // data_tail store comes after every read of the records it frees (the smp_mb before the store).
    const head = Number(Atomics.load(ring.control, PERF_DATA_HEAD / 8));
    let tail = ring.tail;
    if (tail === head) return;
    const size = ring.size;
    const data8 = ring.data8;
    while (tail < head && out.length < max) {
      const offset = tail % size;
      // Records are 8-byte aligned and the ring a multiple of pages: the 8-byte header never wraps.
      const type = ring.data32[offset >>> 2]!;
      const length = ring.data16[(offset + 6) >>> 1]!;
      if (length < PERF_HEADER_SIZE) {
        throw new TsbpfError(`map ${this.map.name}: corrupt perf ring record (size ${length})`, {
          hint: 'this is a bug in tsbpf or the kernel; please report it',
        });
      }
      if (offset + length <= size) {
        // The common case: the record is contiguous; every field read is an aligned typed-array load.
        if (type === PERF_RECORD_SAMPLE) {
          const raw = Math.min(
            ring.data32[(offset + PERF_HEADER_SIZE) >>> 2]!,
            length - PERF_HEADER_SIZE - 4,
          );
          out.push(this.decodeAt(data8, offset + PERF_HEADER_SIZE + 4, raw));
        } else if (type === PERF_RECORD_LOST) {
          this.#lost += Number(ring.view.getBigUint64(offset + PERF_HEADER_SIZE + 8, hostLittleEndian));
        }
      } else {
        const bytes = this.#contiguous(data8, offset, length, size);
        const view = this.#scratchView;
        if (type === PERF_RECORD_SAMPLE) {
          const raw = Math.min(
            view.getUint32(PERF_HEADER_SIZE, hostLittleEndian),
            length - PERF_HEADER_SIZE - 4,
          );
          out.push(this.decodeAt(bytes, PERF_HEADER_SIZE + 4, raw));
        } else if (type === PERF_RECORD_LOST) {
          this.#lost += Number(view.getBigUint64(PERF_HEADER_SIZE + 8, hostLittleEndian));
        }
      }
      tail += length;
    }
    ring.tail = tail;
    Atomics.store(ring.control, PERF_DATA_TAIL / 8, BigInt(tail));
  }

  /** Copies a record that wraps around the ring's end into the scratch buffer. */
  #contiguous(data: Uint8Array, offset: number, length: number, size: number): Uint8Array {
    if (this.#scratch.length < length) {
      this.#scratch = new Uint8Array(Math.max(length, this.#scratch.length * 2));
      this.#scratchView = new DataView(this.#scratch.buffer);
    }
    const scratch = this.#scratch;
    const first = size - offset;
    scratch.set(data.subarray(offset, size), 0);
    scratch.set(data.subarray(0, length - first), first);
    return scratch;
  }

  protected release(): void {
    libbpf().perf_buffer__free(this.#pb);
    this.#pb = null;
    this.#rings = [];
  }
}
/** The per-CPU rings of a perf_buffer, as typed arrays over libbpf's mappings. */
function mapPerfRings(pb: Pointer, mapName: string): PerfRing[] {
  const l = libbpf();
  const page = libc().getpagesize() as number;
  const count = Number(l.perf_buffer__buffer_cnt(pb));
  const rings: PerfRing[] = [];
  for (let i = 0; i < count; i++) {
    const base: Pointer[] = [null];
    const mapped = [0];
    const err = l.perf_buffer__buffer(pb, i, base, mapped) as number;
    if (err < 0 || !base[0]) throw callError(`map ${mapName}: perf buffer ${i}`, err < 0 ? -err : 22);
    // The header page says where the data area is (data_offset/data_size, Linux >= 4.1); libbpf
    // maps one page of header and then page_cnt pages of data.
    const header = new DataView(koffi.view(base[0], page));
    let dataOffset = Number(header.getBigUint64(PERF_DATA_OFFSET, hostLittleEndian));
    let dataSize = Number(header.getBigUint64(PERF_DATA_SIZE, hostLittleEndian));
    if (dataSize === 0) {
      dataOffset = page;
      dataSize = Number(mapped[0]);
    }
    const memory = koffi.view(base[0], dataOffset + dataSize);
    const control = new BigInt64Array(memory, 0, page / 8);
    rings.push({
      control,
      data8: new Uint8Array(memory, dataOffset, dataSize),
      view: new DataView(memory, dataOffset, dataSize),
      data16: new Uint16Array(memory, dataOffset, dataSize / 2),
      data32: new Uint32Array(memory, dataOffset, dataSize / 4),
      size: dataSize,
      tail: Number(Atomics.load(control, PERF_DATA_TAIL / 8)),
    });
  }
  return rings;
}

/** A ring buffer map with its event codec (raw bytes without one). */
export class RingBuf<E = Uint8Array> {
  readonly map: BpfMap;
  readonly codec: Codec<E> | undefined;
  constructor(map: BpfMap, codec?: Codec<E>) {
    if (map.type !== MapType.ringbuf)
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a ring buffer`);
    this.map = map;
    this.codec = codec;
  }
  /** A new reader; close it (or the collection) when done. */
  reader(): RingBufReader<E>;
  reader<T>(codec: Codec<T>): RingBufReader<T>;
  reader<T>(codec?: Codec<T>): RingBufReader<T | E> {
    return new RingBufReader<T | E>(this.map, (codec ?? this.codec) as Codec<T | E> | undefined);
  }
}

/** A perf event array map with its event codec (raw bytes without one). */
export class PerfEventArray<E = Uint8Array> {
  readonly map: BpfMap;
  readonly codec: Codec<E> | undefined;
  constructor(map: BpfMap, codec?: Codec<E>) {
    if (map.type !== MapType.perfEventArray) {
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a perf event array`);
    }
    this.map = map;
    this.codec = codec;
  }
  reader(codec?: undefined, options?: PerfReaderOptions): PerfReader<E>;
  reader<T>(codec: Codec<T>, options?: PerfReaderOptions): PerfReader<T>;
  reader<T>(codec?: Codec<T>, options?: PerfReaderOptions): PerfReader<T | E> {
    return new PerfReader<T | E>(this.map, (codec ?? this.codec) as Codec<T | E> | undefined, options);
  }
}

export function assertOpen(reader: EventReader<unknown>): void {
  if (reader.closed) throw new TsbpfError('the reader is closed');
}
