// The clang command line: target and arch flags, reproducibility flags, and the include
// dirs a new user would otherwise have to discover (tsbpf's headers/, vmlinux.h's folder,
// libbpf's headers, the multiarch dir holding asm/types.h).

import { existsSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Target } from './targets.js';

/** tsbpf's own headers (the compat wrappers for libbpf's headers); src/ and dist/ sit beside it. */
export function tsbpfHeadersDir(): string {
  return fileURLToPath(new URL('../../headers', import.meta.url));
}

/** Debian/Ubuntu multiarch tuples by Node's process.arch. */
const multiarchTuples: Record<string, string[]> = {
  x64: ['x86_64-linux-gnu'],
  ia32: ['i386-linux-gnu'],
  arm64: ['aarch64-linux-gnu'],
  arm: ['arm-linux-gnueabihf', 'arm-linux-gnueabi'],
  s390x: ['s390x-linux-gnu'],
  ppc64: ['powerpc64le-linux-gnu', 'powerpc64-linux-gnu'],
  riscv64: ['riscv64-linux-gnu'],
  loong64: ['loongarch64-linux-gnu'],
  mips: ['mips-linux-gnu'],
  mipsel: ['mipsel-linux-gnu'],
};

/**
 * The folder holding asm/types.h on multiarch distributions (/usr/include/x86_64-linux-gnu).
 * clang's BPF target does not search it, so <linux/bpf.h> fails without it. Undefined when
 * asm/ sits directly in /usr/include (Fedora, Arch) or nothing is installed.
 */
export function multiarchIncludeDir(arch: string = process.arch, root = '/usr/include'): string | undefined {
  if (existsSync(join(root, 'asm', 'types.h'))) return undefined;
  for (const tuple of multiarchTuples[arch] ?? []) {
    const dir = join(root, tuple);
    if (existsSync(join(dir, 'asm', 'types.h'))) return dir;
  }
  return undefined;
}

/** Where <bpf/bpf_helpers.h> is found among the compiler's system dirs, if anywhere. */
export function libbpfIncludeDir(
  roots: readonly string[] = ['/usr/local/include', '/usr/include'],
): string | undefined {
  return roots.find((root) => existsSync(join(root, 'bpf', 'bpf_helpers.h')));
}

export interface IncludeDirOptions {
  /** The project's own header folders (searched first). */
  projectDirs?: readonly string[];
  /** The folder holding vmlinux.h. */
  vmlinuxDir?: string;
}

/**
 * -I dirs in search order: the project's, tsbpf's headers/ (whose bpf/*.h wrappers
 * #include_next libbpf's and add compat fallbacks), then vmlinux.h's folder. libbpf's
 * headers live in /usr/include, which clang searches already, after all -I dirs.
 */
export function defaultIncludeDirs(options: IncludeDirOptions = {}): string[] {
  const dirs = [...(options.projectDirs ?? []), tsbpfHeadersDir()];
  if (options.vmlinuxDir) dirs.push(options.vmlinuxDir);
  return [...new Set(dirs.map((d) => resolve(d)))];
}

/** What decides how clang reads C: target, arch macro, include dirs and the user's flags. */
export interface LanguageOptions {
  target: Target;
  /** -I dirs, already in search order (see defaultIncludeDirs). */
  includeDirs?: readonly string[];
  /** The user's flags, placed after tsbpf's so they win. */
  cflags?: readonly string[];
  /** Override for tests; default: multiarchIncludeDir(). */
  systemDirsAfter?: readonly string[];
}

export interface ClangArgsOptions extends LanguageOptions {
  source: string;
  output: string;
  /** Write a make-style depfile naming every header read. */
  depfile?: string;
  /** The name the depfile gives the output (default: output). */
  depTarget?: string;
  /** Folder clang runs in; its path is mapped away from the object (default: process.cwd()). */
  cwd?: string;
  color?: boolean;
  /** A header precompiled by precompiledHeaderArgs with the same LanguageOptions (see pch.ts). */
  precompiledHeader?: string;
}

/** Where the arguments go: the language flags, then `middle`, then include dirs and the user's flags. */
function languageArgs(options: LanguageOptions, middle: readonly string[]): string[] {
  const cflags = options.cflags ?? [];
  const args = ['-g', '-O2', '-target', options.target.clangTarget];
  // A user who names an arch in cflags means it; two arch macros would confuse bpf_tracing.h.
  if (options.target.arch && !cflags.some((f) => f.startsWith('-D__TARGET_ARCH_'))) {
    args.push(`-D__TARGET_ARCH_${options.target.arch}`);
  }
  args.push('-fno-ident', ...middle);
  for (const dir of options.includeDirs ?? []) args.push('-I', dir);
  const after =
    options.systemDirsAfter ?? [multiarchIncludeDir()].filter((d): d is string => d !== undefined);
  for (const dir of after) args.push('-idirafter', dir);
  args.push(...cflags);
  return args;
}

/** The full argument list for one clang invocation (without the clang path). */
export function clangArgs(options: ClangArgsOptions): string[] {
  const cwd = resolve(options.cwd ?? process.cwd());
  // Same input, same bytes: no compiler ident string, and no absolute paths in BTF line info
  // or __FILE__ (the source's folder becomes relative to cwd).
  const paths = ['-fdebug-compilation-dir=.', `-ffile-prefix-map=${cwd}/=`];
  const sourceDir = resolve(cwd, options.source, '..');
  if (relative(cwd, sourceDir).startsWith('..') || isAbsolute(relative(cwd, sourceDir))) {
    paths.push(`-ffile-prefix-map=${sourceDir}/=`);
  }
  const args = languageArgs(options, [
    ...paths,
    options.color ? '-fcolor-diagnostics' : '-fno-color-diagnostics',
  ]);
  if (options.precompiledHeader) args.push('-include-pch', options.precompiledHeader);
  if (options.depfile) args.push('-MD', '-MF', options.depfile, '-MT', options.depTarget ?? options.output);
  args.push('-c', options.source, '-o', options.output);
  return args;
}

/**
 * The arguments that precompile `header` into `output` for compiles with the same
 * LanguageOptions. Path maps and colours are left out: clang applies them when it compiles the
 * source, so one precompiled header serves every project. No timestamp: the header's bytes,
 * hashed into the file's name, are what decides whether it is still valid.
 */
export function precompiledHeaderArgs(
  options: LanguageOptions & { header: string; output: string },
): string[] {
  return [
    ...languageArgs(options, ['-fno-color-diagnostics']),
    '-Xclang',
    '-fno-pch-timestamp',
    '-x',
    'c-header',
    options.header,
    '-o',
    options.output,
  ];
}
