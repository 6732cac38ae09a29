// cgroup v2 directories as the kernel takes them: an fd of the directory, for attaching programs
// (BPF_LINK_CREATE's target_fd), for cgroup arrays and cgroup storage (map keys and values) and for
// perf events narrowed to a cgroup. A path that is not a cgroup v2 directory, or one the user may
// not open, fails here with the fix named, before any syscall sees it.
import { closeSync, openSync, statfsSync, statSync } from 'node:fs';
import { PermissionError, UsageError } from '../errors.js';
import { ProgType } from './constants.js';

/** statfs(2) f_type of a cgroup v2 mount (include/uapi/linux/magic.h). */
const CGROUP2_SUPER_MAGIC = 0x63677270;

/** The hint for a path that is not a cgroup v2 directory. */
export const cgroupHint =
  'give a cgroup v2 directory, e.g. /sys/fs/cgroup/system.slice (findmnt -t cgroup2 shows where cgroup v2 is mounted)';

/** Checks that path is a cgroup v2 directory; `bad` builds the UsageError for what is wrong. */
export function checkCgroup(
  path: string,
  bad: (message: string, hint?: string) => UsageError,
  hint: string = cgroupHint,
): string {
  if (typeof path !== 'string' || path === '')
    throw bad('cgroup: expected the path of a cgroup v2 directory', hint);
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    throw bad(`cgroup ${path}: no such directory`, hint);
  }
  if (!isDirectory) throw bad(`cgroup ${path}: not a directory`, hint);
  if (statfsSync(path).type !== CGROUP2_SUPER_MAGIC) {
    throw bad(`cgroup ${path}: not a cgroup v2 directory`, hint);
  }
  return path;
}

/** Opens a directory checkCgroup accepted; one the user may not read is a PermissionError. */
export function openCgroup(what: string, path: string): number {
  try {
    return openSync(path, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    const message = `${what}: cgroup ${path}: cannot open the directory (${code})`;
    if (code !== 'EACCES' && code !== 'EPERM') throw new UsageError(message, { cause: error });
    throw new PermissionError(message, {
      cause: error,
      hint: 'run as a user that may read the directory (ls -ld shows its owner and mode), or as root',
    });
  }
}

/**
 * An fd of the cgroup v2 directory at path (checked, then opened) for `what` (e.g. "program x:
 * attach to cgroup"); the caller closes it. A missing directory's hint says how to make one.
 */
export function cgroupFd(what: string, path: string): number {
  const hint = `${cgroupHint}; create one with mkdir (e.g. mkdir /sys/fs/cgroup/my-group), or mount cgroup v2 if none is (mount -t cgroup2 none /sys/fs/cgroup)`;
  checkCgroup(
    path,
    (message, h) => new UsageError(`${what}: ${message}`, h === undefined ? {} : { hint: h }),
    hint,
  );
  return openCgroup(what, path);
}

/** Runs fn with an fd of the cgroup directory at path, closed afterwards. */
export function withCgroupFd<T>(what: string, path: string, fn: (fd: number) => T): T {
  const fd = cgroupFd(what, path);
  try {
    return fn(fd);
  } finally {
    closeSync(fd);
  }
}

/** Program types that attach to a cgroup (enum bpf_prog_type, include/uapi/linux/bpf.h). */
const cgroupProgTypes: readonly number[] = [
  ProgType.cgroupSkb,
  ProgType.cgroupSock,
  ProgType.sockOps,
  ProgType.cgroupDevice,
  ProgType.cgroupSockAddr,
  ProgType.cgroupSysctl,
  ProgType.cgroupSockopt,
  ProgType.lsm, // SEC("lsm_cgroup/...")
];

/** The UsageError for attachCgroup on a program that does not attach to cgroups, if it is one. */
export function cgroupKindError(program: string, section: string, type: number): UsageError | undefined {
  if (cgroupProgTypes.includes(type) && (type !== ProgType.lsm || section.startsWith('lsm_cgroup'))) {
    return undefined;
  }
  return new UsageError(`program ${program}: SEC("${section}") does not attach to a cgroup`, {
    hint: 'attachCgroup takes cgroup_skb/*, cgroup/*, sockops and lsm_cgroup/* programs; attach this one with attach() or its own attach method',
  });
}
