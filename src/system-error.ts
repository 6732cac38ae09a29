// Filesystem errors on paths a user gave (`--out` a folder, an output folder they cannot write, a
// device another process holds) reach the CLI as Node's ErrnoExceptions. They are the user's to
// fix, not bugs: this turns one into a TsbpfError that names the path, says what is wrong in
// words and how to fix it, so the CLI prints one line and exits 1 instead of a stack trace.

import { basename, dirname, join } from 'node:path';
import { temporaryTarget } from './atomic.js';
import { TsbpfError } from './errors.js';

/** Why a path failed, and what to do, by errno code (see errno(3)). */
const causes: Record<string, { cause: string; hint: string }> = {
  ENOENT: { cause: 'no such file or folder', hint: 'check the path (and that its folder exists)' },
  EACCES: {
    cause: 'permission denied',
    hint: 'use a path you can write (ls -ld shows who owns its folder), or run with the rights it needs',
  },
  EPERM: { cause: 'operation not permitted', hint: 'use a path you own, or run with the rights it needs' },
  EISDIR: {
    cause: 'is a folder, where a file was expected',
    hint: 'give the path of a file, not of a folder (for an output: DIR/NAME)',
  },
  ENOTDIR: { cause: 'a part of the path is not a folder', hint: 'check each folder on the path' },
  EEXIST: { cause: 'already exists', hint: 'remove it or choose another path' },
  ENOTEMPTY: { cause: 'folder is not empty', hint: 'remove what is in it or choose another path' },
  EROFS: { cause: 'read-only filesystem', hint: 'write somewhere on a writable filesystem' },
  ENOSPC: { cause: 'no space left on the device', hint: 'free some space (df -h shows where)' },
  EDQUOT: { cause: 'disk quota exceeded', hint: 'free some space or raise the quota' },
  EBUSY: {
    cause: 'busy: another process holds it',
    hint: 'stop the other process (fuser -v shows which) and try again',
  },
  ELOOP: { cause: 'too many symbolic links', hint: 'check the path for a symlink loop' },
  ENAMETOOLONG: { cause: 'name too long', hint: 'use a shorter path' },
  EMFILE: { cause: 'too many open files', hint: 'raise the limit (ulimit -n) or close other files' },
};

/** The user error a failed system call on a path stands for, or undefined when it is not one. */
export function userErrorOf(error: unknown, pathGiven?: string): TsbpfError | undefined {
  if (!(error instanceof Error)) return undefined;
  const { code, dest, syscall, ...rest } = error as NodeJS.ErrnoException & { dest?: string };
  // Some calls (read(2) of a folder) leave the path out of the error: the caller knows it.
  const path = rest.path ?? pathGiven;
  // mkdir -p meeting a file on the way says EEXIST: what the user needs to hear is which part.
  const known =
    syscall === 'mkdir' && code === 'EEXIST'
      ? { cause: 'is a file, where a folder was expected', hint: 'choose a path whose folders are folders' }
      : code === undefined
        ? undefined
        : causes[code];
  if (!known || (path === undefined && dest === undefined)) return undefined;
  // rename(temporary, target) fails on the target the user named, not on tsbpf's temporary; so
  // does creating the temporary (src/atomic.ts) in a folder the user cannot write.
  const subject = syscall === 'rename' && dest !== undefined ? dest : targetOf(path ?? dest ?? '');
  return new TsbpfError(`${subject}: ${known.cause} (${code})`, { cause: error, hint: known.hint });
}

/** The file a temporary of src/atomic.ts stands for, or the path itself. */
function targetOf(path: string): string {
  const target = temporaryTarget(basename(path));
  return target === undefined ? path : join(dirname(path), target);
}
