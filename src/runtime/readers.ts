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
// Perf event array: libbpf's perf_buffer (one ring per CPU) with sample and lost callbacks, which
// run synchronously on the main thread inside perf_buffer__consume after the poller says there is
// data.
import type { Codec } from '../codegen/codec.js';
import { TsbpfError, UsageError } from '../errors.js';
import { MapType } from './constants.js';
import { callError } from './errors.js';
import { koffi, libbpf, PerfLostFn, PerfSampleFn, type Pointer } from './ffi/libbpf.js';
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

/** Reads a BPF perf event array through libbpf's perf_buffer. */
export class PerfReader<E = Uint8Array> extends BaseReader<E> {
  #pb: Pointer;
  #lost = 0;
  #sample: koffi.IKoffiRegisteredCallback | undefined;
  #lostCb: koffi.IKoffiRegisteredCallback | undefined;
  #batch: E[] = [];

  constructor(map: BpfMap, codec?: Codec<E>, options: PerfReaderOptions = {}) {
    super(map, codec);
    if (map.type !== MapType.perfEventArray) {
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a perf event array`);
    }
    const pageCount = options.pageCount ?? 64;
    if (pageCount <= 0 || (pageCount & (pageCount - 1)) !== 0) {
      throw new UsageError(`perf buffer page count must be a power of two, not ${pageCount}`);
    }
    this.#sample = koffi.register((_ctx: unknown, _cpu: number, data: unknown, size: number) => {
      this.#batch.push(this.decode(new Uint8Array(koffi.view(data, size))));
    }, koffi.pointer(PerfSampleFn));
    this.#lostCb = koffi.register((_ctx: unknown, _cpu: number, count: number | bigint) => {
      this.#lost += Number(count);
    }, koffi.pointer(PerfLostFn));
    const pb = libbpf().perf_buffer__new(map.fd, pageCount, this.#sample, this.#lostCb, null, null);
    if (!pb) {
      const errno = koffi.errno();
      this.#unregister();
      throw callError(`map ${map.name}: open perf buffer`, errno);
    }
    this.#pb = pb;
    this.pollId = sharedPoller().add(libbpf().perf_buffer__epoll_fd(pb) as number);
    const held = { pb, sample: this.#sample, lost: this.#lostCb };
    finalizer.register(
      this,
      {
        close: () => {
          libbpf().perf_buffer__free(held.pb);
          koffi.unregister(held.sample);
          koffi.unregister(held.lost);
        },
      },
      this,
    );
    map.addDependent(this);
  }

  get lost(): number {
    return this.#lost;
  }

  readAvailable(max = Number.POSITIVE_INFINITY): E[] {
    if (this.closedFlag) return [];
    if (this.#batch.length === 0) {
      const err = libbpf().perf_buffer__consume(this.#pb) as number;
      if (err < 0) throw callError(`map ${this.map.name}: read perf buffer`, -err);
    }
    if (this.#batch.length <= max) {
      const out = this.#batch;
      this.#batch = [];
      return out;
    }
    return this.#batch.splice(0, max);
  }

  #unregister(): void {
    if (this.#sample) koffi.unregister(this.#sample);
    if (this.#lostCb) koffi.unregister(this.#lostCb);
    this.#sample = undefined;
    this.#lostCb = undefined;
  }

  protected release(): void {
    libbpf().perf_buffer__free(this.#pb);
    this.#pb = null;
    this.#unregister();
    this.#batch = [];
  }
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
