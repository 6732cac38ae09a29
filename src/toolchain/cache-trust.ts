// Whether the per-user cache (see cache-dir.ts) may be used by this process. What the cache holds
// decides which programs tsbpf runs and which precompiled code goes into objects, so a cache that
// another user could have written (root under `sudo -E` reading the invoking user's ~/.cache, a
// shared folder) is not used at all: no read, no write, and the build runs without it.
// Trusted means: the folder holding the cache is owned by this user or root and not writable by
// others (a sticky /tmp is fine: others cannot replace what is ours there), and the cache folder,
// each folder below it and every file read from it are this user's, checked with lstat (a
// symlink is never trusted), and writable by nobody else.

import {
  closeSync,
  constants,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  type Stats,
  statSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { makeDirectory } from '../atomic.js';
import { describeUser } from '../linux.js';
import { debug, yellow } from '../output.js';
import { userCacheDir } from './cache-dir.js';

const euid = (): number => process.geteuid?.() ?? -1;

/** Why a file or folder of the cache is not trustworthy, or undefined when it is. */
export function distrust(s: Stats, kind: 'file' | 'folder'): string | undefined {
  if (kind === 'folder' ? !s.isDirectory() : !s.isFile()) return `is not a ${kind} (a symlink?)`;
  if (s.uid !== euid()) return `is owned by ${describeUser(s.uid)}, not by ${describeUser(euid())}`;
  if ((s.mode & 0o022) !== 0) return `is writable by ${s.mode & 0o002 ? 'others' : 'its group'}`;
  return undefined;
}

/** Why the folder holding the cache (~/.cache, $XDG_CACHE_HOME) is not trustworthy, or undefined. */
function distrustBase(s: Stats): string | undefined {
  if (!s.isDirectory()) return 'is not a folder';
  if (s.uid !== euid() && s.uid !== 0) return `is owned by ${describeUser(s.uid)}`;
  // 0o1000: the sticky bit, as on /tmp.
  if ((s.mode & 0o022) !== 0 && (s.mode & 0o1000) === 0) return 'is writable by others';
  return undefined;
}

/** What disable() has said in this process (every compile asks for the cache). */
const said = new Set<string>();

/** Says once per process on stderr (with --verbose, once per reason) that the cache is not used. */
function disable(path: string, why: string): undefined {
  const message = `the cache folder ${path} ${why}; the cache is disabled`;
  if (said.has(message)) return undefined;
  debug(message);
  if (said.size === 0) process.stderr.write(`${yellow('tsbpf: warning:', process.stderr)} ${message}\n`);
  said.add(message);
  return undefined;
}

export interface TrustedCacheOptions {
  /** Create what is missing (mode 0700); without it a missing folder means no cache. */
  create?: boolean;
  env?: NodeJS.ProcessEnv;
}

/**
 * The per-user cache folder, or `sub` below it (e.g. 'pch'), when every folder from the cache's
 * parent down is trustworthy; undefined when it is not (warned once), when it is missing and not
 * to be created, or when there is no HOME or XDG_CACHE_HOME.
 */
export function trustedCacheDir(sub?: string, options: TrustedCacheOptions = {}): string | undefined {
  const root = userCacheDir(options.env ?? process.env);
  if (!root) return undefined;
  const base = dirname(root);
  try {
    if (options.create) makeDirectory(base, 0o700);
    // The base may be a symlink (~/.cache on another disk); it is followed, and its target judged.
    const why = distrustBase(statSync(base));
    if (why) return disable(base, why);
  } catch {
    return undefined;
  }
  const chain = sub ? [root, join(root, sub)] : [root];
  for (const dir of chain) {
    let s: Stats;
    try {
      s = lstatSync(dir);
    } catch {
      if (!options.create) return undefined;
      try {
        mkdirSync(dir, { mode: 0o700 });
        s = lstatSync(dir);
      } catch (error) {
        debug(`could not create the cache folder ${dir}: ${(error as Error).message}`);
        return undefined;
      }
    }
    const why = distrust(s, 'folder');
    if (why) return disable(dir, why);
  }
  return chain.at(-1);
}

/** Whether `path` (in a trusted cache folder) is a regular file of this user that only it may write. */
export function isTrustedCacheFile(path: string): boolean {
  try {
    return distrust(lstatSync(path), 'file') === undefined;
  } catch {
    return false;
  }
}

/**
 * The bytes of a cache file, or undefined when it is missing or not trustworthy. Opened without
 * following a symlink and judged by the open descriptor, so it cannot be swapped in between.
 */
export function readTrustedCacheFile(path: string): Buffer | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch {
    return undefined;
  }
  try {
    const why = distrust(fstatSync(fd), 'file');
    if (why) {
      debug(`not using ${path}: it ${why}`);
      return undefined;
    }
    return readFileSync(fd);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
