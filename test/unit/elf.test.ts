// The ELF reader on real clang output for both byte orders, and its errors on broken input.
import { describe, expect, it } from 'vitest';
import { EM_BPF, ET_REL, parseElf, SHF_EXECINSTR, STT_FUNC, STT_OBJECT } from '../../src/elf/index.js';
import { FormatError } from '../../src/errors.js';
import { layoutsObject } from '../fixtures/btf/helpers.js';

describe('parseElf', () => {
  for (const target of ['bpfel', 'bpfeb'] as const) {
    it(`reads a ${target} object: header, sections, symbols, relocations`, () => {
      const elf = parseElf(layoutsObject(target), `layouts.${target}.o`);
      expect(elf.littleEndian).toBe(target === 'bpfel');
      expect(elf.machine).toBe(EM_BPF);
      expect(elf.type).toBe(ET_REL);
      const names = elf.sections.map((s) => s.name);
      for (const n of [
        '.text',
        'tracepoint/syscalls/sys_enter_execve',
        'xdp',
        '.data',
        '.bss',
        '.rodata',
        '.maps',
        '.BTF',
        '.BTF.ext',
        'license',
        '.data.custom',
      ]) {
        expect(names).toContain(n);
      }
      const xdp = elf.section('xdp')!;
      expect(xdp.flags & SHF_EXECINSTR).toBe(SHF_EXECINSTR);
      expect(elf.data(xdp).length).toBe(xdp.size);
      expect(new TextDecoder().decode(elf.data(elf.section('license')!))).toBe('GPL\0');

      const symbols = elf.symbols();
      const handle = symbols.find((s) => s.name === 'handle_execve')!;
      expect(handle.type).toBe(STT_FUNC);
      expect(elf.sections[handle.sectionIndex]!.name).toBe('tracepoint/syscalls/sys_enter_execve');
      expect(handle.size % 8).toBe(0);
      const tricky = symbols.find((s) => s.name === 'g_tricky')!;
      expect(tricky.type).toBe(STT_OBJECT);
      expect(tricky.size).toBe(184);

      // The program refers to `counter` (in .bss) and calls `helper` (in .text): both relocated.
      const relocs = elf.relocations(elf.section('tracepoint/syscalls/sys_enter_execve')!);
      const targets = relocs.map((r) => symbols[r.symbol]!);
      expect(targets.some((s) => s.name === 'counter' || elf.sections[s.sectionIndex]?.name === '.bss')).toBe(
        true,
      );
      for (const r of relocs) expect(r.offset % 8).toBe(0);
    });
  }

  it('rejects broken input with a FormatError that names the file', () => {
    const good = layoutsObject('bpfel');
    const cases: [Uint8Array, RegExp][] = [
      [new Uint8Array(10), /shorter than an ELF header/],
      [Uint8Array.from({ length: 64 }, () => 1), /bad magic/],
      [patch(good, 4, [1]), /ELFCLASS64/],
      [patch(good, 5, [3]), /byte order/],
      [good.subarray(0, good.length - 100), /past the end|do not fit/],
    ];
    for (const [bytes, message] of cases) {
      expect(() => parseElf(bytes, 'broken.o')).toThrow(FormatError);
      expect(() => parseElf(bytes, 'broken.o')).toThrow(message);
      expect(() => parseElf(bytes, 'broken.o')).toThrow(/^broken\.o: /);
    }
  });
});

function patch(bytes: Uint8Array, offset: number, values: number[]): Uint8Array {
  const copy = bytes.slice();
  copy.set(values, offset);
  return copy;
}
