// Privilege checks: the effective capabilities of this process (CapEff in /proc/self/status)
// and the kernel.unprivileged_bpf_disabled sysctl.

import { readFileSync } from 'node:fs';
import {
  type CapabilityName,
  capabilities,
  effectiveCapabilities,
  hasCapability,
  parseCapEff,
} from '../linux.js';
import { type CheckResult, check } from './types.js';

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** Loading tracing programs needs CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN which implies both. */
export function isPrivileged(mask: bigint): boolean {
  const admin = hasCapability(mask, 'CAP_SYS_ADMIN');
  return (admin || hasCapability(mask, 'CAP_BPF')) && (admin || hasCapability(mask, 'CAP_PERFMON'));
}

export function checkPrivileges(
  status: string = readText('/proc/self/status') ?? '',
  uid: number | undefined = process.getuid?.(),
): CheckResult {
  const title = 'Privileges';
  const mask = parseCapEff(status);
  const held = (Object.keys(capabilities) as CapabilityName[]).filter(
    (name) => name !== 'CAP_SYS_RESOURCE' && hasCapability(mask, name),
  );
  const who = uid === 0 ? 'root' : `uid ${uid ?? '?'}`;
  const detail = `${who}, ${held.length > 0 ? held.join(', ') : 'no BPF-related capabilities'}`;
  if (!isPrivileged(mask)) {
    return check(
      'privileges',
      title,
      'fail',
      `${detail}: loading programs needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)`,
      'run as root (sudo), or grant the capabilities: sudo setcap cap_bpf,cap_perfmon,cap_net_admin+ep "$(command -v node)"',
    );
  }
  if (!hasCapability(mask, 'CAP_NET_ADMIN') && !hasCapability(mask, 'CAP_SYS_ADMIN')) {
    return check(
      'privileges',
      title,
      'warn',
      `${detail}: XDP and tc programs need CAP_NET_ADMIN`,
      'run as root or add CAP_NET_ADMIN',
    );
  }
  return check('privileges', title, 'ok', detail);
}

/** kernel.unprivileged_bpf_disabled: 0 allows unprivileged bpf(), 1 and 2 reserve it for privileged processes. */
export function checkUnprivilegedBpf(
  value: string | undefined = readText('/proc/sys/kernel/unprivileged_bpf_disabled'),
  privileged: boolean = isPrivileged(effectiveCapabilities() ?? 0n),
): CheckResult {
  const title = 'Unprivileged BPF';
  const id = 'unprivileged-bpf';
  if (value === undefined) return check(id, title, 'ok', 'kernel.unprivileged_bpf_disabled is not present');
  const setting = value.trim();
  if (setting === '0')
    return check(id, title, 'ok', 'kernel.unprivileged_bpf_disabled=0: any user may call bpf()');
  if (privileged) {
    return check(
      id,
      title,
      'ok',
      `kernel.unprivileged_bpf_disabled=${setting}: bpf() needs privileges, which this process has`,
    );
  }
  return check(
    id,
    title,
    'fail',
    `kernel.unprivileged_bpf_disabled=${setting}: bpf() is reserved for privileged processes and this one is not`,
    'run as root (sudo); lowering the sysctl is not recommended',
  );
}
