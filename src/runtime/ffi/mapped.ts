// Memory mapped from a kernel object (a BPF map's array, a ring buffer, a perf event's ring) and
// seen from JavaScript as an ArrayBuffer (koffi.view). Typed arrays over it load and store directly,
// checked only against their length, so the range must never be unmapped while a view of it can
// still be reached: a view kept past close() would fault (SIGSEGV: the process dies) or, once
// something else is mapped at that address, read and write another object's memory. JavaScript
// cannot revoke such a view (Node 20 copies an external ArrayBuffer given to structuredClone or
// postMessage instead of detaching it; ArrayBuffer.prototype.transfer is Node 22+), hence:
// - we only hand out views of ranges we mapped ourselves, never of libbpf's mappings, which
//   bpf_object__close and perf_buffer__free munmap whatever JavaScript still holds;
// - release() (at close) swaps the kernel object's pages for anonymous zero pages in place:
//   mmap(MAP_FIXED) replaces a mapping atomically, so there is no moment at which the range is free
//   for another mmap to take (which a munmap followed by a new mmap would allow). The vma's hold on
//   the map or perf ring goes with it, so the kernel frees the object as before; a stale view reads
//   zeros (or, for the small data sections, the last contents, copied back into the new pages while
//   no JavaScript runs), and its writes land in pages of its own. Rings are not copied back: a
//   ring buffer's data may be hundreds of MiB, which would then stay committed until GC;
// - the range is unmapped by a FinalizationRegistry once the ArrayBuffer, and with it every view
//   of it, is garbage.
import { debug } from '../../output.js';
import { callError } from '../errors.js';
import { koffi, type Pointer } from './libbpf.js';
import {
  libc,
  MAP_ANONYMOUS,
  MAP_FIXED,
  MAP_NORESERVE,
  MAP_PRIVATE,
  MAP_SHARED,
  PROT_READ,
  PROT_WRITE,
} from './libc.js';

const MAP_FAILED = 0xffffffffffffffffn;

/**
 * The address range of one mapping. Whoever must release it keeps this, not the ArrayBuffer, so
 * that holding it (in a finalizer's held value, say) does not keep the views alive.
 */
export class MappedRange {
  #address: Pointer;
  readonly length: number;
  #state: 'kernel' | 'zeroed' | 'unmapped' = 'kernel';

  constructor(address: Pointer, length: number) {
    this.#address = address;
    this.length = length;
  }

  /** Whether the range still shows the kernel object (not yet released). */
  get live(): boolean {
    return this.#state === 'kernel';
  }

  /**
   * Replaces the kernel object's pages with private ones (idempotent): zero pages, or with `keep`
   * a copy of the last contents (for small ranges: the copy stays committed until GC).
   */
  release(keep = false): void {
    if (this.#state !== 'kernel') return;
    // The same address as the views: valid before the swap (kernel pages) and after (ours).
    const memory = keep ? new Uint8Array(koffi.view(this.#address, this.length)) : undefined;
    const saved = memory?.slice();
    const flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE;
    const zeroed = libc().mmap(this.#address, this.length, PROT_READ | PROT_WRITE, flags, -1, 0);
    if (!zeroed || koffi.address(zeroed) !== koffi.address(this.#address)) {
      // Still safe: the kernel object stays mapped (and alive) until the views are garbage.
      debug(
        `release of a ${this.length}-byte mapping failed (errno ${koffi.errno()}); kept until unreachable`,
      );
      return;
    }
    if (memory && saved) memory.set(saved);
    this.#state = 'zeroed';
  }

  /** Unmaps the range: only once no view of it exists (the registry below calls it). */
  unmap(): void {
    if (this.#state === 'unmapped') return;
    libc().munmap(this.#address, this.length);
    this.#state = 'unmapped';
    this.#address = null;
  }
}

const unmapWhenUnreachable = new FinalizationRegistry<MappedRange>((range) => range.unmap());

export interface Mapped {
  /** The mapped bytes; typed arrays over it are the views JavaScript reads. */
  buffer: ArrayBuffer;
  range: MappedRange;
}

/**
 * mmap(NULL, length, prot, MAP_SHARED, fd, offset), as an ArrayBuffer whose range stays mapped
 * until it is garbage. `what` names the mapping in the error when the kernel refuses it.
 */
export function mapShared(fd: number, length: number, prot: number, offset: number, what: string): Mapped {
  const address = libc().mmap(null, length, prot, MAP_SHARED, fd, offset);
  if (!address || koffi.address(address) === MAP_FAILED) throw callError(`${what}: mmap`, koffi.errno());
  const range = new MappedRange(address, length);
  let buffer: ArrayBuffer;
  try {
    buffer = koffi.view(address, length);
  } catch (error) {
    range.unmap();
    throw error;
  }
  unmapWhenUnreachable.register(buffer, range);
  return { buffer, range };
}
