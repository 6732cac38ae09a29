// The C toolchain tsbpf drives: finding clang, llvm-strip and bpftool; the compile targets;
// clang's flags and include dirs; compiling (in parallel) and stripping objects; clang's
// depfiles; and vmlinux.h generation. Nothing here is used at a program's run time.

export {
  ClangError,
  type CompileOptions,
  type CompileResult,
  compile,
  compileAll,
  hintFor,
} from './compile.js';
export { type Depfile, parseDepfile } from './depfile.js';
export {
  compareVersions,
  type FindOptions,
  findBpftool,
  findClang,
  findOnPath,
  findStrip,
  findToolchain,
  hasBpfTarget,
  installHints,
  type Tool,
  type Toolchain,
} from './discover.js';
export {
  type ClangArgsOptions,
  clangArgs,
  defaultIncludeDirs,
  type IncludeDirOptions,
  libbpfIncludeDir,
  multiarchIncludeDir,
  tsbpfHeadersDir,
} from './flags.js';
export {
  type ClangTarget,
  defaultTargets,
  hostArch,
  hostTargetName,
  resolveTargets,
  type Target,
  type TargetName,
  targetNames,
} from './targets.js';
export {
  generateVmlinux,
  kernelBtfPath,
  readBtfFile,
  readVmlinuxHash,
  type VmlinuxOptions,
  type VmlinuxResult,
  vmlinuxStamp,
} from './vmlinux.js';
