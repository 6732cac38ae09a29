// Label values for the numbers BPF programs keep: an enum value as its enumerator's name, a
// cgroup id (bpf_get_current_cgroup_id) as the cgroup's path.

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The name of `value` among a generated enum's enumerators (`enumLabel(Syscall, v.nr)` ->
 * "OPENAT"); a value without one is its decimal digits, so new kernel values still export.
 */
export function enumLabel(enumerators: Readonly<Record<string, unknown>>, value: number | bigint): string {
  // Compared as bigints: enum64 enumerators are bigints, and a value may come either way.
  const wanted = BigInt(value);
  for (const [name, v] of Object.entries(enumerators)) {
    if ((typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint') {
      if (BigInt(v) === wanted) return name;
    }
  }
  return String(value);
}

/** Where the cgroup v2 hierarchy is mounted here (from /proc/self/mountinfo), if anywhere. */
export function cgroup2Root(mountinfo = '/proc/self/mountinfo'): string | undefined {
  for (const line of readFileSync(mountinfo, 'utf8').split('\n')) {
    // "36 25 0:31 / /sys/fs/cgroup rw,... - cgroup2 cgroup2 rw": the fs type follows " - ".
    const [before, after] = line.split(' - ');
    if (after?.startsWith('cgroup2 ')) return before?.split(' ')[4]?.replace(/\\040/g, ' ');
  }
  return undefined;
}

/**
 * Cgroup ids to paths. A cgroup v2 id is the inode number of its folder, so the paths come from
 * walking the hierarchy; the walk is redone for an id it does not know, at most once per
 * `rescanMs`, so a scrape full of ids of exited cgroups does not walk it each time.
 */
export class CgroupPaths {
  readonly root: string | undefined;
  readonly #rescanMs: number;
  #byId = new Map<bigint, string>();
  #scannedAt = Number.NEGATIVE_INFINITY;

  constructor(options: { root?: string; rescanMs?: number } = {}) {
    this.root = options.root ?? cgroup2Root();
    this.#rescanMs = options.rescanMs ?? 5000;
  }

  /** The cgroup's path ("/system.slice/ssh.service"), or "cgroup:<id>" when it is not found. */
  path(id: number | bigint): string {
    const key = BigInt(id);
    let found = this.#byId.get(key);
    if (found === undefined && Date.now() - this.#scannedAt >= this.#rescanMs) {
      this.#scan();
      found = this.#byId.get(key);
    }
    return found ?? `cgroup:${key}`;
  }

  #scan(): void {
    this.#scannedAt = Date.now();
    const byId = new Map<bigint, string>();
    const root = this.root;
    if (root !== undefined) {
      const walk = (dir: string, path: string) => {
        try {
          byId.set(statSync(dir, { bigint: true }).ino, path === '' ? '/' : path);
          for (const entry of readdirSync(dir, { withFileTypes: true })) {
            if (entry.isDirectory()) walk(join(dir, entry.name), `${path}/${entry.name}`);
          }
        } catch {
          // removed while walking, or not ours to read: skip it
        }
      };
      walk(root, '');
    }
    this.#byId = byId;
  }
}
