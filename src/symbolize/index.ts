// Package symbolize turns the raw instruction addresses of a stack trace map into function
// names, the way bcc and blazesym do, without leaving Node: kernel addresses through
// /proc/kallsyms, user addresses through /proc/PID/maps and the ELF symbol tables (.symtab,
// .dynsym) of the mapped files, JIT code through perf maps. docs/profiling.md says how and where
// it stops.

export {
  type ElfSymbolFile,
  elfSymbolsFromBytes,
  fileOffsetToAddress,
  readElfSymbols,
} from './elf-symbols.js';
export { type Frame, formatFrame } from './frame.js';
export { type KernelSymbol, KernelSymbols } from './kallsyms.js';
export { parsePerfMap } from './perf-map.js';
export { findMapping, type Mapping, type MappingKind, parseProcMaps } from './proc-maps.js';
export {
  type StackCountMap,
  StackCounts,
  type StackIdSample,
  type StackKey,
  type StackLookup,
  type StackSample,
  type SymbolCoverage,
  type SymbolizedStack,
} from './stack-counts.js';
export { type SymbolEntry, type SymbolHit, SymbolTable } from './symbol-table.js';
export { Symbolizer, type SymbolizerOptions } from './symbolizer.js';
