// Runs clang for one source and target, then llvm-strip -g (DWARF goes, .BTF and .BTF.ext
// stay), and moves the object into place only when both succeeded, so a failed or
// interrupted build never leaves a half-written object for the next build to trust.

import { readFile, rename, rm } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { execa } from 'execa';
import { makeDirectory, temporaryPath } from '../atomic.js';
import { CompileError, ToolchainError } from '../errors.js';
import { debug } from '../output.js';
import { parseDepfile } from './depfile.js';
import type { Toolchain } from './discover.js';
import { installHints } from './discover.js';
import { clangArgs, defaultIncludeDirs } from './flags.js';
import { describeHeaderClash, findHeaderClash, headerClashHint } from './header-clash.js';
import { forgetPrecompiledHeader, precompiledHeaderFor } from './pch.js';
import type { Target } from './targets.js';

export interface CompileOptions {
  toolchain: Toolchain;
  source: string;
  output: string;
  target: Target;
  /** The user's flags, after tsbpf's. */
  cflags?: readonly string[];
  /** -I dirs; default defaultIncludeDirs() (tsbpf's headers). Pass defaultIncludeDirs({...}) to add yours. */
  includeDirs?: readonly string[];
  /** Strip DWARF (default true). */
  strip?: boolean;
  /** Write clang's dependency list here (make syntax, see parseDepfile). */
  depfile?: string;
  /** Folder clang runs in and whose path is kept out of the object (default: process.cwd()). */
  cwd?: string;
  /** Coloured diagnostics (default: when stderr is a terminal and NO_COLOR is unset). */
  color?: boolean;
  /**
   * Compile a source that starts by including vmlinux.h against a cached precompiled copy
   * (same object, a fifth of the time; see pch.ts). Default true; TSBPF_NO_PCH=1 turns it off.
   */
  precompiledHeader?: boolean;
}

export interface CompileResult {
  output: string;
  target: Target;
  /** clang's warnings, as clang printed them ('' when none). */
  diagnostics: string;
  /** Files read (source first, then headers) when a depfile was asked for; relative paths are relative to cwd. */
  dependencies?: string[];
}

/** clang rejected a source: `diagnostics` is clang's output as it printed it (file:line:col: error: ...). */
export class ClangError extends CompileError {
  override name = 'CompileError';
  constructor(
    readonly file: string,
    readonly target: string,
    readonly diagnostics: string,
    hint: string | undefined,
    /** Said instead of the diagnostics when they have one known cause (see header-clash.ts). */
    summary?: string,
  ) {
    super(
      summary ? `${file}: ${summary}` : `${file}: clang failed (target ${target}):\n${diagnostics.trimEnd()}`,
      hint ? { hint } : {},
    );
  }
}

/** A hint for the errors new users meet most: headers tsbpf cannot supply by itself. */
export function hintFor(diagnostics: string): string | undefined {
  if (/'vmlinux\.h' file not found/.test(diagnostics)) {
    return "generate it with 'tsbpf vmlinux --out <dir>/vmlinux.h' and add that dir to the include dirs";
  }
  if (/'bpf\/[\w.]+' file not found/.test(diagnostics)) return installHints.libbpfHeaders;
  if (/'(asm|linux)\/[\w./]+' file not found/.test(diagnostics)) {
    return 'install the Linux UAPI headers: apt-get install linux-libc-dev';
  }
  return undefined;
}

const colorByDefault = (): boolean => Boolean(process.stderr.isTTY) && !process.env.NO_COLOR;

/** Compiles one source for one target into `output` (written atomically). */
export async function compile(options: CompileOptions): Promise<CompileResult> {
  const cwd = resolve(options.cwd ?? process.cwd());
  const output = resolve(cwd, options.output);
  makeDirectory(dirname(output));
  const temp = temporaryPath(output);
  const depfile = options.depfile === undefined ? undefined : resolve(cwd, options.depfile);
  if (depfile) makeDirectory(dirname(depfile));
  const depTemp = depfile ? temporaryPath(depfile) : undefined;
  const language = {
    target: options.target,
    includeDirs: options.includeDirs ?? defaultIncludeDirs(),
    cflags: options.cflags ?? [],
  };
  const clang = async (precompiledHeader: string | undefined) => {
    const args = clangArgs({
      ...language,
      source: options.source,
      output: temp,
      depTarget: output,
      cwd,
      color: options.color ?? colorByDefault(),
      ...(depTemp ? { depfile: depTemp } : {}),
      ...(precompiledHeader ? { precompiledHeader } : {}),
    });
    debug(`${options.toolchain.clang.path} ${args.join(' ')}`);
    return execa(options.toolchain.clang.path, args, { cwd, reject: false, stdin: 'ignore' });
  };
  try {
    const pch =
      options.precompiledHeader === false
        ? undefined
        : await precompiledHeaderFor({
            ...language,
            toolchain: options.toolchain,
            source: options.source,
            cwd,
          });
    let result = await clang(pch);
    // A cached header clang cannot use (removed or damaged meanwhile) costs one plain compile.
    if (pch && result.failed && /precompiled header|PCH file/i.test(String(result.stderr))) {
      forgetPrecompiledHeader(pch);
      result = await clang(undefined);
    }
    if (result.failed) {
      if (result.exitCode === undefined) {
        throw new ToolchainError(`could not run ${options.toolchain.clang.path}: ${result.shortMessage}`, {
          cause: result.cause,
          hint: installHints.clang,
        });
      }
      const diagnostics = String(result.stderr || result.stdout);
      const clash = findHeaderClash(diagnostics, options.source);
      if (clash) {
        throw new ClangError(
          options.source,
          options.target.name,
          diagnostics,
          headerClashHint,
          describeHeaderClash(clash),
        );
      }
      throw new ClangError(options.source, options.target.name, diagnostics, hintFor(diagnostics));
    }
    if (options.strip ?? true) {
      const stripped = await execa(options.toolchain.strip.path, ['-g', temp], {
        reject: false,
        stdin: 'ignore',
      });
      if (stripped.failed) {
        throw new ToolchainError(
          `llvm-strip failed on the object of ${options.source}: ${stripped.stderr || stripped.shortMessage}`,
          {
            hint: installHints.strip,
          },
        );
      }
    }
    let dependencies: string[] | undefined;
    if (depTemp && depfile) {
      dependencies = parseDepfile(await readFile(depTemp, 'utf8')).dependencies;
      await rename(depTemp, depfile);
    }
    await rename(temp, output);
    const compiled: CompileResult = { output, target: options.target, diagnostics: String(result.stderr) };
    if (dependencies) compiled.dependencies = dependencies;
    return compiled;
  } finally {
    await rm(temp, { force: true });
    if (depTemp) await rm(depTemp, { force: true });
  }
}

/**
 * Compiles many (source, target) jobs, at most `concurrency` at once (default: the CPU
 * count). After a failure no new job starts; the running ones finish, and the error of the
 * first failed job (in the order given) is thrown, so the report does not depend on timing.
 */
export async function compileAll(
  jobs: readonly CompileOptions[],
  options: { concurrency?: number } = {},
): Promise<CompileResult[]> {
  const concurrency = Math.max(1, options.concurrency ?? availableParallelism());
  const results: CompileResult[] = new Array(jobs.length);
  const errors: { index: number; error: unknown }[] = [];
  let next = 0;
  const worker = async () => {
    while (next < jobs.length && errors.length === 0) {
      const index = next++;
      try {
        results[index] = await compile(jobs[index] as CompileOptions);
      } catch (error) {
        errors.push({ index, error });
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, jobs.length) }, worker));
  if (errors.length > 0) {
    throw errors.sort((a, b) => a.index - b.index)[0]?.error;
  }
  return results;
}
