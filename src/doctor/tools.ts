// Build-side checks: clang with the BPF target, llvm-strip, bpftool, and the C headers
// programs include (libbpf's and the kernel's UAPI). They reuse the toolchain's own discovery,
// so doctor reports exactly what a build would use.

import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TsbpfError } from '../errors.js';
import { bpftoolLibbpfVersion, bpftoolLinksBigEndian } from '../toolchain/bpftool-link.js';
import { ClangError, compile } from '../toolchain/compile.js';
import {
  compareVersions,
  type FindOptions,
  findBpftool,
  findClang,
  findStrip,
  findToolchain,
  installHints,
  type Tool,
} from '../toolchain/discover.js';
import { libbpfIncludeDir, multiarchIncludeDir } from '../toolchain/flags.js';
import { resolveTargets } from '../toolchain/targets.js';
import { type CheckResult, check } from './types.js';

function failure(id: string, title: string, error: unknown, fallbackFix: string): CheckResult {
  if (error instanceof TsbpfError) return check(id, title, 'fail', error.message, error.hint ?? fallbackFix);
  return check(id, title, 'fail', String(error), fallbackFix);
}

export async function checkClang(options: FindOptions = {}): Promise<{ result: CheckResult; clang?: Tool }> {
  const title = 'clang';
  try {
    const clang = await findClang(options);
    const major = Number(clang.version.split('.')[0]);
    const detail = `clang ${clang.version} at ${clang.path}, with the BPF target`;
    if (major < 11) {
      return {
        result: check(
          'clang',
          title,
          'warn',
          `${detail}: clang 11 or newer is needed for full BTF and CO-RE support`,
          installHints.clang,
        ),
        clang,
      };
    }
    return { result: check('clang', title, 'ok', detail), clang };
  } catch (error) {
    return { result: failure('clang', title, error, installHints.clang) };
  }
}

export async function checkStrip(clang: Tool | undefined, options: FindOptions = {}): Promise<CheckResult> {
  try {
    const strip = await findStrip(clang, options);
    return check('llvm-strip', 'llvm-strip', 'ok', `LLVM ${strip.version} at ${strip.path}`);
  } catch (error) {
    return failure('llvm-strip', 'llvm-strip', error, installHints.strip);
  }
}

/**
 * bpftool, the libbpf it was built with, and whether it links big-endian objects (what a program
 * of several C files needs for its bpfeb object; see toolchain/bpftool-link.ts).
 */
export async function checkBpftool(options: FindOptions = {}, clang?: Tool): Promise<CheckResult> {
  try {
    const bpftool = await findBpftool(options);
    const libbpf = await bpftoolLibbpfVersion(bpftool);
    const found = `bpftool ${bpftool.version}${libbpf ? ` (libbpf ${libbpf})` : ''} at ${bpftool.path}`;
    if (!clang) return check('bpftool', 'bpftool', 'ok', `${found}; linking not tested (no clang)`);
    const links = await bpftoolLinksBigEndian(clang, bpftool);
    return check(
      'bpftool',
      'bpftool',
      'ok',
      links
        ? `${found}; links big-endian (bpfeb) objects too`
        : `${found}; cannot link big-endian (bpfeb) objects: programs of several C files build for bpfel only (bpftool 7.8 with libbpf 1.8 links both)`,
    );
  } catch (error) {
    return failure('bpftool', 'bpftool', error, installHints.bpftool);
  }
}

/** libbpf's headers (bpf_helpers.h and friends), with the version libbpf_version.h declares. */
export function checkLibbpfHeaders(
  roots: readonly string[] = ['/usr/local/include', '/usr/include'],
): CheckResult {
  const title = 'libbpf headers';
  const dir = libbpfIncludeDir(roots);
  if (!dir) {
    return check(
      'libbpf-headers',
      title,
      'fail',
      'bpf/bpf_helpers.h is not installed',
      installHints.libbpfHeaders,
    );
  }
  let version = '';
  try {
    const text = readFileSync(join(dir, 'bpf', 'libbpf_version.h'), 'utf8');
    const major = /LIBBPF_MAJOR_VERSION\s+(\d+)/.exec(text)?.[1];
    const minor = /LIBBPF_MINOR_VERSION\s+(\d+)/.exec(text)?.[1];
    if (major && minor) version = `libbpf ${major}.${minor} `;
  } catch {}
  return check('libbpf-headers', title, 'ok', `${version}headers in ${join(dir, 'bpf')}`);
}

/** <linux/bpf.h> and the asm/types.h it includes (from the multiarch dir on Debian/Ubuntu). */
export function checkLinuxHeaders(root = '/usr/include', arch: string = process.arch): CheckResult {
  const multiarch = multiarchIncludeDir(arch, root);
  const title = 'Linux UAPI headers';
  const fix = 'install the Linux UAPI headers: apt-get install linux-libc-dev';
  if (!existsSync(join(root, 'linux', 'bpf.h'))) {
    return check('linux-headers', title, 'fail', `${join(root, 'linux', 'bpf.h')} is not installed`, fix);
  }
  const asmDir = existsSync(join(root, 'asm', 'types.h'))
    ? join(root, 'asm')
    : multiarch
      ? join(multiarch, 'asm')
      : undefined;
  if (!asmDir) return check('linux-headers', title, 'fail', 'asm/types.h is not installed', fix);
  return check('linux-headers', title, 'ok', `linux/bpf.h in ${root}, asm/types.h in ${asmDir}`);
}

/** The smallest program a new user's first build resembles: system headers only. */
const smokeSource = `#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int tsbpf_doctor(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
`;

/**
 * Compiles and strips a tiny program with the toolchain and flags a build would use, so a
 * setup whose parts each look fine but do not work together still shows up here.
 */
export async function checkCompile(options: FindOptions = {}): Promise<CheckResult> {
  const title = 'Test compile';
  let toolchain: Awaited<ReturnType<typeof findToolchain>>;
  try {
    toolchain = await findToolchain(options);
  } catch (error) {
    return check('compile', title, 'fail', `not tried: ${(error as Error).message}`, installHints.clang);
  }
  const dir = await mkdtemp(join(tmpdir(), 'tsbpf-doctor-'));
  try {
    const source = join(dir, 'doctor.c');
    await writeFile(source, smokeSource);
    const [target] = resolveTargets(['bpfel']);
    await compile({ toolchain, source, output: join(dir, 'doctor.o'), target: target!, color: false });
    return check(
      'compile',
      title,
      'ok',
      'compiled and stripped a program using <linux/bpf.h> and <bpf/bpf_helpers.h>',
    );
  } catch (error) {
    const firstError =
      error instanceof ClangError
        ? (error.diagnostics.split('\n').find((line) => line.includes('error:')) ?? error.message)
        : (error as Error).message;
    return check(
      'compile',
      title,
      'fail',
      firstError.replaceAll(`${dir}/`, ''),
      (error as TsbpfError).hint ?? 'see the checks above',
    );
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** tsbpf needs Node 20.19 or newer (require(esm), stable koffi builds). */
export function checkNode(version: string = process.versions.node): CheckResult {
  const ok = compareVersions(version, '20.19.0') >= 0;
  return ok
    ? check('node', 'Node.js', 'ok', `Node.js ${version}`)
    : check(
        'node',
        'Node.js',
        'fail',
        `Node.js ${version} is older than 20.19`,
        'install Node.js 20.19 or newer (https://nodejs.org)',
      );
}
