// Mount checks: tracefs (tracepoint ids, bpf_printk output) and bpffs (pinning), and whether bpffs
// is private: the kernel mounts it 1777 by default (kernel/bpf/inode.c, bpf_fill_super), and there
// any user can plant a file at a path that root's LIBBPF_PIN_BY_NAME maps will reuse or fail on.

import { readFileSync, statSync } from 'node:fs';
import { type CheckResult, check } from './types.js';

export interface Mount {
  source: string;
  target: string;
  type: string;
}

/** Parses /proc/self/mounts (fstab format; spaces in paths are written as \040). */
export function parseMounts(text: string): Mount[] {
  const decodeOctal = (s: string) =>
    s.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(Number.parseInt(oct, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 3)
    .map(([source, target, type]) => ({
      source: decodeOctal(source as string),
      target: decodeOctal(target as string),
      type: type as string,
    }));
}

function readMounts(): Mount[] {
  try {
    return parseMounts(readFileSync('/proc/self/mounts', 'utf8'));
  } catch {
    return [];
  }
}

export function checkTracefs(mounts: Mount[] = readMounts()): CheckResult {
  const title = 'tracefs';
  const tracefs = mounts.filter((m) => m.type === 'tracefs').map((m) => m.target);
  if (tracefs.length > 0) return check('tracefs', title, 'ok', `mounted at ${tracefs.join(', ')}`);
  const debugfs = mounts.find((m) => m.type === 'debugfs');
  if (debugfs) return check('tracefs', title, 'ok', `reachable through debugfs at ${debugfs.target}/tracing`);
  return check(
    'tracefs',
    title,
    'warn',
    'not mounted: tracepoint programs cannot attach and tsbpf trace cannot read bpf_printk output',
    'mount -t tracefs nodev /sys/kernel/tracing',
  );
}

/** A directory's permission bits, or undefined when it cannot be read. */
function statMode(path: string): number | undefined {
  try {
    return statSync(path).mode;
  } catch {
    return undefined;
  }
}

export function checkBpffs(
  mounts: Mount[] = readMounts(),
  modeOf: (path: string) => number | undefined = statMode,
): CheckResult {
  const title = 'bpffs';
  const bpffs = [...new Set(mounts.filter((m) => m.type === 'bpf').map((m) => m.target))];
  if (bpffs.length === 0) {
    return check(
      'bpffs',
      title,
      'warn',
      'not mounted: maps and links cannot be pinned',
      'mount -t bpf -o mode=0700 bpf /sys/fs/bpf',
    );
  }
  const open = bpffs.filter((target) => ((modeOf(target) ?? 0) & 0o002) !== 0);
  if (open.length > 0) {
    const modes = open.map((t) => `${t} (mode ${((modeOf(t) ?? 0) & 0o7777).toString(8)})`).join(', ');
    return check(
      'bpffs',
      title,
      'warn',
      `writable by every user: ${modes}; any user can plant a pin where root's pinned maps go`,
      // Not `mount -o remount,mode=0700`: bpffs ignores mode= on remount (seen on Linux 6.18).
      `chmod 0700 ${open.join(' ')}`,
    );
  }
  return check('bpffs', title, 'ok', `mounted at ${bpffs.join(', ')}`);
}
