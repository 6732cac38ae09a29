// Kernel checks that read /proc and /sys: version, BTF, the kprobe/uprobe perf PMUs, JIT.
// Each takes what it reads as parameters (defaulting to the real files) so tests can feed
// other machines' answers.

import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';
import { type CheckResult, check } from './types.js';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** '6.18.44-fc-v669' -> [6, 18]. */
export function parseKernelRelease(text: string): [number, number] | undefined {
  const match = /^(\d+)\.(\d+)/.exec(text);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

const atLeast = (v: [number, number], major: number, minor: number) =>
  v[0] > major || (v[0] === major && v[1] >= minor);

/** 5.8 brought ring buffers and CAP_BPF; 5.4 is the oldest with /sys/kernel/btf/vmlinux in common use. */
export function checkKernelVersion(text: string = release()): CheckResult {
  const version = parseKernelRelease(text);
  const title = 'Kernel version';
  if (!version) return check('kernel-version', title, 'warn', `cannot read the version in '${text}'`);
  if (atLeast(version, 5, 8)) return check('kernel-version', title, 'ok', text);
  if (atLeast(version, 5, 4)) {
    return check(
      'kernel-version',
      title,
      'warn',
      `${text}: ring buffers and CAP_BPF need 5.8 or newer`,
      'use a newer kernel (5.8+) for ring buffers; perf event arrays work on this one',
    );
  }
  return check('kernel-version', title, 'fail', `${text} is older than 5.4`, 'use a kernel 5.8 or newer');
}

/** BTF magic, from struct btf_header in include/uapi/linux/btf.h. */
const btfMagic = 0xeb9f;

/** The kernel's own BTF, which CO-RE relocations and vmlinux.h both need. */
export function checkKernelBtf(path = '/sys/kernel/btf/vmlinux'): CheckResult {
  const title = 'Kernel BTF';
  const fix = 'use a kernel built with CONFIG_DEBUG_INFO_BTF=y (most distribution kernels since 2021 are)';
  if (!existsSync(path)) return check('kernel-btf', title, 'fail', `${path} does not exist`, fix);
  try {
    const fd = openSync(path, 'r');
    const head = Buffer.alloc(2);
    try {
      readSync(fd, head, 0, 2, 0);
    } finally {
      closeSync(fd);
    }
    const magic = head.readUInt16LE(0) === btfMagic || head.readUInt16BE(0) === btfMagic;
    if (!magic) return check('kernel-btf', title, 'fail', `${path} is not BTF`, fix);
    const size = statSync(path).size;
    return check('kernel-btf', title, 'ok', `${path} (${(size / 1e6).toFixed(1)} MB)`);
  } catch (error) {
    return check(
      'kernel-btf',
      title,
      'fail',
      `${path} cannot be read: ${(error as Error).message}`,
      'run as root',
    );
  }
}

const pmuFixes = {
  kprobe: {
    uses: 'kprobe/kretprobe programs',
    fix: 'use a kernel with CONFIG_KPROBES=y and CONFIG_KPROBE_EVENTS=y, or tracepoints/fentry instead of kprobes',
  },
  uprobe: {
    uses: 'uprobe/uretprobe programs',
    fix: 'use a kernel with CONFIG_UPROBES=y and CONFIG_UPROBE_EVENTS=y',
  },
} as const;

/**
 * The perf PMU libbpf attaches kprobes or uprobes through. Missing means such programs load
 * but cannot attach: a warning, since other program types still work.
 */
export function checkPmu(
  kind: 'kprobe' | 'uprobe',
  devices = '/sys/bus/event_source/devices',
  tracing = '/sys/kernel/tracing',
): CheckResult {
  const title = `${kind} support`;
  const info = pmuFixes[kind];
  const dir = join(devices, kind);
  const type = readText(join(dir, 'type'))?.trim();
  if (type) return check(kind, title, 'ok', `perf PMU '${kind}' (type ${type})`);
  // libbpf falls back to the legacy tracefs interface when the PMU is absent.
  if (existsSync(join(tracing, `${kind}_events`))) {
    return check(kind, title, 'ok', `legacy ${join(tracing, `${kind}_events`)} (no perf PMU)`);
  }
  return check(
    kind,
    title,
    'warn',
    `${dir} does not exist: ${info.uses} cannot attach on this kernel`,
    info.fix,
  );
}

/** /proc/sys/net/core/bpf_jit_enable: 1 (or 2, debug) means programs run as native code. */
export function checkJit(path = '/proc/sys/net/core/bpf_jit_enable'): CheckResult {
  const title = 'BPF JIT';
  const value = readText(path);
  if (value === undefined) {
    return check(
      'jit',
      title,
      'warn',
      'the kernel has no BPF JIT: programs are interpreted (slower)',
      'use a kernel with CONFIG_BPF_JIT=y',
    );
  }
  const setting = value.trim();
  if (setting === '1' || setting === '2')
    return check('jit', title, 'ok', `enabled (bpf_jit_enable=${setting})`);
  return check(
    'jit',
    title,
    'warn',
    `disabled (bpf_jit_enable=${setting}): programs are interpreted`,
    'sysctl -w net.core.bpf_jit_enable=1',
  );
}
