// Compile targets: the two BPF byte orders, and architecture targets that also set the
// __TARGET_ARCH_* macro bpf_tracing.h needs to find function arguments in struct pt_regs.
// The architecture names follow Go's GOARCH (as bpf2go does), with Node's process.arch
// names accepted as aliases; the arch macros are those bpf_tracing.h tests for.

import { endianness } from 'node:os';
import { UsageError } from '../errors.js';

export type ClangTarget = 'bpfel' | 'bpfeb';

export interface Target {
  /** The name the user asked for: 'bpfel', 'amd64', ... */
  name: string;
  /** What clang is given as -target. */
  clangTarget: ClangTarget;
  /** The x in -D__TARGET_ARCH_x, when the target fixes one. */
  arch?: string;
  endian: 'little' | 'big';
  /** Used in output file names: `<ident>_<suffix>.o`. 'bpfel', 'bpfeb', 'x86_bpfel', 's390_bpfeb' ... */
  suffix: string;
}

export type TargetName =
  | 'bpfel'
  | 'bpfeb'
  | 'amd64'
  | '386'
  | 'arm64'
  | 'arm'
  | 's390x'
  | 'ppc64le'
  | 'ppc64'
  | 'riscv64'
  | 'loong64'
  | 'mips'
  | 'mipsle'
  | 'mips64'
  | 'mips64le';

/** Architecture targets: byte order and the bpf_tracing.h arch (tools/lib/bpf/bpf_tracing.h). */
const archTargets: Record<
  Exclude<TargetName, 'bpfel' | 'bpfeb'>,
  { clangTarget: ClangTarget; arch: string }
> = {
  amd64: { clangTarget: 'bpfel', arch: 'x86' },
  '386': { clangTarget: 'bpfel', arch: 'x86' },
  arm64: { clangTarget: 'bpfel', arch: 'arm64' },
  arm: { clangTarget: 'bpfel', arch: 'arm' },
  s390x: { clangTarget: 'bpfeb', arch: 's390' },
  ppc64le: { clangTarget: 'bpfel', arch: 'powerpc' },
  ppc64: { clangTarget: 'bpfeb', arch: 'powerpc' },
  riscv64: { clangTarget: 'bpfel', arch: 'riscv' },
  loong64: { clangTarget: 'bpfel', arch: 'loongarch' },
  mips: { clangTarget: 'bpfeb', arch: 'mips' },
  mipsle: { clangTarget: 'bpfel', arch: 'mips' },
  mips64: { clangTarget: 'bpfeb', arch: 'mips' },
  mips64le: { clangTarget: 'bpfel', arch: 'mips' },
};

/** Node's process.arch names for the same machines. */
const nodeAliases: Record<string, TargetName> = {
  x64: 'amd64',
  ia32: '386',
  mipsel: 'mipsle',
};

/** Every name resolveTargets() accepts, for help texts and error messages. */
export const targetNames: readonly string[] = ['bpfel', 'bpfeb', ...Object.keys(archTargets)];

/**
 * The bpf_tracing.h arch of this host (undefined when unknown). Generic bpfel/bpfeb objects
 * are compiled with it: vmlinux.h comes from this host's kernel, so its struct pt_regs has
 * this arch's layout, and PT_REGS_* macros must agree with it.
 */
export function hostArch(
  arch: string = process.arch,
  endian: 'LE' | 'BE' = endianness(),
): string | undefined {
  const name = hostTargetName(arch, endian);
  return name === undefined ? undefined : archTargets[name as keyof typeof archTargets]?.arch;
}

/** The architecture target of this host ('amd64' on x86-64), for `--target native`. */
export function hostTargetName(
  arch: string = process.arch,
  endian: 'LE' | 'BE' = endianness(),
): string | undefined {
  if (arch === 'ppc64') return endian === 'LE' ? 'ppc64le' : 'ppc64';
  if (arch === 'mips') return endian === 'LE' ? 'mipsle' : 'mips';
  const name = nodeAliases[arch] ?? arch;
  return name in archTargets ? name : undefined;
}

function makeTarget(name: string, hostArchName: string | undefined): Target | undefined {
  if (name === 'bpfel' || name === 'bpfeb') {
    const target: Target = {
      name,
      clangTarget: name,
      endian: name === 'bpfel' ? 'little' : 'big',
      suffix: name,
    };
    if (hostArchName) target.arch = hostArchName;
    return target;
  }
  const canonical = nodeAliases[name] ?? name;
  const spec = (archTargets as Record<string, { clangTarget: ClangTarget; arch: string }>)[canonical];
  if (!spec) return undefined;
  return {
    name: canonical,
    clangTarget: spec.clangTarget,
    arch: spec.arch,
    endian: spec.clangTarget === 'bpfel' ? 'little' : 'big',
    suffix: `${spec.arch}_${spec.clangTarget}`,
  };
}

/**
 * Resolves target names (comma-separated lists allowed) to targets, in the order given and
 * without duplicates: amd64 and 386 produce the same object, so only the first is kept.
 * 'native' means this host's architecture target. Throws UsageError on an unknown name.
 */
export function resolveTargets(
  names: readonly string[],
  host: { arch?: string; endian?: 'LE' | 'BE' } = {},
): Target[] {
  const archOfHost = hostArch(host.arch, host.endian);
  const targets: Target[] = [];
  for (const raw of names.flatMap((n) => n.split(','))) {
    const name = raw.trim();
    if (name === '') continue;
    const resolved = name === 'native' ? hostTargetName(host.arch, host.endian) : name;
    const target = resolved === undefined ? undefined : makeTarget(resolved, archOfHost);
    if (!target) {
      throw new UsageError(`unknown target '${name}'`, {
        hint: `use one of: ${targetNames.join(', ')}, native`,
      });
    }
    if (!targets.some((t) => t.suffix === target.suffix)) targets.push(target);
  }
  if (targets.length === 0) {
    throw new UsageError('no target given', { hint: `use one or more of: ${targetNames.join(', ')}` });
  }
  return targets;
}

/** The targets `tsbpf build` compiles when none are configured: both byte orders. */
export function defaultTargets(): Target[] {
  return resolveTargets(['bpfel', 'bpfeb']);
}
