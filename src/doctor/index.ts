// tsbpf doctor: checks that this machine can build (clang, llvm-strip, bpftool, headers) and
// run (kernel, BTF, privileges, bpf(), libbpf, mounts, probe PMUs) tsbpf programs, and what this
// user can run, kind by kind. Each check is a plain function returning a CheckResult; runDoctor()
// runs them all.

import { readKernelBtf } from '../btf/kernel.js';
import type { FindOptions } from '../toolchain/discover.js';
import { checkBpfSyscall, checkRingbuf } from './bpf-syscall.js';
import { checkFeatures, enumConstants, type FeatureSupport, featureSupport } from './features.js';
import { checkJit, checkKernelBtf, checkKernelVersion, checkPmu } from './kernel.js';
import { checkLibbpf, libbpfHasSymbol, libbpfLoads } from './libbpf.js';
import { checkBpffs, checkTracefs } from './mounts.js';
import { checkPrivileges, checkUnprivilegedBpf } from './privileges.js';
import { checkProgramTypes } from './program-types.js';
import {
  checkBpftool,
  checkClang,
  checkCompile,
  checkLibbpfHeaders,
  checkLinuxHeaders,
  checkNode,
  checkStrip,
} from './tools.js';
import { type CheckResult, check, type DoctorReport } from './types.js';

export { type CapabilityName, capabilities, errnoName, hasCapability, parseCapEff } from '../linux.js';
export { tryCreateMap, tryLoadProgram } from './bpf-syscall.js';
export {
  checkFeatures,
  enumConstants,
  FEATURES,
  type Feature,
  type FeatureSupport,
  featureSupport,
} from './features.js';
export { formatReport } from './format.js';
export { checkJit, checkKernelBtf, checkKernelVersion, checkPmu, parseKernelRelease } from './kernel.js';
export { checkLibbpf, libbpfHasSymbol, libbpfLoads, libbpfVersion } from './libbpf.js';
export { checkBpffs, checkTracefs, type Mount, parseMounts } from './mounts.js';
export { checkPrivileges, checkUnprivilegedBpf, isPrivileged } from './privileges.js';
export { checkProgramTypes, type ProgramTypeProbes, type ProgramTypeResult } from './program-types.js';
export {
  checkBpftool,
  checkClang,
  checkCompile,
  checkLibbpfHeaders,
  checkLinuxHeaders,
  checkNode,
  checkStrip,
} from './tools.js';
export { type CheckResult, type CheckStatus, check, type DoctorReport } from './types.js';
export { checkBpfSyscall, checkRingbuf };

/** A check that throws is reported as failed rather than ending the report. */
function guarded(id: string, title: string, run: () => CheckResult): CheckResult {
  try {
    return run();
  } catch (error) {
    return check(id, title, 'fail', `check crashed: ${(error as Error).message}`);
  }
}

/** Runs every check in a fixed order. `ready` is false when any check failed. */
export async function runDoctor(options: FindOptions = {}): Promise<DoctorReport> {
  const clang = await checkClang(options);
  const [strip, bpftool, compiled] = await Promise.all([
    checkStrip(clang.clang, options),
    checkBpftool(options, clang.clang),
    checkCompile(options),
  ]);
  const checks: CheckResult[] = [
    guarded('node', 'Node.js', () => checkNode()),
    guarded('kernel-version', 'Kernel version', () => checkKernelVersion()),
    guarded('kernel-btf', 'Kernel BTF', () => checkKernelBtf()),
    guarded('privileges', 'Privileges', () => checkPrivileges()),
    guarded('unprivileged-bpf', 'Unprivileged BPF', () => checkUnprivilegedBpf()),
    guarded('bpf-syscall', 'bpf() system call', () => checkBpfSyscall()),
    guarded('libbpf', 'libbpf', () => checkLibbpf()),
    guarded('tracefs', 'tracefs', () => checkTracefs()),
    guarded('bpffs', 'bpffs', () => checkBpffs()),
    clang.result,
    strip,
    bpftool,
    guarded('libbpf-headers', 'libbpf headers', () => checkLibbpfHeaders()),
    guarded('linux-headers', 'Linux UAPI headers', () => checkLinuxHeaders()),
    compiled,
    guarded('kprobe', 'kprobe support', () => checkPmu('kprobe')),
    guarded('uprobe', 'uprobe support', () => checkPmu('uprobe')),
    guarded('ringbuf', 'Ring buffer maps', () => checkRingbuf()),
    guarded('jit', 'BPF JIT', () => checkJit()),
  ];
  const programs = checkProgramTypes();
  checks.push(...programs.map((p) => p.check));
  const features = detectFeatures();
  checks.push(guarded('features', 'Newer BPF features', () => checkFeatures(features)));
  return {
    ready: checks.every((c) => c.status !== 'fail'),
    checks,
    features,
    programs: programs.map(({ kind, runs, blockedBy }) =>
      blockedBy ? { kind, runs, blockedBy } : { kind, runs },
    ),
  };
}

/** The newer features' support here: the loaded libbpf's symbols, the kernel BTF's enum constants. */
function detectFeatures(): FeatureSupport[] {
  let constants: Set<string> | undefined;
  try {
    constants = enumConstants(readKernelBtf());
  } catch {
    // no kernel BTF: kernel support unknown
  }
  const hasKprobes = checkPmu('kprobe').status === 'ok';
  return featureSupport(libbpfLoads() ? (name) => libbpfHasSymbol(name) : undefined, constants, hasKprobes);
}
