// Writes a project's files. Each file goes to a temporary name beside its destination first and
// is then moved into place in one step, so an interrupted run never leaves a half-written file.
// Without `force` the move is a hard link, which fails rather than replace a file that appeared
// in the meantime; with `force` it is a rename, which replaces it.

import { chmodSync, existsSync, linkSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { UsageError } from '../errors.js';
import type { ProjectFile } from './render.js';
import { containedPath } from './target-dir.js';

export interface WriteOptions {
  force: boolean;
  /** Modes of the files to keep (executable scripts); by target path. */
  modes?: Map<string, number>;
}

/**
 * Writes every file under `root`; returns the paths written (relative, in order). When a write
 * fails, the files this call created are removed again (files it replaced under `force` stay
 * replaced; the user asked for that).
 */
export function writeProjectFiles(root: string, files: ProjectFile[], options: WriteOptions): string[] {
  const created: string[] = [];
  try {
    return files.map((file) => {
      const { path, isNew } = writeOne(root, file, options);
      if (isNew) created.push(path);
      return file.path;
    });
  } catch (error) {
    for (const path of created.reverse()) rmSync(path, { force: true });
    throw error;
  }
}

function writeOne(root: string, file: ProjectFile, options: WriteOptions): { path: string; isNew: boolean } {
  const destination = containedPath(root, file.path);
  const isNew = !existsSync(destination);
  const temporary = `${destination}.tsbpf-${process.pid}.tmp`;
  writeFileSync(temporary, file.contents, { flag: 'wx' });
  try {
    const mode = options.modes?.get(file.path);
    if (mode !== undefined) chmodSync(temporary, mode);
    if (options.force) {
      renameSync(temporary, destination);
    } else {
      try {
        linkSync(temporary, destination);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') {
          throw new UsageError(`${destination} already exists; not replacing it`, {
            hint: 'pass --force to replace files with the same names as the template',
          });
        }
        throw error;
      }
    }
  } finally {
    rmSync(temporary, { force: true });
  }
  return { path: destination, isNew };
}

/** The permission bits of template files that are executable, so scripts stay runnable. */
export function executableModes(
  files: ReadonlyArray<{ source: string; target: string }>,
): Map<string, number> {
  const modes = new Map<string, number>();
  for (const file of files) {
    const mode = statSync(file.source).mode & 0o777;
    if (mode & 0o111) modes.set(file.target, mode);
  }
  return modes;
}
