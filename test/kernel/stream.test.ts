// BPF streams (Linux 6.17+, read with libbpf 1.6+'s bpf_prog_stream_read): a program writes to its
// stdout and stderr streams with the bpf_stream_vprintk kfunc, and tsbpf reads them back through
// program.readStream() and `tsbpf trace --stream`. With libbpf 1.1 (the default suite) reading is a
// NotSupportedError naming libbpf 1.6; under libbpf 1.7 (TSBPF_LIBBPF) the real streams are read
// wherever the kernel can store them: the kernel matrix's 6.18 guest runs this file (docs/kernels.md).
import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotSupportedError } from '../../src/errors.js';
import { libbpf } from '../../src/runtime/ffi/libbpf.js';
import { CollectionSpec } from '../../src/runtime/index.js';
import { compileFixture } from '../helpers/bpf.js';
import { cliPath, repoRoot } from '../helpers/paths.js';
import { fixture } from './helpers.js';

const libbpfStreams = libbpf().bpf_prog_stream_read !== undefined;

/** The kernel's name for the stream printk kfunc, or undefined when it has none (before 6.17). */
function streamKfunc(): string | undefined {
  const btf = readFileSync('/sys/kernel/btf/vmlinux');
  for (const name of ['bpf_stream_vprintk_impl', 'bpf_stream_vprintk']) {
    if (btf.includes(Buffer.from(`\0${name}\0`))) return name;
  }
  return undefined;
}

const kfunc = streamKfunc();
// The kernel matrix (test/kernels/run) boots its guests without deferred_init=lazy, so there ENOMEM
// is a failure; its streams guest (6.18, libbpf 1.7) also sets TSBPF_KERNELS_STREAMS=1, which makes
// a missing kfunc or libbpf a failure too: that guest is where the read-back is proven.
const inMatrix = process.env.TSBPF_KERNELS_GUEST === '1';
const mustRead = inMatrix && process.env.TSBPF_KERNELS_STREAMS === '1';

function streamObject(): Uint8Array {
  return compileFixture(join(repoRoot, 'test/fixtures/runtime/stream.bpf.c'), {
    cflags: [`-DSTREAM_KFUNC=${kfunc}`],
  });
}

const frame = new Uint8Array(64); // a zeroed Ethernet frame: the program reads only skb->len

/**
 * Runs the program once and skips when the kernel could not store the line: bpf_stream_vprintk
 * returns -ENOMEM when alloc_pages_nolock() fails, which it always does while struct page init is
 * deferred (kernel/bpf/stream.c, mm/page_alloc.c: the deferred_pages key), as on a VM booted with
 * deferred_init=lazy. Nothing reaches either stream then, the kernel's own messages neither.
 */
function runOrSkip(
  ctx: { skip: (note: string) => void },
  coll: {
    dataSection(name: string): Uint8Array | undefined;
    program(name: string): { testRun(i: { data: Uint8Array }): { retval: number } };
  },
): void {
  expect(coll.program('stream_write').testRun({ data: frame }).retval).toBe(0);
  const bss = coll.dataSection('.bss')!;
  const ret = new DataView(bss.buffer, bss.byteOffset, 12).getInt32(8, true);
  if (ret === -12 && !inMatrix) {
    const lazy = readFileSync('/proc/cmdline', 'utf8').includes('deferred_init=lazy')
      ? ' (deferred_init=lazy)'
      : '';
    ctx.skip(
      `this kernel cannot store BPF stream output: bpf_stream_vprintk returned ENOMEM, alloc_pages_nolock() fails while page init is deferred${lazy}`,
    );
  }
  expect(ret, 'bpf_stream_vprintk return value (-12: ENOMEM, the kernel could not store the line)').toBe(0);
}

function needStreams(ctx: { skip: (note: string) => void }): void {
  if (mustRead) {
    expect(kfunc, 'the streams guest has the bpf_stream_vprintk kfunc').toBeDefined();
    expect(libbpfStreams, 'the streams guest loads a libbpf with bpf_prog_stream_read').toBe(true);
  }
  if (!kfunc) ctx.skip('this kernel has no BPF streams (bpf_stream_vprintk kfunc, Linux 6.17+)');
  if (!libbpfStreams)
    ctx.skip('this libbpf has no bpf_prog_stream_read (libbpf 1.6+); run with TSBPF_LIBBPF');
}

describe('BPF streams', () => {
  it(
    libbpfStreams
      ? 'a program that wrote nothing has empty streams'
      : 'without libbpf 1.6, readStream is a NotSupportedError naming it',
    async () => {
      await using coll = await CollectionSpec.fromBytes(fixture('net')).load();
      const program = coll.program('tc_count');
      if (libbpfStreams) {
        expect(program.readStream('stdout')).toBe('');
        expect(program.readStream('stderr')).toBe('');
        return;
      }
      let error: (Error & { hint?: string }) | undefined;
      try {
        program.readStream('stdout');
      } catch (e) {
        error = e as typeof error;
      }
      expect(error).toBeInstanceOf(NotSupportedError);
      expect(error?.message).toMatch(
        /^program tc_count: reading BPF streams needs libbpf >= 1\.6 \(bpf_prog_stream_read\); this process loaded libbpf 1\.\d+$/,
      );
      expect(error?.hint).toContain('TSBPF_LIBBPF=');
    },
  );

  it('bpf_stream_vprintk output is read back, once, from stdout and stderr', async (ctx) => {
    needStreams(ctx);
    await using coll = await CollectionSpec.fromBytes(streamObject()).load();
    const program = coll.program('stream_write');
    runOrSkip(ctx, coll);
    for (let i = 0; i < 2; i++) expect(program.testRun({ data: frame }).retval).toBe(0);
    expect(program.readStream('stdout')).toBe('run 1 len 64\nrun 2 len 64\nrun 3 len 64\n');
    expect(program.readStream('stderr')).toBe('warning from run 1\nwarning from run 2\nwarning from run 3\n');
    // Reading drained them.
    expect(program.readStream('stdout')).toBe('');
    program.testRun({ data: frame });
    expect(program.readStream()).toBe('run 4 len 64\n');
  });

  it('tsbpf trace --stream reads a pinned program, by path and by id, until Ctrl-C', async (ctx) => {
    needStreams(ctx);
    await using coll = await CollectionSpec.fromBytes(streamObject()).load();
    const program = coll.program('stream_write');
    const bss = coll.dataSection('.bss')!;
    runOrSkip(ctx, coll);
    program.readStream('stdout');
    program.readStream('stderr');
    const pin = `/sys/fs/bpf/tsbpf-stream-test-${process.pid}`;
    program.pin(pin);
    const id = /^prog_id:\s*(\d+)$/m.exec(readFileSync(`/proc/self/fdinfo/${program.fd}`, 'utf8'))![1]!;
    try {
      for (const target of [pin, id]) {
        const before = Number(new DataView(bss.buffer, bss.byteOffset, 8).getBigUint64(0, true));
        const proc = spawn(process.execPath, [cliPath, 'trace', '--stream', target], {
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let out = '';
        let err = '';
        proc.stdout.on('data', (c: Buffer) => {
          out += c.toString();
        });
        proc.stderr.on('data', (c: Buffer) => {
          err += c.toString();
        });
        const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
        // Runs while the CLI polls: it prints what each run wrote, both streams.
        const deadline = Date.now() + 10_000;
        while (!out.includes('stderr: warning from run') && Date.now() < deadline) {
          program.testRun({ data: frame });
          await new Promise((r) => setTimeout(r, 100));
        }
        proc.kill('SIGINT');
        expect(await exited, err).toBe(0);
        expect(out).toMatch(new RegExp(`^run ${before + 1} len 64$`, 'm'));
        expect(out).toMatch(new RegExp(`^stderr: warning from run ${before + 1}$`, 'm'));
        program.readStream('stderr'); // what the CLI had not read yet
      }
    } finally {
      rmSync(pin, { force: true });
    }
  });
});
