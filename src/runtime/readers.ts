// Event readers for BPF_MAP_TYPE_RINGBUF and BPF_MAP_TYPE_PERF_EVENT_ARRAY maps.
//
// Ring buffer: we mmap the ring ourselves (ffi/mapped.ts: libc mmap, koffi.view over the memory) and
// walk its records in JavaScript, so reading costs no FFI call per event; only the wait for new
// data goes to a worker thread (poller.ts). Layout from kernel/bpf/ringbuf.c: page 0 holds
// consumer_pos (we write it), page 1 producer_pos, then the data pages, mapped twice back to back so
// a record that wraps reads contiguously. Each record starts with struct bpf_ringbuf_hdr
// { u32 len; u32 pg_off } where len carries BPF_RINGBUF_BUSY_BIT (1 << 31) while the producer
// writes it and BPF_RINGBUF_DISCARD_BIT (1 << 30) for discarded records; records are 8-byte aligned.
//
// Perf event array: libbpf's perf_buffer opens and maps one perf ring per CPU; we map each ring a
// second time (the kernel shares one ring between mappings of its perf event) and walk its
// records in JavaScript the same way (struct perf_event_mmap_page and struct perf_event_header from
// include/uapi/linux/perf_event.h), counting PERF_RECORD_LOST records' lost samples.
//
// Both readers have one walk over their records, consume(): it points a RecordView at each record
// in place and calls back. readAvailable() and the iterators are that walk with $decode().
// The views a callback sees ($bytes, $view, arrays over them) may be kept past close() by mistake:
// mapped.ts keeps them from faulting (after close they read zeros), which is why the readers only
// ever read their own mappings, never libbpf's.
import { type Codec, type RecordCodec, RecordView } from '../codegen/codec.js';
import { TsbpfError, UsageError } from '../errors.js';
import { hostLittleEndian, MapType } from './constants.js';
import { callError } from './errors.js';
import { koffi, libbpf, type Pointer } from './ffi/libbpf.js';
import { dupCloexec, libc, PROT_READ, PROT_WRITE } from './ffi/libc.js';
import { type MappedRange, mapShared } from './ffi/mapped.js';
import { finalizer } from './lifetime.js';
import type { BpfMap } from './map.js';
import { sharedPoller } from './poller.js';

export interface EventReader<E, V extends RecordView<E> = RecordView<E>>
  extends AsyncIterable<E>,
    AsyncDisposable,
    Disposable {
  /** Stops reading: pending iterations end, memory and fds are released. Idempotent. */
  close(): void;
  /** Samples the kernel dropped because the buffer was full (perf buffers; 0 for ring buffers). */
  readonly lost: number;
  /** Events in batches, for high event rates: an array per wake-up, of at most 256 events. */
  batches(): AsyncIterable<E[]>;
  /**
   * The events available now, without waiting (possibly none), at most `max` (4096). At high rates
   * a loop taking 256 at a time decodes faster: fewer decoded events are alive when the GC runs.
   */
  readAvailable(max?: number): E[];
  /**
   * Calls `fn` with each event available now, read in place: no copy and no allocation per event,
   * for the highest rates. `fn` gets the same view every time, pointed at the next record; it and
   * the byte arrays its getters return are valid only until `fn` returns (`view.$decode()` keeps a
   * copy). Returns the number of events. An event is consumed even when `fn` throws.
   */
  consume(fn: (event: V) => void, max?: number): number;
  /** Waits until events are available, then consume()s them; resolves to 0 once the reader is closed. */
  poll(fn: (event: V) => void, max?: number): Promise<number>;
  readonly closed: boolean;
}

// The most events the iterators decode per step. Decoded events are young objects: those still
// being gathered when the garbage collector runs are copied, and promoted if it runs again first,
// so a batch of 4096 made decoding 32-byte events 1.5x as costly as batches of 64 (CPU time, in
// the events bench). 256 keeps most of that gain while the per-step cost stays small.
const ITERATOR_BATCH = 256;

const BUSY_BIT = 0x80000000;
const DISCARD_BIT = 0x40000000;
const HDR_SIZE = 8;

// The ring buffer's record header must be read with acquire semantics (the kernel's reader uses
// smp_load_acquire) so that the record's bytes are read after it. x86 keeps loads in order, so a
// plain load is one there (as smp_load_acquire is), and several times faster than Atomics.load.
const PLAIN_LOADS_ACQUIRE = process.arch === 'x64' || process.arch === 'ia32';

/** The view of a codec that has none of its own (a primitive or hand-written codec): it decodes. */
class DecodingView<T> extends RecordView<T> {
  constructor(private readonly codec: Codec<T>) {
    super();
  }
  override $decode(): T {
    const { $bytes: bytes, $offset: offset, $length: length } = this;
    if (length >= this.codec.size) return this.codec.decode(bytes, offset);
    return this.codec.decode(bytes.subarray(offset, offset + length), 0);
  }
}

function viewFor<E, V extends RecordView<E>>(codec: Codec<E> | undefined): V {
  if (!codec) return new RecordView() as V;
  const record = codec as Partial<RecordCodec<E, V>>;
  return record.createView?.() ?? (new DecodingView(codec) as RecordView<E> as V);
}

abstract class BaseReader<E, V extends RecordView<E>> implements EventReader<E, V> {
  protected closedFlag = false;
  protected pollId = 0;
  protected readonly map: BpfMap;
  /** The one view consume() points at each record. */
  protected readonly view: V;
  /** The fewest bytes a record of the codec's type has (0: the codec decides). */
  protected readonly minSize: number;
  #iterating = false;
  /** consume() is running: close() leaves the memory mapped until it returns. */
  #consuming = false;
  #releasePending = false;

  protected constructor(map: BpfMap, codec: Codec<E> | undefined) {
    this.map = map;
    this.view = viewFor<E, V>(codec);
    this.minSize = codec && 'minSize' in codec && typeof codec.minSize === 'number' ? codec.minSize : 0;
  }

  abstract get lost(): number;
  /** The walk: calls fn with the view at each available record, at most max; returns how many. */
  protected abstract walk(fn: (event: V) => void, max: number): number;
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
    // Closed from inside a consume() callback: the walk still reads the ring until fn returns.
    if (this.#consuming) this.#releasePending = true;
    else this.release();
  }

  consume(fn: (event: V) => void, max = Number.POSITIVE_INFINITY): number {
    if (this.closedFlag) return 0;
    if (this.#consuming) {
      throw new UsageError(
        `map ${this.map.name}: consume() or readAvailable() called from a consume() callback`,
      );
    }
    this.#consuming = true;
    try {
      return this.walk(fn, max);
    } finally {
      this.#consuming = false;
      // A view kept past its callback must not show records consumed since: point it at nothing.
      this.view.$clear();
      if (this.#releasePending) {
        this.#releasePending = false;
        this.release();
      }
    }
  }

  readAvailable(max = 4096): E[] {
    const out: E[] = [];
    this.consume((event) => {
      out.push(event.$decode());
    }, max);
    return out;
  }

  async poll(fn: (event: V) => void, max?: number): Promise<number> {
    const poller = sharedPoller();
    for (;;) {
      if (this.closedFlag) return 0;
      const n = this.consume(fn, max);
      if (n > 0) return n;
      await poller.wait(this.pollId);
    }
  }

  /** Throws when a record is shorter than its type's fixed part. */
  protected checkLength(length: number): void {
    if (length < this.minSize) {
      throw new TsbpfError(
        `map ${this.map.name}: an event of ${length} bytes is shorter than the ${this.minSize} bytes its type needs`,
        {
          hint: 'Send the whole struct: pass sizeof(*event) to bpf_ringbuf_output() or bpf_perf_event_output().',
        },
      );
    }
  }

  /** The next non-empty batch, or undefined once closed. */
  async nextBatch(max = ITERATOR_BATCH): Promise<E[] | undefined> {
    const batch: E[] = [];
    const n = await this.poll((event) => {
      batch.push(event.$decode());
    }, max);
    return n > 0 ? batch : undefined;
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
export class RingBufReader<E = Uint8Array, V extends RecordView<E> = RecordView<E>> extends BaseReader<E, V> {
  readonly #size: number;
  /** The consumer page and the producer page + data: released (zeroed) at close. */
  readonly #ranges: MappedRange[];
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
    const page = libc().getpagesize() as number;
    this.#size = map.maxEntries;
    const fd = map.fd;
    const consumer = mapShared(
      fd,
      page,
      PROT_READ | PROT_WRITE,
      0,
      `map ${map.name}: ring buffer consumer page`,
    );
    const producerLength = page + 2 * this.#size;
    let producer: ReturnType<typeof mapShared>;
    try {
      producer = mapShared(fd, producerLength, PROT_READ, page, `map ${map.name}: ring buffer data`);
    } catch (error) {
      consumer.range.unmap(); // no view of it has left this constructor
      throw error;
    }
    this.#ranges = [consumer.range, producer.range];
    this.#consumerPos = new BigInt64Array(consumer.buffer, 0, 1);
    this.#producerPos = new BigInt64Array(producer.buffer, 0, 1);
    this.#data8 = new Uint8Array(producer.buffer, page, 2 * this.#size);
    this.#data32 = new Int32Array(producer.buffer, page, (2 * this.#size) / 4);
    this.#cons = Number(Atomics.load(this.#consumerPos, 0));
    // Our own fd for epoll: two readers of one map must not share an epoll registration.
    this.#pollFd = dupCloexec(fd);
    this.pollId = sharedPoller().add(this.#pollFd);
    const held = { ranges: this.#ranges, fd: this.#pollFd };
    finalizer.register(this, { close: () => releaseRing(held) }, this);
    map.addDependent(this);
  }

  get lost(): number {
    return 0;
  }

  protected walk(fn: (event: V) => void, max: number): number {
    const prod = Number(Atomics.load(this.#producerPos, 0));
    const size = this.#size;
    const data8 = this.#data8;
    const data32 = this.#data32;
    const view = this.view;
    const minSize = this.minSize;
    let cons = this.#cons;
    let n = 0;
    // The ring's size is a power of two: & finds the offset, exactly, even once cons is past 2^32.
    const mask = size - 1;
    try {
      while (cons < prod && n < max) {
        const offset = cons & mask;
        const word = PLAIN_LOADS_ACQUIRE ? data32[offset >>> 2]! : Atomics.load(data32, offset >>> 2);
        const len = word >>> 0;
        if (len & BUSY_BIT) break;
        const length = len & ~(BUSY_BIT | DISCARD_BIT);
        // Past the record before the callback, so that one that throws is not delivered again.
        const at = offset + HDR_SIZE;
        const step = (length + HDR_SIZE + 7) & ~7;
        cons += step;
        if (len & DISCARD_BIT) continue;
        if (length < minSize) this.checkLength(length);
        fn(view.$at(data8, at, length));
        n++;
        if (this.closedFlag) break;
      }
    } finally {
      if (cons !== this.#cons) {
        this.#cons = cons;
        Atomics.store(this.#consumerPos, 0, BigInt(cons));
      }
    }
    return n;
  }

  protected release(): void {
    releaseRing({ ranges: this.#ranges, fd: this.#pollFd });
    this.#pollFd = -1;
    const empty = new ArrayBuffer(8);
    this.#consumerPos = new BigInt64Array(empty);
    this.#producerPos = new BigInt64Array(empty);
    this.#data8 = new Uint8Array(0);
    this.#data32 = new Int32Array(0);
  }
}

/** Zeroes a ring buffer reader's mappings (views kept past close read zeros) and closes its fd. */
function releaseRing(held: { ranges: MappedRange[]; fd: number }): void {
  for (const range of held.ranges) range.release();
  if (held.fd >= 0) libc().close(held.fd);
  held.fd = -1;
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

/** One CPU's perf ring, in our own mapping of its perf event; we read it and advance data_tail. */
interface PerfRing {
  range: MappedRange;
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
export class PerfReader<E = Uint8Array, V extends RecordView<E> = RecordView<E>> extends BaseReader<E, V> {
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
    this.#rings = mapPerfRings(pb, map.name);
    this.pollId = sharedPoller().add(l.perf_buffer__epoll_fd(pb) as number);
    const held = { pb, ranges: this.#rings.map((r) => r.range) };
    finalizer.register(this, { close: () => freePerfBuffer(held.pb, held.ranges) }, this);
    map.addDependent(this);
  }

  /** Samples the kernel could not write because a ring was full (from PERF_RECORD_LOST records). */
  get lost(): number {
    return this.#lost;
  }

  protected walk(fn: (event: V) => void, max: number): number {
    const rings = this.#rings;
    const count = rings.length;
    const first = this.#next;
    let n = 0;
    for (let k = 0; k < count && n < max && !this.closedFlag; k++) {
      const i = (first + k) % count;
      n += this.#walkRing(rings[i]!, fn, max - n);
      if (n >= max) this.#next = (i + 1) % count;
    }
    return n;
  }

  /** Calls fn for the samples between data_tail and data_head of one ring (at most max). */
  #walkRing(ring: PerfRing, fn: (event: V) => void, max: number): number {
    // Atomics.load/store are sequentially consistent: the data_head load orders our reads of the
    // records after it (the kernel's smp_rmb pairing, perf_event.h's comment on data_head), and the
    // data_tail store comes after every read of the records it frees (the smp_mb before the store).
    const head = Number(Atomics.load(ring.control, PERF_DATA_HEAD / 8));
    let tail = ring.tail;
    if (tail === head) return 0;
    // The ring's arrays in locals: the callback could change any object, so loads through `ring`
    // would be repeated for every record.
    const { size, data8, data16, data32, view: ringFields } = ring;
    const view = this.view;
    const minSize = this.minSize;
    let n = 0;
    // The ring's size is a power of two: & finds the offset, exactly, even once tail is past 2^32.
    const mask = size - 1;
    try {
      while (tail < head && n < max) {
        const offset = tail & mask;
        // Records are 8-byte aligned and the ring a multiple of pages: the 8-byte header never wraps.
        const type = data32[offset >>> 2]!;
        const length = data16[(offset + 6) >>> 1]!;
        if (length < PERF_HEADER_SIZE) {
          throw new TsbpfError(`map ${this.map.name}: corrupt perf ring record (size ${length})`, {
            hint: 'this is a bug in tsbpf or the kernel; please report it',
          });
        }
        // Past the record before the callback, so that one that throws is not delivered again.
        tail += length;
        if (type !== PERF_RECORD_SAMPLE && type !== PERF_RECORD_LOST) continue;
        // Read where it lies; a record that wraps around the ring's end is copied out first.
        const wraps = offset + length > size;
        const bytes = wraps ? this.#contiguous(data8, offset, length, size) : data8;
        const at = wraps ? 0 : offset;
        const fields = wraps ? this.#scratchView : ringFields;
        if (type === PERF_RECORD_LOST) {
          this.#lost += Number(fields.getBigUint64(at + PERF_HEADER_SIZE + 8, hostLittleEndian));
          continue;
        }
        // The sample's u32 size: an aligned typed-array load where the record lies (the hot case).
        const sent = wraps
          ? fields.getUint32(PERF_HEADER_SIZE, hostLittleEndian)
          : data32[(offset + PERF_HEADER_SIZE) >>> 2]!;
        const raw = Math.min(sent, length - PERF_HEADER_SIZE - 4);
        if (raw < minSize) this.checkLength(raw);
        fn(view.$at(bytes, at + PERF_HEADER_SIZE + 4, raw));
        n++;
        if (this.closedFlag) break;
      }
    } finally {
      ring.tail = tail;
      Atomics.store(ring.control, PERF_DATA_TAIL / 8, BigInt(tail));
    }
    return n;
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
    freePerfBuffer(
      this.#pb,
      this.#rings.map((r) => r.range),
    );
    this.#pb = null;
    this.#rings = [];
  }
}

/** Zeroes our mappings of the rings (views kept past close read zeros), then frees libbpf's buffer. */
function freePerfBuffer(pb: Pointer, ranges: MappedRange[]): void {
  for (const range of ranges) range.release();
  libbpf().perf_buffer__free(pb);
}
/**
 * The per-CPU rings of a perf_buffer, as typed arrays over our own mapping of each ring: libbpf's
 * mapping is unmapped by perf_buffer__free whatever views of it JavaScript still holds. Frees the
 * perf buffer when a ring cannot be mapped.
 */
function mapPerfRings(pb: Pointer, mapName: string): PerfRing[] {
  const l = libbpf();
  const page = libc().getpagesize() as number;
  const count = Number(l.perf_buffer__buffer_cnt(pb));
  const rings: PerfRing[] = [];
  try {
    for (let i = 0; i < count; i++) {
      // libbpf maps one header page and then page_cnt pages of data; buf_size is the data's size,
      // and a second mapping of a perf event must have the size of the first (kernel/events/core.c,
      // perf_mmap).
      const base: Pointer[] = [null];
      const mapped = [0];
      const err = l.perf_buffer__buffer(pb, i, base, mapped) as number;
      const fd = err < 0 ? err : (l.perf_buffer__buffer_fd(pb, i) as number);
      if (err < 0 || fd < 0) throw callError(`map ${mapName}: perf buffer ${i}`, err < 0 ? -err : -fd);
      const { buffer, range } = mapShared(
        fd,
        page + Number(mapped[0]),
        PROT_READ | PROT_WRITE,
        0,
        `map ${mapName}: perf buffer ${i}`,
      );
      // The header page says where the data area is (data_offset/data_size, Linux >= 4.1).
      const header = new DataView(buffer, 0, page);
      let dataOffset = Number(header.getBigUint64(PERF_DATA_OFFSET, hostLittleEndian));
      let dataSize = Number(header.getBigUint64(PERF_DATA_SIZE, hostLittleEndian));
      if (dataSize === 0) {
        dataOffset = page;
        dataSize = Number(mapped[0]);
      }
      const control = new BigInt64Array(buffer, 0, page / 8);
      rings.push({
        range,
        control,
        data8: new Uint8Array(buffer, dataOffset, dataSize),
        view: new DataView(buffer, dataOffset, dataSize),
        data16: new Uint16Array(buffer, dataOffset, dataSize / 2),
        data32: new Uint32Array(buffer, dataOffset, dataSize / 4),
        size: dataSize,
        tail: Number(Atomics.load(control, PERF_DATA_TAIL / 8)),
      });
    }
  } catch (error) {
    freePerfBuffer(
      pb,
      rings.map((r) => r.range),
    );
    throw error;
  }
  return rings;
}

/**
 * A ring buffer map with its event codec (raw bytes without one). `V` is the codec's in-place view
 * (`EventView` for a generated `Event` codec), the type `reader().consume()` calls back with.
 */
export class RingBuf<E = Uint8Array, V extends RecordView<E> = RecordView<E>> {
  readonly map: BpfMap;
  readonly codec: Codec<E> | undefined;
  constructor(map: BpfMap, codec?: RecordCodec<E, V> | Codec<E>) {
    if (map.type !== MapType.ringbuf)
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a ring buffer`);
    this.map = map;
    this.codec = codec;
  }
  /** A new reader; close it (or the collection) when done. */
  reader(): RingBufReader<E, V>;
  reader<T, W extends RecordView<T>>(codec: RecordCodec<T, W>): RingBufReader<T, W>;
  reader<T>(codec: Codec<T>): RingBufReader<T>;
  reader(codec?: Codec<unknown>): RingBufReader<unknown, RecordView<unknown>> {
    return new RingBufReader(this.map, codec ?? this.codec);
  }
}

/** A perf event array map with its event codec (raw bytes without one); `V` as for RingBuf. */
export class PerfEventArray<E = Uint8Array, V extends RecordView<E> = RecordView<E>> {
  readonly map: BpfMap;
  readonly codec: Codec<E> | undefined;
  constructor(map: BpfMap, codec?: RecordCodec<E, V> | Codec<E>) {
    if (map.type !== MapType.perfEventArray) {
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a perf event array`);
    }
    this.map = map;
    this.codec = codec;
  }
  reader(codec?: undefined, options?: PerfReaderOptions): PerfReader<E, V>;
  reader<T, W extends RecordView<T>>(codec: RecordCodec<T, W>, options?: PerfReaderOptions): PerfReader<T, W>;
  reader<T>(codec: Codec<T>, options?: PerfReaderOptions): PerfReader<T>;
  reader(codec?: Codec<unknown>, options?: PerfReaderOptions): PerfReader<unknown, RecordView<unknown>> {
    return new PerfReader(this.map, codec ?? this.codec, options);
  }
}
