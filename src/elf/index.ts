// Package elf reads ELF64 objects (both byte orders) as clang emits them for eBPF: the
// header, sections and their names, symbols and relocations. It exists so tsbpf can find the
// BTF, programs and maps in an object without libbpf, at build time and on any host; and, for the
// symbolizer, the program headers, dynamic symbols and build-id of executables and libraries.
export * from './constants.js';
export {
  type ElfFile,
  type ElfRelocation,
  type ElfSection,
  type ElfSegment,
  type ElfSymbol,
  parseElf,
  readString,
} from './elf.js';
export { buildId, type ElfNote, parseNotes } from './notes.js';
