// A user ring buffer (BPF_MAP_TYPE_USER_RINGBUF, Linux 6.1): the reverse of a ring buffer, written
// by this process and drained by a program calling bpf_user_ringbuf_drain(). Written through
// libbpf's user_ring_buffer (libbpf.h, 1.0+), which maps the ring and keeps the producer position;
// records are copied into the space it reserves, so no view of libbpf's mapping (unmapped by
// user_ring_buffer__free) ever reaches JavaScript.
import type { Codec } from '../codegen/codec.js';
import { TsbpfError, UsageError } from '../errors.js';
import { MapType } from './constants.js';
import { callError, E2BIG, ENOSPC } from './errors.js';
import { koffi, libbpf, type Pointer } from './ffi/libbpf.js';
import { finalizer } from './lifetime.js';
import type { BpfMap } from './map.js';

/** Thrown by write() when the ring has no room for the record until the program drains it. */
export class UserRingBufFullError extends TsbpfError {}

/** Space reserved in the ring: fill `bytes`, then submit() it, or discard() it. */
export interface UserRingBufSample {
  /** The record's bytes (copied into the ring at submit()). */
  readonly bytes: Uint8Array;
  submit(): void;
  discard(): void;
}

/**
 * A user ring buffer map with its record codec (raw bytes without one). The C side declares
 * `__uint(type, BPF_MAP_TYPE_USER_RINGBUF); __uint(max_entries, 4096);` and no value type (libbpf
 * 1.1 would pass it on and the kernel refuses one); the generated loader binds the record type
 * named with `tsbpf gen --event MAP=TYPE`.
 */
export class UserRingBuf<T = Uint8Array> {
  readonly map: BpfMap;
  readonly codec: Codec<T> | undefined;
  readonly #scratch: Uint8Array | undefined;
  /** libbpf's struct user_ring_buffer, made at the first write. */
  #held: { rb: Pointer | null; close(): void } | undefined;
  #closed = false;

  constructor(map: BpfMap, codec?: Codec<T>) {
    if (map.type !== MapType.userRingbuf)
      throw new UsageError(`map ${map.name} is a ${map.typeName}, not a user ring buffer`);
    this.map = map;
    this.codec = codec;
    this.#scratch = codec ? new Uint8Array(codec.size) : undefined;
  }

  /** Writes one record; UserRingBufFullError when the ring has no room until the program drains it. */
  write(value: T): void {
    if (!this.tryWrite(value)) {
      throw new UserRingBufFullError(
        `map ${this.map.name}: the user ring buffer is full (${this.map.maxEntries} bytes); the program has not drained it`,
        {
          hint: 'run the program that calls bpf_user_ringbuf_drain() and write again, use tryWrite() to retry without an error, or raise max_entries before load',
        },
      );
    }
  }

  /** Writes one record; false when the ring has no room for it now. */
  tryWrite(value: T): boolean {
    const bytes = this.#encode(value);
    const sample = this.#reserve(bytes.byteLength);
    if (sample === null) return false;
    this.#commit(sample, bytes);
    return true;
  }

  /**
   * Reserves a record's space now (`size` bytes, default the codec's), keeping its place in the
   * ring: records after it reach the program only once it is submitted or discarded.
   * Null when the ring is full.
   */
  reserve(size = this.codec?.size): UserRingBufSample | null {
    if (size === undefined || !Number.isInteger(size) || size <= 0) {
      throw new UsageError(`map ${this.map.name}: reserve(size) needs a positive size in bytes`, {
        hint: 'a user ring buffer without a record type takes the size of each record',
      });
    }
    const sample = this.#reserve(size);
    if (sample === null) return null;
    const bytes = new Uint8Array(size);
    let done = false;
    const finish = (submit: boolean) => {
      if (done) throw new UsageError(`map ${this.map.name}: this sample was already submitted or discarded`);
      done = true;
      const rb = this.#held?.rb;
      if (!rb) return; // the ring was closed; the sample went with it
      if (submit) this.#commit(sample, bytes);
      else libbpf().user_ring_buffer__discard(rb, sample);
    };
    return { bytes, submit: () => finish(true), discard: () => finish(false) };
  }

  /** Frees the writer (the map stays). Idempotent; the map's collection closes it too. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.map.removeDependent(this);
    if (this.#held) {
      finalizer.unregister(this);
      this.#held.close();
    }
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #encode(value: T): Uint8Array {
    if (!this.codec) {
      if (!(value instanceof Uint8Array)) {
        throw new UsageError(`map ${this.map.name}: this user ring buffer has no record type: write bytes`, {
          hint: 'name the record type in C (__type(value, struct rec)) or pass a codec to UserRingBuf',
        });
      }
      return value;
    }
    this.codec.encodeInto(value, this.#scratch!, 0);
    return this.#scratch!;
  }

  #ring(): Pointer {
    if (this.#closed) throw new UsageError(`map ${this.map.name}: the user ring buffer writer is closed`);
    if (this.#held?.rb) return this.#held.rb;
    const rb = libbpf().user_ring_buffer__new(this.map.fd, null);
    if (!rb) throw callError(`map ${this.map.name}: open the user ring buffer`, koffi.errno());
    const held = {
      rb: rb as Pointer | null,
      close() {
        if (held.rb) libbpf().user_ring_buffer__free(held.rb);
        held.rb = null;
      },
    };
    this.#held = held;
    finalizer.register(this, held, this);
    this.map.addDependent(this);
    return rb;
  }

  /** A reserved sample, or null when the ring is full now. */
  #reserve(size: number): Pointer | null {
    const rb = this.#ring();
    const sample = libbpf().user_ring_buffer__reserve(rb, size);
    if (sample) return sample;
    const errno = koffi.errno();
    if (errno === ENOSPC) return null;
    if (errno === E2BIG) {
      throw new UsageError(
        `map ${this.map.name}: a record of ${size} bytes does not fit in the user ring buffer (${this.map.maxEntries} bytes, 8 of them each record's header)`,
        { hint: 'raise max_entries (a power of two, a multiple of the page size) or write smaller records' },
      );
    }
    throw callError(`map ${this.map.name}: reserve ${size} bytes in the user ring buffer`, errno);
  }

  #commit(sample: Pointer, bytes: Uint8Array): void {
    // Copied while no JavaScript can keep the view: it does not outlive this statement.
    new Uint8Array(koffi.view(sample, bytes.byteLength)).set(bytes);
    libbpf().user_ring_buffer__submit(this.#held!.rb, sample);
  }
}
