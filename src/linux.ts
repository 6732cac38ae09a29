// Facts about the running Linux process that both the runtime (its error messages) and
// `tsbpf doctor` (its checks) need: errno names, the process's effective capabilities, user names.
// No dependencies beyond Node, so either side may import it.
import { readFileSync, statSync } from 'node:fs';
import { constants } from 'node:os';

// The kernel's names for the numbers Node knows two names for (EAGAIN = EWOULDBLOCK,
// EOPNOTSUPP = ENOTSUP), then what only the kernel (ENOTSUPP, include/linux/errno.h) and libbpf
// (enum libbpf_errno, libbpf.h) define.
const errnoNames = new Map<number, string>([
  [11, 'EAGAIN'],
  [95, 'EOPNOTSUPP'],
  [524, 'ENOTSUPP'],
  ...[
    'FORMAT',
    'KVERSION',
    'ENDIAN',
    'INTERNAL',
    'RELOC',
    'LOAD',
    'VERIFY',
    'PROG2BIG',
    'KVER',
    'PROGTYPE',
    'WRNGPID',
    'INVSEQ',
    'NLPARSE',
  ].map((name, i): [number, string] => [4001 + i, `LIBBPF_ERRNO__${name}`]),
]);
for (const [name, errno] of Object.entries(constants.errno)) {
  if (!errnoNames.has(errno)) errnoNames.set(errno, name);
}

/** `EPERM` for 1, ...; `errno N` for numbers without a name. */
export function errnoName(errno: number): string {
  return errnoNames.get(errno) ?? `errno ${errno}`;
}

/** Capability numbers, from include/uapi/linux/capability.h. */
export const capabilities = {
  CAP_DAC_READ_SEARCH: 2,
  CAP_NET_ADMIN: 12,
  CAP_SYS_ADMIN: 21,
  CAP_SYS_RESOURCE: 24,
  CAP_PERFMON: 38,
  CAP_BPF: 39,
} as const;

export type CapabilityName = keyof typeof capabilities;

/** The effective capability mask from /proc/<pid>/status text (0n when absent). */
export function parseCapEff(status: string): bigint {
  const hex = /^CapEff:\s*([0-9a-fA-F]+)/m.exec(status)?.[1];
  return hex ? BigInt(`0x${hex}`) : 0n;
}

export function hasCapability(mask: bigint, name: CapabilityName): boolean {
  return ((mask >> BigInt(capabilities[name])) & 1n) === 1n;
}

/** This process's effective capabilities; undefined when /proc/self/status cannot be read. */
export function effectiveCapabilities(): bigint | undefined {
  try {
    return parseCapEff(readFileSync('/proc/self/status', 'utf8'));
  } catch {
    return undefined;
  }
}

/** `alice (uid 1000)` for messages about who owns a file, or `uid 1000` when /etc/passwd has no name. */
export function describeUser(uid: number): string {
  try {
    for (const entry of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = entry.split(':');
      if (id === String(uid) && name) return `${name} (uid ${uid})`;
    }
  } catch {}
  return `uid ${uid}`;
}

/**
 * Whether a path exists, by stat(): existsSync() asks access(), which judges by the real uid
 * without capabilities, so a non-root process with CAP_DAC_READ_SEARCH would see no tracefs.
 */
export function pathExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
