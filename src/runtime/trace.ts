// bpf_printk() output: the kernel writes it to tracefs's trace_pipe. We open the pipe non-blocking
// and wait for it through the shared poller, so reading never blocks the event loop and an abort
// (Ctrl-C) stops at once. Line format from kernel/trace/trace_output.c (the default "trace" format):
//   "  <task>-<pid>  [<cpu>] <flags> <secs>.<usecs>: bpf_trace_printk: <message>"
import { closeSync, constants, openSync, readSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { sharedPoller } from './poller.js';
import { ensureTracefs } from './tracefs.js';

export interface TraceLine {
  task: string;
  pid: number;
  cpu: number;
  flags: string;
  /** Seconds since boot. */
  timestamp: number;
  /** The trace event, e.g. bpf_trace_printk. */
  event: string;
  message: string;
  raw: string;
}

const lineRe = /^\s*(.*)-(\d+)\s+(?:\(\s*[-\d]+\)\s+)?\[(\d+)\]\s+(\S+)\s+(\d+\.\d+):\s+([\w:]+?):\s?(.*)$/;

/** Parses one trace_pipe line; undefined for lines in another format. */
export function parseTraceLine(raw: string): TraceLine | undefined {
  const m = lineRe.exec(raw);
  if (!m) return undefined;
  return {
    task: m[1]!.trim(),
    pid: Number(m[2]),
    cpu: Number(m[3]),
    flags: m[4]!,
    timestamp: Number(m[5]),
    event: m[6]!,
    message: m[7]!,
    raw,
  };
}

export interface TraceFilter {
  pid?: number;
  /** Task (thread) name, as bpf_get_current_comm() sees it. */
  comm?: string;
  /** Substring or regular expression the message must match. */
  match?: string | RegExp;
}

export function matchesFilter(line: TraceLine, filter: TraceFilter): boolean {
  if (filter.pid !== undefined && line.pid !== filter.pid) return false;
  if (filter.comm !== undefined && line.task !== filter.comm) return false;
  if (filter.match !== undefined) {
    if (
      typeof filter.match === 'string'
        ? !line.message.includes(filter.match)
        : !filter.match.test(line.message)
    )
      return false;
  }
  return true;
}

/** Opens trace_pipe, which takes one reader at a time (the kernel answers a second with EBUSY). */
function openTracePipe(path: string): number {
  try {
    return openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EBUSY') throw error;
    throw new TsbpfError(`${path} already has a reader: another tsbpf trace, cat or bpftool prog tracelog`, {
      cause: error,
      hint: `stop that reader first (fuser -v ${path} shows it); only one process can read the trace pipe`,
    });
  }
}

/** Streams trace_pipe lines (unparsable lines are yielded with event '' and the raw text). */
export async function* readTracePipe(
  options: { signal?: AbortSignal; filter?: TraceFilter } = {},
): AsyncGenerator<TraceLine> {
  const root = ensureTracefs();
  const fd = openTracePipe(`${root}/trace_pipe`);
  const poller = sharedPoller();
  const id = poller.add(fd);
  const onAbort = () => poller.remove(id);
  options.signal?.addEventListener('abort', onAbort, { once: true });
  const buffer = Buffer.alloc(65536);
  let pending = '';
  try {
    while (!options.signal?.aborted) {
      let n: number;
      try {
        n = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EAGAIN') throw error;
        await poller.wait(id);
        continue;
      }
      if (n === 0) {
        await poller.wait(id);
        continue;
      }
      pending += buffer.toString('utf8', 0, n);
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const raw of lines) {
        if (raw === '') continue;
        const line = parseTraceLine(raw) ?? {
          task: '',
          pid: 0,
          cpu: 0,
          flags: '',
          timestamp: 0,
          event: '',
          message: raw,
          raw,
        };
        if (!options.filter || matchesFilter(line, options.filter)) yield line;
      }
    }
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    poller.remove(id);
    closeSync(fd);
  }
}
