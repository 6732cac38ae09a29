// `tsbpf trace [--pid N] [--comm NAME] [--match TEXT] [--json]`: streams bpf_printk() output from
// the kernel's trace_pipe (mounting tracefs when needed) until Ctrl-C.
// `tsbpf trace --stream <prog id | pinned path>`: one program's BPF streams (bpf_stream_printk(),
// kernel 6.17+, libbpf 1.6+) instead, stdout and stderr, until Ctrl-C.

import type { CommandModule } from 'yargs';
import { UsageError } from '../errors.js';

interface TraceArgs {
  pid?: string;
  comm?: string;
  match?: string;
  json?: boolean;
  stream?: string;
}

const command: CommandModule<object, TraceArgs> = {
  command: 'trace',
  describe: 'Stream bpf_printk() output from the kernel trace pipe (Ctrl-C to stop)',
  builder: (yargs) =>
    yargs
      .option('pid', { type: 'string', describe: 'Only lines from this process (thread) id' })
      .option('comm', {
        type: 'string',
        alias: 'process',
        describe: 'Only lines from tasks with this name (as bpf_get_current_comm() sees it)',
      })
      .option('match', { type: 'string', describe: 'Only messages containing this text' })
      .option('json', { type: 'boolean', describe: 'One JSON object per line' })
      .option('stream', {
        type: 'string',
        describe:
          "Read this program's BPF streams (bpf_stream_printk(); Linux 6.17+, libbpf 1.6+) instead of trace_pipe: a program id or a pinned path",
      })
      .example('$0 trace', 'everything bpf_printk() writes')
      .example('$0 trace --comm bash --match readline', "bash's lines that mention readline")
      .example('$0 trace --stream 42', "program 42's stdout and stderr streams"),
  handler: async (args) => {
    if (args.stream !== undefined) return traceStream(args);
    const pid = args.pid === undefined ? undefined : processId(args.pid);
    const { readTracePipe } = await import('../runtime/trace.js');
    const { dim } = await import('../output.js');
    const controller = new AbortController();
    const stop = () => controller.abort();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    const filter = {
      ...(pid !== undefined ? { pid } : {}),
      ...(args.comm !== undefined ? { comm: args.comm } : {}),
      ...(args.match !== undefined ? { match: args.match } : {}),
    };
    if (process.stderr.isTTY)
      process.stderr.write(dim('reading trace_pipe; Ctrl-C to stop\n', process.stderr));
    try {
      for await (const line of readTracePipe({ signal: controller.signal, filter })) {
        const text = args.json
          ? JSON.stringify({
              task: line.task,
              pid: line.pid,
              cpu: line.cpu,
              timestamp: line.timestamp,
              message: line.message,
            })
          : line.event
            ? `${line.task}-${line.pid} [${line.cpu}] ${line.timestamp.toFixed(6)}: ${line.message}`
            : line.raw;
        if (!process.stdout.write(`${text}\n`)) await new Promise((r) => process.stdout.once('drain', r));
      }
    } finally {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
    }
  },
};

/** `--stream TARGET`: a program's BPF streams, polled until Ctrl-C (streams cannot be waited on). */
async function traceStream(args: TraceArgs): Promise<void> {
  if (args.pid !== undefined || args.comm !== undefined) {
    throw new UsageError('--stream reads one program: --pid and --comm filter trace_pipe lines only', {
      hint: 'drop --pid/--comm (--match still filters the stream)',
    });
  }
  const target = args.stream?.trim() ?? '';
  if (!target) {
    throw new UsageError('--stream needs a program: its id or the bpffs path it is pinned at', {
      hint: 'list programs and their ids with `bpftool prog show`',
    });
  }
  const { followProgramStream, openProgram } = await import('../runtime/stream.js');
  const { dim } = await import('../output.js');
  const fd = openProgram(target);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  if (process.stderr.isTTY)
    process.stderr.write(
      dim(`reading the BPF streams of program ${target}; Ctrl-C to stop\n`, process.stderr),
    );
  try {
    for await (const line of followProgramStream(fd, `program ${target}`, { signal: controller.signal })) {
      if (args.match !== undefined && !line.message.includes(args.match)) continue;
      const text = args.json
        ? JSON.stringify(line)
        : line.stream === 'stderr'
          ? `stderr: ${line.message}`
          : line.message;
      if (!process.stdout.write(`${text}\n`)) await new Promise((r) => process.stdout.once('drain', r));
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    const { libc } = await import('../runtime/ffi/libc.js');
    libc().close(fd);
  }
}

/** `--pid` as a number; anything else would silently match no line. */
function processId(text: string): number {
  if (!/^\d+$/.test(text.trim())) {
    throw new UsageError(`--pid ${text}: expected a process id (a whole number)`, {
      hint: 'find it with pgrep NAME, or filter by name with --comm NAME',
    });
  }
  return Number(text);
}

export default command;
