// Parsed ELF files shared by every process that maps them: one parse per file however many
// stacks and processes name it. A file is known by device, inode, size and mtime, so a rebuilt
// binary at the same path is parsed again and one file seen through two paths (a container's
// /proc/PID/root) is parsed once.
import { statSync } from 'node:fs';
import { TsbpfError } from '../errors.js';
import { type ElfSymbolFile, readElfSymbols } from './elf-symbols.js';

export type FileSymbols = { ok: true; file: ElfSymbolFile } | { ok: false; reason: string; gone: boolean };

/** A short reason for a failed read: the error code or the TsbpfError's message. */
export function describeFailure(error: unknown): string {
  if (error instanceof TsbpfError) return error.message;
  const e = error as NodeJS.ErrnoException;
  return e.code ?? String(e.message ?? error);
}

export class ElfFileCache {
  readonly #byIdentity = new Map<string, FileSymbols>();

  /** The symbols of the file at `path` (named `label` in reasons), or why they cannot be had. */
  get(path: string, label: string): FileSymbols {
    let identity: string;
    try {
      const st = statSync(path, { bigint: true });
      identity = `${st.dev}:${st.ino}:${st.size}:${st.mtimeNs}`;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // Another user's process: /proc/PID/root and map_files/ need ptrace access to it.
      const fix = code === 'EACCES' || code === 'EPERM' ? ': run as root or with CAP_SYS_PTRACE' : '';
      return {
        ok: false,
        reason: `cannot open ${label} (${describeFailure(error)})${fix}`,
        gone: code === 'ENOENT' || code === 'ESRCH',
      };
    }
    const known = this.#byIdentity.get(identity);
    if (known) return known;
    let result: FileSymbols;
    try {
      result = { ok: true, file: readElfSymbols(path, label) };
    } catch (error) {
      // Unreadable and corrupt files are remembered too: no second attempt per stack.
      result = {
        ok: false,
        reason: `cannot read symbols of ${label}: ${describeFailure(error)}`,
        gone: false,
      };
    }
    this.#byIdentity.set(identity, result);
    return result;
  }

  get size(): number {
    return this.#byIdentity.size;
  }

  clear(): void {
    this.#byIdentity.clear();
  }
}
