import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NotSupportedError, UsageError } from '../../src/errors.js';
import { readBtfFile, readVmlinuxHash, vmlinuxStamp } from '../../src/toolchain/vmlinux.js';
import { tempDir } from '../helpers/paths.js';

describe('vmlinux.h stamp', () => {
  it('round-trips the BTF hash through the first line', async () => {
    const dir = tempDir();
    const hash = 'ab'.repeat(32);
    const header = join(dir, 'vmlinux.h');
    writeFileSync(header, `${vmlinuxStamp('/sys/kernel/btf/vmlinux', hash)}#ifndef __VMLINUX_H__\n`);
    expect(await readVmlinuxHash(header)).toBe(hash);
  });

  it('finds no hash in a header tsbpf did not write, or no header', async () => {
    const dir = tempDir();
    const handWritten = join(dir, 'vmlinux.h');
    writeFileSync(handWritten, `#ifndef __VMLINUX_H__\n/* BTF sha256 ${'cd'.repeat(32)} */\n`);
    expect(await readVmlinuxHash(handWritten)).toBeUndefined();
    expect(await readVmlinuxHash(join(dir, 'missing.h'))).toBeUndefined();
  });
});

describe('readBtfFile', () => {
  it('blames the kernel when its default BTF is missing, and the user when their file is', async () => {
    const missing = join(tempDir(), 'vmlinux');
    const kernel = await readBtfFile(missing, false).catch((e: unknown) => e);
    expect(kernel).toBeInstanceOf(NotSupportedError);
    expect((kernel as NotSupportedError).message).toBe(
      `this kernel exposes no BTF (${missing} does not exist)`,
    );
    expect((kernel as NotSupportedError).hint).toContain('CONFIG_DEBUG_INFO_BTF=y');
    expect((kernel as NotSupportedError).hint).toContain('--btf FILE');
    const named = await readBtfFile(missing, true).catch((e: unknown) => e);
    expect(named).toBeInstanceOf(UsageError);
    expect((named as UsageError).message).toBe(`BTF file ${missing} does not exist`);
  });
});
