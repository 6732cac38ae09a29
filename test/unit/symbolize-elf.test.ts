// ELF symbol tables for symbolization on binaries gcc builds here: a PIE and a non-PIE executable,
// a shared library, a stripped copy, one without a build-id. nm and readelf are the reference.
import { readFileSync, rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildId, PT_LOAD, parseElf } from '../../src/elf/index.js';
import { FormatError } from '../../src/errors.js';
import { elfSymbolsFromBytes, fileOffsetToAddress, readElfSymbols } from '../../src/symbolize/index.js';
import { buildFixtures, nm, readelfBuildId, type SymbolizeFixtures } from '../fixtures/symbolize/build.js';
import { tempDir } from '../helpers/paths.js';

let fx: SymbolizeFixtures;
beforeAll(() => {
  fx = buildFixtures(tempDir('tsbpf-symbolize-'));
});
afterAll(() => rmSync(fx.dir, { recursive: true, force: true }));

describe('readElfSymbols', () => {
  for (const kind of ['pie', 'nonPie', 'noBuildId'] as const) {
    it(`names every function nm lists in the ${kind} executable, sized and unsized`, () => {
      const file = readElfSymbols(fx[kind]);
      const reference = nm(fx[kind]);
      for (const name of ['sleeping_function', 'unsized_function', 'main']) {
        const { address, size } = reference.get(name)!;
        expect(file.symbols.lookup(address)).toEqual({ name, offset: 0 });
        const inside = size > 0 ? size - 1 : 1;
        expect(file.symbols.lookup(address + inside)).toEqual({ name, offset: inside });
      }
      expect(reference.get('unsized_function')!.size).toBe(0);
      expect(file.loads.length).toBeGreaterThan(0);
    });
  }

  it('reads the build-id note readelf prints, and none where the linker wrote none', () => {
    for (const file of [fx.pie, fx.nonPie, fx.library, fx.stripped]) {
      const id = readelfBuildId(file);
      expect(id).toMatch(/^[0-9a-f]{40}$/);
      expect(readElfSymbols(file).buildId).toBe(id);
    }
    expect(readelfBuildId(fx.noBuildId)).toBeUndefined();
    expect(readElfSymbols(fx.noBuildId).buildId).toBeUndefined();
  });

  it('finds the build-id through PT_NOTE when the section headers are gone', () => {
    const bytes = new Uint8Array(readFileSync(fx.pie));
    // Zero e_shoff and e_shnum, as sstrip-like tools leave a binary.
    new DataView(bytes.buffer).setBigUint64(40, 0n, true);
    new DataView(bytes.buffer).setUint16(60, 0, true);
    expect(buildId(parseElf(bytes, 'no-sections'))).toBe(readelfBuildId(fx.pie));
  });

  it('reads a shared library’s exported and local functions', () => {
    const file = readElfSymbols(fx.library);
    const { address } = nm(fx.library).get('fixture_library_function')!;
    expect(file.symbols.lookup(address + 1)).toEqual({ name: 'fixture_library_function', offset: 1 });
  });

  it('leaves a stripped executable without function symbols but with its segments', () => {
    const file = readElfSymbols(fx.stripped);
    const { address } = nm(fx.pie).get('sleeping_function')!;
    expect(nm(fx.stripped, true).has('sleeping_function')).toBe(false);
    expect(file.symbols.lookup(address)?.name).not.toBe('sleeping_function');
    expect(file.loads.length).toBeGreaterThan(0);
  });

  it('maps file offsets to virtual addresses through PT_LOAD (non-PIE text starts at 0x400000)', () => {
    const file = readElfSymbols(fx.nonPie);
    const elf = parseElf(new Uint8Array(readFileSync(fx.nonPie)), fx.nonPie);
    const text = elf.section('.text')!;
    // A section's file offset and address are the reference: sh_addr - sh_offset = p_vaddr - p_offset.
    expect(fileOffsetToAddress(file, text.offset + 4)).toBe(text.addr + 4);
    expect(text.addr).toBeGreaterThanOrEqual(0x400000);
    expect(elf.segments.filter((p) => p.type === PT_LOAD).length).toBe(file.loads.length);
    expect(fileOffsetToAddress(file, 1e12)).toBeUndefined();
  });

  it('reads Node’s own 100 MB binary through its symbol tables only', () => {
    const file = readElfSymbols(process.execPath);
    expect(file.symbols.size).toBeGreaterThan(1000);
    expect(file.buildId).toBe(readelfBuildId(process.execPath));
  });

  it('refuses what is not ELF with a FormatError naming the file', () => {
    expect(() => elfSymbolsFromBytes(new TextEncoder().encode('#!/bin/sh\necho hi\n'), 'script.sh')).toThrow(
      FormatError,
    );
    expect(() => readElfSymbols('/etc/hostname')).toThrow(/\/etc\/hostname: not a valid ELF64 object/);
  });
});
