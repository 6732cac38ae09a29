// BPF iterators (SEC("iter/...")): attached, an iterator is a link; reading it means asking the
// kernel for a new iterator fd (bpf_iter_create on the link) and read()ing that fd to its end,
// which runs the program once per object (task, map element, ...). What the program wrote with
// bpf_seq_printf comes back as text, what it wrote with bpf_seq_write as bytes: fixed-size records
// that a codec decodes. Each read is a fresh pass over the kernel's objects.
import { closeSync, read, readSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Codec } from '../codegen/codec.js';
import { TsbpfError, UsageError } from '../errors.js';
import { callError } from './errors.js';
import { IterAttachOpts, koffi, libbpf } from './ffi/libbpf.js';
import { LibbpfLink } from './link.js';
import type { BpfMap } from './map.js';

export interface IterOptions {
  /** The map a map iterator (iter/bpf_map_elem, iter/bpf_sk_storage_map, iter/sockmap) walks. */
  map?: BpfMap | { map: BpfMap };
  /** Task iterators: only the threads of this process (kernel >= 6.1). */
  pid?: number;
  /** Task iterators: only this thread (kernel >= 6.1). */
  tid?: number;
}

const readAsync = promisify(read);
const chunkSize = 64 * 1024;

/** An attached iterator: a link whose output is read again on each call. */
export class IterLink extends LibbpfLink {
  /** Program name, for errors. */
  #program = '';

  /** @internal */
  named(program: string): this {
    this.#program = program;
    return this;
  }

  /** A new iterator fd; the caller closes it. */
  #open(): number {
    if (this.closed) throw new UsageError(`iterator ${this.#program}: its link is closed`);
    const fd = libbpf().bpf_iter_create(this.fd) as number;
    if (fd < 0) throw callError(`iterator ${this.#program}: create`, -fd);
    return fd;
  }

  #readError(cause: unknown): TsbpfError {
    const errno = (cause as NodeJS.ErrnoException).errno;
    const name = (cause as NodeJS.ErrnoException).code ?? String(cause);
    return new TsbpfError(`iterator ${this.#program}: read failed (${name})`, {
      cause,
      hint:
        errno === -7 // E2BIG: one object's output exceeds the kernel's seq buffer (8 pages)
          ? 'one call of the program wrote more than the iterator buffer holds; write less per object'
          : 'the program returned an error or the kernel stopped the iteration',
    });
  }

  /** The whole output, read synchronously (the program runs on this thread, in the kernel). */
  readBytes(): Uint8Array {
    const fd = this.#open();
    const parts: Uint8Array[] = [];
    let total = 0;
    try {
      for (;;) {
        const chunk = new Uint8Array(chunkSize);
        let n: number;
        try {
          n = readSync(fd, chunk, 0, chunk.byteLength, null);
        } catch (cause) {
          throw this.#readError(cause);
        }
        if (n === 0) break;
        parts.push(chunk.subarray(0, n));
        total += n;
      }
    } finally {
      closeSync(fd);
    }
    return concat(parts, total);
  }

  /** The output as text (what the program printed with bpf_seq_printf / BPF_SEQ_PRINTF). */
  readText(): string {
    return new TextDecoder().decode(this.readBytes());
  }

  /** The output as lines, without their line ends; no trailing empty line. */
  readLines(): string[] {
    return splitLines(this.readText());
  }

  /** Records of `codec.size` bytes each (what the program wrote with bpf_seq_write), decoded. */
  readRecords<T>(codec: Codec<T>): T[] {
    const bytes = this.readBytes();
    this.#checkWhole(bytes.byteLength, codec);
    const out: T[] = [];
    for (let at = 0; at < bytes.byteLength; at += codec.size) out.push(codec.decode(bytes, at));
    return out;
  }

  /** The output chunk by chunk, read on Node's thread pool: the event loop runs meanwhile. */
  async *chunks(): AsyncGenerator<Uint8Array> {
    const fd = this.#open();
    try {
      for (;;) {
        const chunk = new Uint8Array(chunkSize);
        let n: number;
        try {
          n = (await readAsync(fd, chunk, 0, chunk.byteLength, null)).bytesRead;
        } catch (cause) {
          throw this.#readError(cause);
        }
        if (n === 0) return;
        yield chunk.subarray(0, n);
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The output's lines as they are read (async iterable; `for await (const line of it.lines())`). */
  async *lines(): AsyncGenerator<string> {
    const decoder = new TextDecoder();
    let pending = '';
    for await (const chunk of this.chunks()) {
      pending += decoder.decode(chunk, { stream: true });
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      yield* lines;
    }
    pending += decoder.decode();
    if (pending !== '') yield pending;
  }

  /** Decoded records as they are read (async iterable). */
  async *records<T>(codec: Codec<T>): AsyncGenerator<T> {
    let pending = new Uint8Array(0);
    let total = 0;
    for await (const chunk of this.chunks()) {
      total += chunk.byteLength;
      const bytes =
        pending.byteLength === 0 ? chunk : concat([pending, chunk], pending.byteLength + chunk.byteLength);
      const whole = bytes.byteLength - (bytes.byteLength % codec.size);
      for (let at = 0; at < whole; at += codec.size) yield codec.decode(bytes, at);
      pending = bytes.slice(whole);
    }
    this.#checkWhole(total, codec);
  }

  #checkWhole(length: number, codec: Codec<unknown>): void {
    if (length % codec.size !== 0) {
      throw new UsageError(
        `iterator ${this.#program}: its output (${length} bytes) is not whole records of ${codec.size} bytes`,
        {
          hint: 'write one record per call with bpf_seq_write(seq, &record, sizeof(record)) and decode with the codec of that struct (tsbpf gen --type NAME)',
        },
      );
    }
  }
}

/** Whether a SEC() name is an iterator's. */
export function isIterSection(section: string): boolean {
  return /^iter(\.s)?\//.test(section);
}

/** Iterators that walk a map, which attachIter({ map }) names (the kernel's bpf_iter targets). */
const MAP_ITERATOR = /^iter(\.s)?\/(bpf_map_elem|bpf_sk_storage_map|sockmap)$/;

/**
 * What bpf_program__attach_iter takes for `options`: struct bpf_iter_attach_opts over a union
 * bpf_iter_link_info (include/uapi/linux/bpf.h: map { u32 map_fd } or task { u32 tid, pid, pid_fd }).
 */
export function iterAttachOptions(program: string, section: string, options: IterOptions): unknown {
  if (!isIterSection(section)) {
    throw new UsageError(`program ${program}: SEC("${section}") is not an iterator`, {
      hint: 'attachIter() attaches SEC("iter/<kind>") programs, e.g. SEC("iter/task")',
    });
  }
  const { map, pid, tid } = options;
  if (map !== undefined && (pid !== undefined || tid !== undefined)) {
    throw new UsageError(`program ${program}: attachIter() takes a map or a pid/tid, not both`);
  }
  if (pid !== undefined && tid !== undefined) {
    throw new UsageError(`program ${program}: attachIter() takes a pid or a tid, not both`);
  }
  // Checked here, not read from the kernel's answer: kernels differ in the errno they give.
  if (map === undefined && MAP_ITERATOR.test(section)) {
    throw new UsageError(`program ${program}: SEC("${section}") walks a map, and none was given`, {
      hint: 'name it: attachIter({ map: objects.maps.<name> })',
    });
  }
  if (map === undefined && pid === undefined && tid === undefined) return null;
  const info = new Uint8Array(16);
  const view = new DataView(info.buffer);
  if (map !== undefined) view.setUint32(0, ('map' in map ? map.map : map).fd, true);
  else if (tid !== undefined) view.setUint32(0, tid, true);
  else view.setUint32(4, pid!, true);
  return { sz: koffi.sizeof(IterAttachOpts), link_info: info, link_info_len: info.byteLength };
}

function concat(parts: Uint8Array[], total: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.byteLength;
  }
  return out;
}

function splitLines(text: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
