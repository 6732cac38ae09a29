// Package btf reads BPF Type Format: the type graph of an object's .BTF section or the kernel's
// vmlinux, the line info in .BTF.ext, and what an object declares (maps, programs, global
// variables). Code generation and verifier error messages are built on it.
export { Btf, type ParseBtfOptions, parseBtf } from './btf.js';
export { type FuncInfo, type LineInfo, type LineInfoTable, parseBtfExt } from './ext.js';
export { KERNEL_BTF_PATH, readKernelBtf } from './kernel.js';
export { MAP_TYPE_NAMES, type MapInfo, readMaps } from './maps.js';
export {
  type DataSectionInfo,
  type ObjectInfo,
  type ProgramInfo,
  readObject,
  type VariableInfo,
} from './object.js';
export { StringTable } from './strings.js';
export * from './types.js';
