// BPF streams (kernel 6.17+): each loaded program has a stdout and a stderr, text buffers that
// bpf_stream_printk() (libbpf 1.6's bpf_helpers.h, over the bpf_stream_vprintk kfunc) writes and
// the kernel itself writes to on stderr (a program stopped for a deadlock or a timeout says why
// there). Reading drains what is there: libbpf 1.6's bpf_prog_stream_read (BPF_PROG_STREAM_READ_BY_FD).
// Unlike trace_pipe these are per program, so two tools do not take each other's lines.
// There is nothing to poll on, so following a stream reads it again at an interval.
import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { NotSupportedError, TsbpfError, UsageError } from '../errors.js';
import { callError, EINVAL, ENOENT } from './errors.js';
import { libbpf, libbpfVersion } from './ffi/libbpf.js';
import { libc } from './ffi/libc.js';

/** Stream ids: BPF_STREAM_STDOUT and BPF_STREAM_STDERR (include/uapi/linux/bpf.h). */
export const streamIds = { stdout: 1, stderr: 2 } as const;
export type StreamName = keyof typeof streamIds;

const chunk = 64 * 1024;

/** bpf_prog_stream_read, or a NotSupportedError naming the libbpf that has it. */
function streamReader(what: string) {
  const read = libbpf().bpf_prog_stream_read;
  if (!read) {
    const [major, minor] = libbpfVersion();
    throw new NotSupportedError(
      `${what}: reading BPF streams needs libbpf >= 1.6 (bpf_prog_stream_read); this process loaded libbpf ${major}.${minor}`,
      {
        hint: 'install libbpf 1.6 or newer (Debian unstable ships 1.7) and point tsbpf at it: TSBPF_LIBBPF=/path/to/libbpf.so.1; until then, write with bpf_printk() and read `tsbpf trace`',
      },
    );
  }
  return read;
}

/**
 * Reads (and so drains) everything program `progFd`'s stream holds now, as text; '' when it is
 * empty. `what` names the program in errors.
 */
export function readProgramStream(progFd: number, stream: StreamName, what: string): string {
  const id = streamIds[stream];
  if (id === undefined) {
    throw new UsageError(`${what}: unknown stream ${String(stream)}`, { hint: "read 'stdout' or 'stderr'" });
  }
  const read = streamReader(what);
  const buffer = Buffer.alloc(chunk);
  const parts: string[] = [];
  for (;;) {
    const n = read(progFd, id, buffer, buffer.length, null) as number;
    if (n === -EINVAL && !kernelHasStreams()) {
      // Before 6.17 the bpf syscall has no BPF_PROG_STREAM_READ_BY_FD command: EINVAL.
      throw new NotSupportedError(`${what}: this kernel (${release()}) has no BPF streams (EINVAL)`, {
        hint: 'BPF streams need Linux 6.17 or newer; on older kernels write with bpf_printk() and read `tsbpf trace`',
      });
    }
    if (n < 0) throw callError(`${what}: read BPF stream ${stream}`, -n, [], undefined, ['CAP_BPF']);
    if (n === 0) break;
    parts.push(buffer.toString('utf8', 0, n));
    if (n < buffer.length) break;
  }
  return parts.join('');
}

export interface FollowStreamOptions {
  /** Which streams (default both). */
  streams?: StreamName[];
  /** Milliseconds between reads (default 200). */
  interval?: number;
  signal?: AbortSignal;
}

export interface StreamLine {
  stream: StreamName;
  message: string;
}

/**
 * Reads the program's streams until the signal aborts, yielding whole lines (a last line without a
 * newline is yielded when the signal ends the reading).
 */
export async function* followProgramStream(
  progFd: number,
  what: string,
  options: FollowStreamOptions = {},
): AsyncGenerator<StreamLine> {
  const streams = options.streams ?? ['stdout', 'stderr'];
  const interval = options.interval ?? 200;
  streamReader(what); // a missing libbpf function fails here, before the first wait
  const pending: Record<string, string> = {};
  const sleep = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, interval);
      function done() {
        clearTimeout(timer);
        options.signal?.removeEventListener('abort', done);
        resolve();
      }
      options.signal?.addEventListener('abort', done, { once: true });
    });
  for (;;) {
    const last = options.signal?.aborted ?? false;
    for (const stream of streams) {
      const text = (pending[stream] ?? '') + readProgramStream(progFd, stream, what);
      const lines = text.split('\n');
      pending[stream] = lines.pop() ?? '';
      if (last && pending[stream]) lines.push(pending[stream]!);
      for (const message of lines) yield { stream, message };
    }
    if (last) return;
    await sleep();
  }
}

/** Linux 6.17 added BPF_PROG_STREAM_READ_BY_FD. */
function kernelHasStreams(): boolean {
  const [major = 0, minor = 0] = release().split('.').map(Number);
  return major > 6 || (major === 6 && minor >= 17);
}

/** A program fd from a program id or a bpffs path a program is pinned at (for `tsbpf trace --stream`). */
export function openProgram(target: string): number {
  const l = libbpf();
  const byId = /^\d+$/.test(target);
  const fd = (byId ? l.bpf_prog_get_fd_by_id(Number(target)) : l.bpf_obj_get(target)) as number;
  if (fd >= 0) {
    // A pinned map or link opens too; only a program has a stream.
    if (/^prog_id:/m.test(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'))) return fd;
    libc().close(fd);
    throw new UsageError(`${target} is pinned, but not a program`, {
      hint: 'give a program id (`bpftool prog show`) or the path a program is pinned at',
    });
  }
  if (-fd === ENOENT) {
    throw new TsbpfError(
      byId ? `no BPF program has id ${target}` : `${target}: no such pinned program (ENOENT)`,
      { hint: 'list loaded programs and their ids with `bpftool prog show`' },
    );
  }
  throw callError(`open program ${target}`, -fd, [], undefined, ['CAP_BPF']);
}
