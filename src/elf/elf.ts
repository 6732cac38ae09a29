// An ELF64 reader for eBPF objects of either byte order. Every offset and size read from the
// file is checked against the file's length before use, and every loop is bounded by a count
// derived from those checked sizes, so corrupt input ends in a FormatError, never a hang.
// Layouts: Elf64_Ehdr, Elf64_Phdr, Elf64_Shdr, Elf64_Sym, Elf64_Rel(a) in the System V gABI (elf.h).
import { FormatError } from '../errors.js';
import {
  ELFCLASS64,
  ELFDATA2LSB,
  ELFDATA2MSB,
  PN_XNUM,
  SHN_LORESERVE,
  SHN_UNDEF,
  SHN_XINDEX,
  SHT_DYNSYM,
  SHT_NOBITS,
  SHT_NULL,
  SHT_REL,
  SHT_RELA,
  SHT_STRTAB,
  SHT_SYMTAB,
} from './constants.js';

export interface ElfSection {
  /** Position in the section header table. */
  index: number;
  name: string;
  type: number;
  flags: number;
  addr: number;
  offset: number;
  size: number;
  link: number;
  info: number;
  addralign: number;
  entsize: number;
}

/** A program header: how a run of the file is mapped into memory (executables, shared libraries). */
export interface ElfSegment {
  /** PT_* */
  type: number;
  /** PF_* */
  flags: number;
  offset: number;
  vaddr: number;
  filesz: number;
  memsz: number;
}

export interface ElfSymbol {
  index: number;
  name: string;
  /** STT_* (low nibble of st_info). */
  type: number;
  /** STB_* (high nibble of st_info). */
  bind: number;
  other: number;
  /** Section index (st_shndx); SHN_UNDEF, SHN_ABS, SHN_COMMON or a real section. */
  sectionIndex: number;
  value: number;
  size: number;
}

export interface ElfRelocation {
  /** Byte offset in the section the relocation applies to. */
  offset: number;
  /** Index into symbols(). */
  symbol: number;
  type: number;
  addend: number;
}

export interface ElfFile {
  /** The name used in error messages (a path, or '<buffer>'). */
  file: string;
  bytes: Uint8Array;
  littleEndian: boolean;
  machine: number;
  type: number;
  sections: ElfSection[];
  /** Program headers; empty for relocatable objects (.o). */
  segments: ElfSegment[];
  section(name: string): ElfSection | undefined;
  /** A section's contents (a view, not a copy); empty for SHT_NOBITS. */
  data(section: ElfSection): Uint8Array;
  /** The static symbol table (.symtab); empty when stripped. */
  symbols(): ElfSymbol[];
  /**
   * The symbols of the static (or, with `dynamic`, the .dynsym kept by strip) table whose STT_* type is in `types`, not cached: others
   * are skipped before their names are read, which matters for binaries with 100 000 symbols.
   */
  symbolsOfTypes(types: ReadonlySet<number>, dynamic?: boolean): ElfSymbol[];
  /** Relocations (SHT_REL and SHT_RELA) that apply to the given section. */
  relocations(section: ElfSection): ElfRelocation[];
}

const EHDR_SIZE = 64;
const SHDR_SIZE = 64;
const SYM_SIZE = 24;
const PHDR_SIZE = 56;

const bpfObjectHint = 'Rebuild the object with clang -target bpf (tsbpf build does this).';

/** Parses an ELF64 object. `file` names it in error messages, which end with `hint`. */
export function parseElf(bytes: Uint8Array, file = '<buffer>', hint = bpfObjectHint): ElfFile {
  const fail = (what: string): never => {
    throw new FormatError(`${file}: not a valid ELF64 object: ${what}`, { hint });
  };
  if (bytes.length < EHDR_SIZE) fail(`${bytes.length} bytes is shorter than an ELF header`);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) fail('bad magic');
  if (bytes[4] !== ELFCLASS64) fail(`class ${bytes[4]} is not ELFCLASS64`);
  if (bytes[5] !== ELFDATA2LSB && bytes[5] !== ELFDATA2MSB) fail(`unknown byte order ${bytes[5]}`);
  const le = bytes[5] === ELFDATA2LSB;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u16 = (o: number) => view.getUint16(o, le);
  const u32 = (o: number) => view.getUint32(o, le);
  // Two u32 halves rather than getBigUint64: no bigint per field, which shows in 100 000-symbol tables.
  const u64 = (o: number, what: string): number => {
    const hi = view.getUint32(le ? o + 4 : o, le);
    const lo = view.getUint32(le ? o : o + 4, le);
    if (hi > 0x1fffff) fail(`${what} ${view.getBigUint64(o, le)} is too large`);
    return hi * 0x1_0000_0000 + lo;
  };

  const type = u16(16);
  const machine = u16(18);
  const phoff = u64(32, 'e_phoff');
  const phentsize = u16(54);
  let phnum = u16(56);
  const shoff = u64(40, 'e_shoff');
  const shentsize = u16(58);
  let shnum = u16(60);
  let shstrndx = u16(62);

  const sections: ElfSection[] = [];
  const nameOffsets: number[] = [];
  if (shoff !== 0) {
    if (shentsize !== SHDR_SIZE) fail(`e_shentsize ${shentsize} is not ${SHDR_SIZE}`);
    if (shoff > bytes.length - SHDR_SIZE)
      fail(`section header table at ${shoff} is past the end of the file`);
    // Extended numbering: the real counts live in section header 0 (gABI "Extended Section Indexes").
    if (shnum === 0) shnum = u64(shoff + 32, 'section count');
    if (shstrndx === SHN_XINDEX) shstrndx = u32(shoff + 40);
    if (shnum > (bytes.length - shoff) / SHDR_SIZE) {
      fail(`${shnum} section headers at ${shoff} do not fit in ${bytes.length} bytes`);
    }
    for (let i = 0; i < shnum; i++) {
      const o = shoff + i * SHDR_SIZE;
      const s: ElfSection = {
        index: i,
        name: '',
        type: u32(o + 4),
        flags: u64(o + 8, 'sh_flags'),
        addr: u64(o + 16, 'sh_addr'),
        offset: u64(o + 24, 'sh_offset'),
        size: u64(o + 32, 'sh_size'),
        link: u32(o + 40),
        info: u32(o + 44),
        addralign: u64(o + 48, 'sh_addralign'),
        entsize: u64(o + 56, 'sh_entsize'),
      };
      if (s.type !== SHT_NOBITS && s.type !== SHT_NULL && s.offset + s.size > bytes.length) {
        fail(`section ${i} (${s.offset}+${s.size}) runs past the end of the file (${bytes.length} bytes)`);
      }
      sections.push(s);
      // Names are filled in below, once the name table is known to be sane.
      nameOffsets.push(u32(o));
    }
    if (sections.length > 0) {
      const names = sections[shstrndx];
      if (!names || names.type !== SHT_STRTAB) fail(`e_shstrndx ${shstrndx} is not a string table`);
      const table = bytes.subarray(names!.offset, names!.offset + names!.size);
      for (const s of sections) {
        const off = nameOffsets[s.index] ?? 0;
        s.name = readString(table, off, () => fail(`section ${s.index} name offset ${off} is out of range`));
      }
    }
  }

  const segments: ElfSegment[] = [];
  if (phnum === PN_XNUM) phnum = sections[0]?.info ?? 0;
  if (phoff !== 0 && phnum > 0) {
    if (phentsize !== PHDR_SIZE) fail(`e_phentsize ${phentsize} is not ${PHDR_SIZE}`);
    if (phoff > bytes.length || phnum > (bytes.length - phoff) / PHDR_SIZE) {
      fail(`${phnum} program headers at ${phoff} do not fit in ${bytes.length} bytes`);
    }
    for (let i = 0; i < phnum; i++) {
      const o = phoff + i * PHDR_SIZE;
      segments.push({
        type: u32(o),
        flags: u32(o + 4),
        offset: u64(o + 8, 'p_offset'),
        vaddr: u64(o + 16, 'p_vaddr'),
        filesz: u64(o + 32, 'p_filesz'),
        memsz: u64(o + 40, 'p_memsz'),
      });
    }
  }

  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);

  const data = (s: ElfSection): Uint8Array =>
    s.type === SHT_NOBITS || s.type === SHT_NULL
      ? new Uint8Array(0)
      : bytes.subarray(s.offset, s.offset + s.size);

  const readSymbols = (tableType: number, types?: ReadonlySet<number>): ElfSymbol[] => {
    const out: ElfSymbol[] = [];
    const symtab = sections.find((s) => s.type === tableType);
    if (symtab) {
      if (symtab.entsize !== SYM_SIZE) fail(`symbol table entry size ${symtab.entsize} is not ${SYM_SIZE}`);
      const strtab = sections[symtab.link];
      if (!strtab || strtab.type !== SHT_STRTAB)
        fail(`symbol table links to ${symtab.link}, not a string table`);
      const names = stringTable(data(strtab!));
      const count = Math.floor(symtab.size / SYM_SIZE);
      for (let i = 0; i < count; i++) {
        const o = symtab.offset + i * SYM_SIZE;
        const nameOff = u32(o);
        const info = bytes[o + 4]!;
        if (types && !types.has(info & 0xf)) continue;
        const shndx = u16(o + 6);
        if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.length) {
          fail(`symbol ${i} refers to section ${shndx} of ${sections.length}`);
        }
        out.push({
          index: i,
          name: names(nameOff, () => fail(`symbol ${i} name offset ${nameOff} is out of range`)),
          type: info & 0xf,
          bind: info >> 4,
          other: bytes[o + 5]!,
          sectionIndex: shndx,
          value: u64(o + 8, 'st_value'),
          size: u64(o + 16, 'st_size'),
        });
      }
    }
    return out;
  };
  let symbolCache: ElfSymbol[] | undefined;
  const symbols = (): ElfSymbol[] => {
    symbolCache ??= readSymbols(SHT_SYMTAB);
    return symbolCache;
  };

  const symbolsOfTypes = (types: ReadonlySet<number>, dynamic = false): ElfSymbol[] =>
    readSymbols(dynamic ? SHT_DYNSYM : SHT_SYMTAB, types);

  const relocations = (target: ElfSection): ElfRelocation[] => {
    const out: ElfRelocation[] = [];
    const symbolCount = symbols().length;
    for (const s of sections) {
      if ((s.type !== SHT_REL && s.type !== SHT_RELA) || s.info !== target.index) continue;
      const rela = s.type === SHT_RELA;
      const entsize = rela ? 24 : 16;
      if (s.entsize !== entsize)
        fail(`relocation section ${s.name} entry size ${s.entsize} is not ${entsize}`);
      const count = Math.floor(s.size / entsize);
      for (let i = 0; i < count; i++) {
        const o = s.offset + i * entsize;
        // r_info: symbol index in the high 32 bits, type in the low 32 bits.
        const hi = le ? u32(o + 12) : u32(o + 8);
        const lo = le ? u32(o + 8) : u32(o + 12);
        if (hi >= symbolCount) fail(`relocation ${i} in ${s.name} refers to symbol ${hi} of ${symbolCount}`);
        out.push({
          offset: u64(o, 'r_offset'),
          symbol: hi,
          type: lo,
          addend: rela ? Number(view.getBigInt64(o + 16, le)) : 0,
        });
      }
    }
    return out;
  };

  return {
    file,
    bytes,
    littleEndian: le,
    machine,
    type,
    sections,
    segments,
    section: (name) => byName.get(name),
    data,
    symbols,
    symbolsOfTypes,
    relocations,
  };
}

const latin1 = new TextDecoder('latin1');

/**
 * A reader of one string table. A table of ASCII only (nearly all) is decoded once and sliced,
 * which costs a fraction of decoding each name on its own; others go name by name, as UTF-8.
 */
function stringTable(table: Uint8Array): (offset: number, outOfRange: () => never) => string {
  for (let i = 0; i < table.length; i++) {
    if (table[i]! >= 0x80) return (offset, outOfRange) => readString(table, offset, outOfRange);
  }
  // Buffer's latin1 copies bytes into a one-byte string; TextDecoder('latin1') maps each as windows-1252.
  const text = Buffer.from(table.buffer, table.byteOffset, table.byteLength).toString('latin1');
  return (offset, outOfRange) => {
    if (offset >= text.length) {
      if (offset === 0) return '';
      outOfRange();
    }
    const end = text.indexOf('\0', offset);
    return end < 0 ? text.slice(offset) : text.slice(offset, end);
  };
}
const utf8 = new TextDecoder('utf-8');

/** Reads the NUL-terminated string at `offset` of a string table; `outOfRange` must throw. */
export function readString(table: Uint8Array, offset: number, outOfRange: () => never): string {
  if (offset >= table.length) {
    if (offset === 0) return '';
    outOfRange();
  }
  let end = table.indexOf(0, offset);
  if (end < 0) end = table.length;
  const slice = table.subarray(offset, end);
  for (let i = 0; i < slice.length; i++) if (slice[i]! >= 0x80) return utf8.decode(slice);
  return latin1.decode(slice);
}
