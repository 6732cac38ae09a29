import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { leadingInclude, resolveInclude } from '../../src/toolchain/pch.js';
import { tempDir } from '../helpers/paths.js';

describe('leadingInclude', () => {
  it('finds the first directive after comments, blank lines and a byte order mark', () => {
    const source =
      '\uFEFF// SPDX-License-Identifier: GPL-2.0\n/* a\n * block */\n\n#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n';
    expect(leadingInclude(source)).toEqual({ name: 'vmlinux.h', quoted: true });
    expect(leadingInclude('#include <vmlinux.h> // kernel types\nint x;')).toEqual({
      name: 'vmlinux.h',
      quoted: false,
    });
    expect(leadingInclude('  #  include\t"vmlinux.h"')).toEqual({ name: 'vmlinux.h', quoted: true });
  });

  it('names another header when that comes first', () => {
    expect(leadingInclude('#include <linux/bpf.h>\n#include "vmlinux.h"\n')?.name).toBe('linux/bpf.h');
  });

  it('gives nothing when a directive or code comes before any include', () => {
    // A macro before vmlinux.h changes what it declares (BPF_NO_PRESERVE_ACCESS_INDEX).
    expect(leadingInclude('#define BPF_NO_PRESERVE_ACCESS_INDEX\n#include "vmlinux.h"\n')).toBeUndefined();
    expect(leadingInclude('#pragma once\n#include "vmlinux.h"\n')).toBeUndefined();
    expect(leadingInclude('int x;\n#include "vmlinux.h"\n')).toBeUndefined();
    expect(leadingInclude('#include "vmlinux.h" int x;\n')).toBeUndefined();
    expect(leadingInclude('')).toBeUndefined();
    expect(leadingInclude('/* never closed\n#include "vmlinux.h"\n')).toBeUndefined();
  });

  it('returns quickly on large or hostile text', () => {
    expect(leadingInclude(`${'/*'.repeat(200_000)}`)).toBeUndefined();
    expect(leadingInclude(`${' '.repeat(1_000_000)}#include "vmlinux.h"`)).toBeUndefined();
  });
});

describe('resolveInclude', () => {
  const root = tempDir('tsbpf-pch-resolve-');
  const src = join(root, 'src');
  const first = join(root, 'inc1');
  const second = join(root, 'inc2');
  for (const dir of [src, first, second]) mkdirSync(dir, { recursive: true });
  writeFileSync(join(second, 'vmlinux.h'), '');

  it('searches the -I dirs in order', () => {
    const found = resolveInclude({ name: 'vmlinux.h', quoted: true }, join(src, 'p.c'), [first, second]);
    expect(found).toBe(join(second, 'vmlinux.h'));
  });

  it("searches the source's folder first for the quoted form only", () => {
    writeFileSync(join(src, 'vmlinux.h'), '');
    const source = join(src, 'p.c');
    expect(resolveInclude({ name: 'vmlinux.h', quoted: true }, source, [second])).toBe(
      join(src, 'vmlinux.h'),
    );
    expect(resolveInclude({ name: 'vmlinux.h', quoted: false }, source, [second])).toBe(
      join(second, 'vmlinux.h'),
    );
    expect(resolveInclude({ name: 'vmlinux.h', quoted: false }, source, [first])).toBeUndefined();
  });
});
