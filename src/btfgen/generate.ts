// `bpftool gen min_core_btf INPUT OUTPUT OBJECT...` once per kernel: INPUT is that kernel's full
// BTF (raw or an ELF with .BTF), OUTPUT keeps only what the objects' CO-RE relocations need.

import { rename, rm, stat } from 'node:fs/promises';
import { basename, join, resolve } from 'node:path';
import { execa } from 'execa';
import { makeDirectory, sweepTemporaries, temporaryPath } from '../atomic.js';
import { ToolchainError, UsageError } from '../errors.js';
import { userErrorOf } from '../system-error.js';
import type { Tool } from '../toolchain/discover.js';
import { findBpftool } from '../toolchain/discover.js';

export interface MinimalBtfOptions {
  /** BPF objects (with BTF and CO-RE relocations). */
  objects: string[];
  /** Full BTF of each target kernel: /sys/kernel/btf/vmlinux, a btfhub file, a vmlinux ELF. */
  kernels: string[];
  /** Where the minimal BTF files go: one `<kernel file name>.btf` per kernel. */
  outDir: string;
  bpftool?: Tool;
}

export interface MinimalBtf {
  kernel: string;
  output: string;
  /** Bytes of the kernel's full BTF and of the minimal one. */
  inputSize: number;
  size: number;
}

/** One name per kernel input: its file name without .btf, made unique when two collide. */
function outputNames(kernels: string[]): string[] {
  const used = new Map<string, number>();
  return kernels.map((k) => {
    const base = basename(k).replace(/\.btf$/, '') || 'vmlinux';
    const n = used.get(base) ?? 0;
    used.set(base, n + 1);
    return n === 0 ? `${base}.btf` : `${base}-${n}.btf`;
  });
}

async function size(path: string, what: string): Promise<number> {
  try {
    return (await stat(path)).size;
  } catch (error) {
    const known = userErrorOf(error, path);
    throw new UsageError(`${what} ${known?.message ?? `${path} does not exist`}`, {
      cause: error,
      hint: known?.hint ?? 'check the path',
    });
  }
}

export async function generateMinimalBtf(options: MinimalBtfOptions): Promise<MinimalBtf[]> {
  if (options.objects.length === 0) throw new UsageError('btfgen needs at least one object (--object)');
  if (options.kernels.length === 0) throw new UsageError('btfgen needs at least one kernel BTF file (--btf)');
  for (const o of options.objects) await size(o, 'object');
  const bpftool = options.bpftool ?? (await findBpftool());
  makeDirectory(options.outDir);
  sweepTemporaries(options.outDir);
  const names = outputNames(options.kernels);
  const results: MinimalBtf[] = [];
  for (const [i, kernel] of options.kernels.entries()) {
    const inputSize = await size(kernel, 'kernel BTF');
    const output = resolve(join(options.outDir, names[i]!));
    // bpftool writes beside the output and the result is renamed into place only when it succeeded,
    // so a failed or interrupted run never leaves a truncated file under the output's name.
    const temp = temporaryPath(output);
    const run = await execa(bpftool.path, ['gen', 'min_core_btf', kernel, temp, ...options.objects], {
      reject: false,
      stdin: 'ignore',
    });
    if (run.exitCode !== 0) {
      await rm(temp, { force: true });
      throw new ToolchainError(
        `bpftool gen min_core_btf failed for ${kernel}: ${String(run.stderr).trim()}`,
        {
          hint: 'the objects need BTF (clang -g) and the kernel file must be BTF or an ELF with .BTF; bpftool >= 7.0 has min_core_btf',
        },
      );
    }
    await rename(temp, output);
    results.push({ kernel, output, inputSize, size: await size(output, 'minimal BTF') });
  }
  return results;
}
