// Where a project is written, and whether it may be. A directory that already holds files is
// refused unless the user says --force, and even then tsbpf only writes its own files into it:
// nothing is deleted. Every path written is checked to stay inside the target directory, also
// through symlinks that already exist there.

import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { makeDirectory } from '../atomic.js';
import { UsageError } from '../errors.js';

export interface TargetDirState {
  /** Absolute path. */
  path: string;
  exists: boolean;
  /** Entries other than the ones that do not count (a fresh `.git`). */
  entries: string[];
}

/** Entries that do not make a directory "non-empty": `git init && npm create tsbpf .` is fine. */
const ignoredEntries = new Set(['.git']);

/** Resolves the `<dir>` argument (`.` is the working directory) to an absolute path. */
export function resolveTargetDir(dir: string, cwd: string = process.cwd()): string {
  if (dir.trim() === '')
    throw new UsageError('the project directory is empty', { hint: 'name a directory, or . for this one' });
  return resolve(cwd, dir.trim());
}

export function inspectTargetDir(path: string): TargetDirState {
  if (!existsSync(path)) return { path, exists: false, entries: [] };
  if (!statSync(path).isDirectory()) {
    throw new UsageError(`${path} exists and is not a directory`, {
      hint: 'choose another project directory',
    });
  }
  const entries = readdirSync(path)
    .filter((e) => !ignoredEntries.has(e))
    .sort();
  return { path, exists: true, entries };
}

/** Throws unless the directory is missing or empty, or `force` allows writing into it. */
export function checkTargetDir(state: TargetDirState, force: boolean): void {
  if (state.entries.length === 0 || force) return;
  const shown = state.entries.slice(0, 5).join(', ') + (state.entries.length > 5 ? ', ...' : '');
  throw new UsageError(`${state.path} is not empty (${shown})`, {
    hint: 'choose a new directory, or pass --force to write the template into it (files with the same names are replaced; nothing is deleted)',
  });
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (!isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${sep}`));
}

/**
 * The absolute path of `file` (a template-relative path) inside `root`, creating its parent
 * folders. Refuses paths that leave root, lexically or through a symlink already on disk.
 */
export function containedPath(root: string, file: string): string {
  const target = resolve(root, file);
  if (isAbsolute(file) || !isInside(root, target) || target === root) {
    throw new UsageError(`refusing to write ${file}: it is outside ${root}`);
  }
  const parent = dirname(target);
  makeDirectory(parent);
  const realRoot = realpathSync(root);
  if (!isInside(realRoot, realpathSync(parent))) {
    throw new UsageError(
      `refusing to write ${file}: ${relative(root, parent)} leads outside ${root} (a symlink)`,
      {
        hint: 'remove the symlink or choose another directory',
      },
    );
  }
  // A symlink in the file's own place would also send the write elsewhere.
  const existing = lstatOrUndefined(target);
  if (existing?.isSymbolicLink() && !isInside(realRoot, realpathOrSelf(target))) {
    throw new UsageError(`refusing to write ${file}: it is a symlink that leads outside ${root}`);
  }
  return join(realpathSync(parent), relative(parent, target));
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

function realpathOrSelf(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return resolve(dirname(path), readlinkSync(path)); // dangling: judge it by where it points
  }
}
