// The function symbols of an executable or shared library, and how an address in a mapping of
// it becomes an address in its symbol table. Only the headers, symbol and string tables and notes
// are read from disk: a 100 MB binary with debug info (Node's own) costs a few MB of reads.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import {
  PT_LOAD,
  PT_NOTE,
  SHN_UNDEF,
  SHT_DYNSYM,
  SHT_NOTE,
  SHT_STRTAB,
  SHT_SYMTAB,
  STB_LOCAL,
  STT_FUNC,
  STT_GNU_IFUNC,
} from '../elf/constants.js';
import { buildId, type ElfFile, type ElfSegment, parseElf } from '../elf/index.js';
import { type SymbolColumns, SymbolTable } from './symbol-table.js';

export interface ElfSymbolFile {
  buildId: string | undefined;
  /** PT_LOAD segments: how file offsets map to the virtual addresses symbols use. */
  loads: ElfSegment[];
  symbols: SymbolTable;
}

const notElfHint =
  'the file is not a complete ELF64 executable or library; its addresses are shown without symbols';

/** The symbols of an ELF file held in memory (a file, or the vDSO read from a process). */
export function elfSymbolsFromBytes(bytes: Uint8Array, file: string): ElfSymbolFile {
  return fromElf(parseElf(bytes, file, notElfHint));
}

const FUNCTION_TYPES: ReadonlySet<number> = new Set([STT_FUNC, STT_GNU_IFUNC]);

function fromElf(elf: ElfFile): ElfSymbolFile {
  // The linker writes every global of .dynsym into .symtab too, so .dynsym is read only when
  // .symtab is gone (strip removes it and keeps .dynsym).
  let symbols = elf.symbolsOfTypes(FUNCTION_TYPES);
  if (!symbols.some((s) => s.sectionIndex !== SHN_UNDEF)) symbols = elf.symbolsOfTypes(FUNCTION_TYPES, true);
  const columns: SymbolColumns = { names: [], starts: [], sizes: [], ranks: [] };
  for (const s of symbols) {
    if (s.sectionIndex === SHN_UNDEF || s.value === 0) continue;
    columns.names.push(s.name);
    columns.starts.push(s.value);
    columns.sizes.push(s.size);
    // A global name over a local alias, and a sized entry over an unsized one.
    columns.ranks.push(s.bind === STB_LOCAL ? 0 : 1);
  }
  return {
    buildId: buildId(elf),
    loads: elf.segments.filter((p) => p.type === PT_LOAD),
    symbols: new SymbolTable(columns),
  };
}

/**
 * The ELF virtual address of a file offset: the PT_LOAD holding the offset gives
 * vaddr = offset - p_offset + p_vaddr (the same for PIE, non-PIE executables and libraries).
 */
export function fileOffsetToAddress(file: ElfSymbolFile, fileOffset: number): number | undefined {
  for (const p of file.loads) {
    if (fileOffset >= p.offset && fileOffset < p.offset + p.filesz) {
      return fileOffset - p.offset + p.vaddr;
    }
  }
  return undefined;
}

/** Reads the parts of an ELF file that symbols need: headers, symbol and string tables, notes. */
export function readElfSymbols(path: string, label = path): ElfSymbolFile {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // Unread parts stay zero; the ELF reader still checks every offset against the real size.
    const bytes = new Uint8Array(size);
    const load = (offset: number, length: number): void => {
      let at = Math.max(0, offset);
      const end = Math.min(size, offset + length);
      while (at < end) {
        const n = readSync(fd, bytes, at, end - at, at);
        if (n <= 0) break;
        at += n;
      }
    };
    load(0, 64);
    if (size >= 64 && bytes[5] !== undefined) {
      const view = new DataView(bytes.buffer);
      const le = bytes[5] === 1;
      const phoff = Number(view.getBigUint64(32, le));
      const shoff = Number(view.getBigUint64(40, le));
      // Header tables: e_phnum * 56 and e_shnum * 64 bytes (section 0 holds extended counts).
      load(phoff, view.getUint16(56, le) * 56);
      load(shoff, Math.max(1, view.getUint16(60, le)) * 64);
      const extended = view.getUint16(60, le) === 0 && shoff + 64 <= size;
      if (extended) load(shoff, Number(view.getBigUint64(shoff + 32, le)) * 64);
      if (view.getUint16(56, le) === 0xffff && shoff + 64 <= size)
        load(phoff, view.getUint32(shoff + 44, le) * 56);
    }
    const layout = parseElf(bytes, label, notElfHint);
    const wanted = new Set([SHT_SYMTAB, SHT_DYNSYM, SHT_STRTAB, SHT_NOTE]);
    for (const s of layout.sections) if (wanted.has(s.type)) load(s.offset, s.size);
    for (const p of layout.segments) if (p.type === PT_NOTE) load(p.offset, p.filesz);
    // Parsed again now that the section name table is filled in.
    return fromElf(parseElf(bytes, label, notElfHint));
  } finally {
    closeSync(fd);
  }
}
