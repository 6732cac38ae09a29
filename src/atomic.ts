// Atomic replacement of files (build and gen outputs, btfgen's BTF, vmlinux.h, objects, the
// precompiled-header cache). Every file is first written to a temporary file in its final folder
// (same filesystem, so rename(2) is atomic) and renamed into place once whole; a failed or
// interrupted writer therefore leaves the previous file whole. A temporary is named after its
// writer's pid, so the next run of a command can sweep what a killed one left (sweepTemporaries).
// Temporaries are created exclusively and never through a symlink (O_EXCL | O_NOFOLLOW), and their
// names end in random bytes, so nobody who can write the folder can redirect a write elsewhere.

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { debug } from './output.js';

/** Marks temporary files so a later writer can sweep what an interrupted one left behind. */
const tempMarker = '.tsbpf-tmp-';

/** Where `path` is written before being renamed into place (swept by sweepTemporaries). */
export function temporaryPath(path: string): string {
  return join(
    dirname(path),
    `.${basename(path)}${tempMarker}${process.pid}-${randomBytes(4).toString('hex')}`,
  );
}

/** The name a temporary's name (`.NAME.tsbpf-tmp-PID-HEX`) stands for, or undefined for other names. */
export function temporaryTarget(name: string): string | undefined {
  const marker = name.lastIndexOf(tempMarker);
  return name.startsWith('.') && marker > 1 && /^\d+-[0-9a-f]+$/.test(name.slice(marker + tempMarker.length))
    ? name.slice(1, marker)
    : undefined;
}

/**
 * Creates `path` and writes `data` to it, failing if anything (a file, a symlink) is already
 * there: what is written always lands in a new file of ours, never through a planted link.
 */
export function writeFileExclusive(path: string, data: string | Uint8Array, mode = 0o666): void {
  const { O_CREAT, O_EXCL, O_WRONLY, O_NOFOLLOW } = constants;
  const fd = openSync(path, O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW, mode);
  try {
    writeFileSync(fd, data);
  } finally {
    closeSync(fd);
  }
}

/**
 * `mkdir -p` that always ends: Node 20's recursive mkdirSync spins forever (all CPU, no error)
 * where mkdir(2) answers ENOENT under a folder that exists, as procfs and sysfs do
 * (`--out /proc/x/vmlinux.h`). Here that ENOENT is thrown, naming the folder.
 */
export function makeDirectory(path: string, mode?: number): void {
  try {
    mkdirSync(path, mode === undefined ? undefined : { mode });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST' && statSync(path).isDirectory()) return;
    const parent = dirname(path);
    if (code !== 'ENOENT' || parent === path) throw error;
    makeDirectory(parent, mode);
    mkdirSync(path, mode === undefined ? undefined : { mode });
  }
}

/** Writes one file atomically: readers see the old content or the new, never a mix. */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o666): void {
  makeDirectory(dirname(path));
  const temporary = temporaryPath(path);
  try {
    writeFileExclusive(temporary, data, mode);
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/**
 * A set of files replaced together. `stage` writes each to a temporary file; `commit` renames
 * them all into place, in staging order (so the file that says "this build is complete", such
 * as the incremental-build stamp, goes last); `abort` removes the temporaries.
 */
export class OutputSet {
  readonly #staged: Array<{ temporary: string; path: string }> = [];

  stage(path: string, data: string | Uint8Array): void {
    makeDirectory(dirname(path));
    const temporary = temporaryPath(path);
    writeFileExclusive(temporary, data);
    this.#staged.push({ temporary, path });
  }

  /** The final paths staged so far. */
  get paths(): string[] {
    return this.#staged.map((s) => s.path);
  }

  commit(): void {
    try {
      for (const { temporary, path } of this.#staged) renameSync(temporary, path);
    } finally {
      this.abort();
    }
  }

  abort(): void {
    for (const { temporary } of this.#staged.splice(0)) rmSync(temporary, { force: true });
  }
}

/**
 * Removes the temporaries that killed writers left in `dir`. Each temporary's name carries its
 * writer's pid, so files still being written (by this process or another build running in the
 * same folder) are kept; a dead writer's file can never be renamed into place and is garbage.
 * Only regular files of this user are removed: anything else with such a name (a folder, a
 * symlink, a fifo, another user's file) is not ours to judge, and is left as it is. Never throws.
 */
export function sweepTemporaries(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const writer = writerPid(name);
    if (writer === undefined || isRunning(writer)) continue;
    const path = join(dir, name);
    try {
      const s = lstatSync(path);
      if (!s.isFile() || s.uid !== process.geteuid?.()) {
        debug(`left ${path} alone: named like a temporary, but not a file of this user`);
        continue;
      }
      unlinkSync(path);
    } catch (error) {
      debug(`could not remove ${path}: ${(error as Error).message}`);
    }
  }
}

/** The pid in a temporary's name (see temporaryPath), or undefined for any other file. */
function writerPid(name: string): number | undefined {
  const at = name.lastIndexOf(tempMarker);
  if (!name.startsWith('.') || at < 0) return undefined;
  const match = /^(\d+)-[0-9a-f]+$/.exec(name.slice(at + tempMarker.length));
  return match ? Number(match[1]) : undefined;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
