// Tool discovery against fake PATH folders holding tiny shell scripts that answer
// --version and -print-targets the way clang and llvm-strip do.
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ToolchainError } from '../../src/errors.js';
import {
  compareVersions,
  findBpftool,
  findClang,
  findStrip,
  findToolchain,
  parseBpftoolVersion,
  parseClangVersion,
} from '../../src/toolchain/discover.js';
import { tempDir } from '../helpers/paths.js';

function script(dir: string, name: string, body: string): string {
  mkdirSync(dir, { recursive: true });
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

function fakeClang(dir: string, name: string, version: string, bpf = true): string {
  const targets = bpf
    ? "echo '    bpfeb      - BPF (big endian)'; echo '    bpfel      - BPF (little endian)'"
    : "echo '    x86-64     - 64-bit X86: EM_X86_64'";
  return script(
    dir,
    name,
    `case "$1" in\n  --version) echo "Debian clang version ${version}"; echo "Target: x86_64-pc-linux-gnu";;\n  -print-targets) echo '  Registered Targets:'; ${targets};;\n  *) exit 1;;\nesac`,
  );
}

function fakeStrip(dir: string, name: string, version: string): string {
  return script(
    dir,
    name,
    `echo "llvm-strip, compatible with GNU strip"; echo "LLVM (http://llvm.org/):"; echo "  LLVM version ${version}"`,
  );
}

const envWith = (...dirs: string[]) => ({ PATH: dirs.join(':') });

describe('findClang', () => {
  it('prefers the newest clang on PATH', async () => {
    const dir = tempDir();
    fakeClang(dir, 'clang-14', '14.0.6');
    fakeClang(dir, 'clang-16', '16.0.6');
    fakeClang(dir, 'clang', '14.0.6');
    const clang = await findClang({ env: envWith(dir) });
    expect(clang).toEqual({ path: join(dir, 'clang-16'), version: '16.0.6' });
  });

  it('compares versions numerically, not as text', async () => {
    const dir = tempDir();
    fakeClang(dir, 'clang-9', '9.0.1');
    fakeClang(dir, 'clang-10', '10.0.0');
    expect((await findClang({ env: envWith(dir) })).version).toBe('10.0.0');
    expect(compareVersions('16.0.6', '14.0.6')).toBeGreaterThan(0);
    expect(compareVersions('9.0', '10.0')).toBeLessThan(0);
  });

  it('skips a newer clang that lacks the BPF target', async () => {
    const dir = tempDir();
    fakeClang(dir, 'clang-14', '14.0.6');
    fakeClang(dir, 'clang-18', '18.1.8', false);
    expect((await findClang({ env: envWith(dir) })).path).toBe(join(dir, 'clang-14'));
  });

  it('rejects a clang without the BPF target, saying so', async () => {
    const dir = tempDir();
    fakeClang(dir, 'clang', '15.0.7', false);
    await expect(findClang({ env: envWith(dir) })).rejects.toThrow(/no clang with the BPF target.*15\.0\.7/);
    await expect(findClang({ env: envWith(dir), clang: 'clang' })).rejects.toThrow(
      /built without the BPF target/,
    );
  });

  it('uses TSBPF_CLANG or the option over the newest', async () => {
    const dir = tempDir();
    fakeClang(dir, 'clang-14', '14.0.6');
    const newest = fakeClang(dir, 'clang-16', '16.0.6');
    const pinned = fakeClang(tempDir(), 'my-clang', '15.0.0');
    expect((await findClang({ env: { ...envWith(dir), TSBPF_CLANG: pinned } })).path).toBe(pinned);
    expect(
      (await findClang({ env: { ...envWith(dir), TSBPF_CLANG: pinned }, clang: 'clang-14' })).version,
    ).toBe('14.0.6');
    expect((await findClang({ env: envWith(dir) })).path).toBe(newest);
  });

  it('fails with the Debian package when there is no clang at all', async () => {
    const error = await findClang({ env: envWith(tempDir()) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).message).toBe('clang was not found on PATH');
    expect((error as ToolchainError).hint).toContain('apt-get install clang llvm');
    await expect(findClang({ env: envWith(tempDir()), clang: 'clang-99' })).rejects.toThrow(
      /'clang-99' was not found/,
    );
  });

  it('parses vendor version strings', () => {
    expect(parseClangVersion('Ubuntu clang version 14.0.0-1ubuntu1.1\nTarget: x86_64')).toBe('14.0.0');
    expect(parseClangVersion('Homebrew clang version 19.1.7')).toBe('19.1.7');
    expect(parseBpftoolVersion('bpftool v7.1.0\nusing libbpf v1.1')).toBe('7.1.0');
  });
});

describe('findStrip', () => {
  it('pairs clang-16 with llvm-strip-16 even when plain llvm-strip is another release', async () => {
    const dir = tempDir();
    fakeClang(dir, 'clang-14', '14.0.6');
    fakeClang(dir, 'clang-16', '16.0.6');
    fakeStrip(dir, 'llvm-strip', '14.0.6');
    fakeStrip(dir, 'llvm-strip-14', '14.0.6');
    fakeStrip(dir, 'llvm-strip-16', '16.0.6');
    const toolchain = await findToolchain({ env: envWith(dir) });
    expect(toolchain.clang.version).toBe('16.0.6');
    expect(toolchain.strip).toEqual({ path: join(dir, 'llvm-strip-16'), version: '16.0.6' });
  });

  it("finds the llvm-strip installed beside clang's real binary", async () => {
    const llvmBin = join(tempDir(), 'llvm-17', 'bin');
    const real = fakeClang(llvmBin, 'clang', '17.0.6');
    fakeStrip(llvmBin, 'llvm-strip', '17.0.6');
    const bin = tempDir();
    symlinkSync(real, join(bin, 'clang-17'));
    fakeStrip(bin, 'llvm-strip-15', '15.0.7');
    const clang = await findClang({ env: envWith(bin) });
    expect((await findStrip(clang, { env: envWith(bin) })).path).toBe(join(llvmBin, 'llvm-strip'));
  });

  it('falls back to the newest llvm-strip-NN, and fails naming llvm when none exists', async () => {
    const dir = tempDir();
    fakeStrip(dir, 'llvm-strip-13', '13.0.1');
    fakeStrip(dir, 'llvm-strip-15', '15.0.7');
    expect(
      (await findStrip({ path: '/nowhere/clang-16', version: '16.0.0' }, { env: envWith(dir) })).version,
    ).toBe('15.0.7');
    const error = await findStrip(undefined, { env: envWith(tempDir()) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).hint).toContain('apt-get install llvm');
  });
});

describe('findBpftool', () => {
  it('finds a working bpftool and reports its version', async () => {
    const dir = tempDir();
    const path = script(dir, 'bpftool', 'echo "bpftool v7.4.0"; echo "using libbpf v1.4"');
    expect(await findBpftool({ env: { PATH: dir } })).toEqual({ path, version: '7.4.0' });
  });

  it('rejects a bpftool that does not run, naming the package', async () => {
    const dir = tempDir();
    script(dir, 'bpftool', 'echo "WARNING: bpftool not found for kernel 6.8.0" >&2; exit 2');
    const error = await findBpftool({ env: { PATH: dir, TSBPF_BPFTOOL: join(dir, 'bpftool') } }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ToolchainError);
    expect((error as ToolchainError).message).toContain('bpftool not found for kernel');
    expect((error as ToolchainError).hint).toContain('apt-get install bpftool');
  });
});
