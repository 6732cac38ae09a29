// The incremental-build stamp: a small JSON file beside a program's outputs recording what they
// were built from (a key over settings and tool versions, the content hash of every source and
// header clang read, per its -MD depfile) and the hash of each output. A build is up to date
// when the key matches, every input still hashes the same and every output is present and
// unchanged; anything else is a reason to rebuild, and `--check` prints those reasons.
//
// Paths inside the stamp are relative to its folder when they lie below the folder that holds
// the config, so a stamp committed with the outputs stays valid in a CI checkout elsewhere.
// A stamp judges the project, not the machine: the key holds no tool versions, and the inputs
// outside the project (/usr/include/bpf, recorded with absolute paths) are kept for the record
// but not compared. So a clone with fresh committed outputs is up to date on any machine, with
// or without clang (the bpf2go contract); after upgrading clang or libbpf, `build --force`.

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { CachedToolchain } from './toolcache.js';

export const stampVersion = 1;

export interface Stamp {
  version: number;
  /** Hash of everything that is not a file: settings, flags, targets, tool versions. */
  key: string;
  /** Input path (relative to the stamp's folder, or absolute outside the project) -> sha256. */
  inputs: Record<string, string>;
  /** Output file name (relative to the stamp's folder) -> sha256. */
  outputs: Record<string, string>;
  /**
   * The tools the build used, so a later no-op build need not look for them again. A hint, not an
   * authority (the stamp is committed, so anyone could have written it): reuseToolchain checks
   * each path against PATH and TSBPF_* and its owner before use.
   */
  toolchain?: CachedToolchain;
}

/** The stamp file of a program: hidden, beside `<ident>.ts`. Commit it with the outputs for `--check` in CI. */
export function stampPath(outDir: string, ident: string): string {
  return join(outDir, `.${ident}.tsbpf.json`);
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Hashes of files by absolute path, memoised for the length of one build (headers are shared). */
export class FileHasher {
  readonly #cache = new Map<string, string | undefined>();

  /** sha256 of the file, or undefined when it cannot be read. */
  hash(path: string): string | undefined {
    if (this.#cache.has(path)) return this.#cache.get(path);
    let digest: string | undefined;
    try {
      digest = sha256(readFileSync(path));
    } catch {
      digest = undefined;
    }
    this.#cache.set(path, digest);
    return digest;
  }

  /** Forgets a file, after the build rewrote it (vmlinux.h). */
  forget(path: string): void {
    this.#cache.delete(path);
  }
}

/** The stable string a settings object hashes to (keys sorted, so key order never matters). */
export function settingsKey(settings: unknown): string {
  const canonical = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(canonical);
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(
        Object.keys(value)
          .sort()
          .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
      );
    }
    return value;
  };
  return sha256(JSON.stringify(canonical(settings)));
}

/** How a path is written in a stamp in `dir`: relative when inside `projectRoot`, else absolute. */
export function stampRelative(dir: string, projectRoot: string, path: string): string {
  const fromRoot = relative(projectRoot, path);
  const inProject = !fromRoot.startsWith('..') && !isAbsolute(fromRoot);
  return inProject ? relative(dir, path) || '.' : path;
}

export function readStamp(path: string): Stamp | undefined {
  try {
    const json = JSON.parse(readFileSync(path, 'utf8')) as Partial<Stamp>;
    if (
      json.version !== stampVersion ||
      typeof json.key !== 'string' ||
      typeof json.inputs !== 'object' ||
      typeof json.outputs !== 'object'
    ) {
      return undefined;
    }
    return json as Stamp;
  } catch {
    return undefined;
  }
}

export function formatStamp(stamp: Stamp): string {
  const sorted = (record: Record<string, string>) =>
    Object.fromEntries(Object.entries(record).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return `${JSON.stringify({ ...stamp, inputs: sorted(stamp.inputs), outputs: sorted(stamp.outputs) }, null, 2)}\n`;
}

/** Why a program's outputs are stale; empty when they are up to date. */
export function staleReasons(options: {
  dir: string;
  stampFile: string;
  key: string;
  hasher: FileHasher;
  /** How to show a path in a reason (default: as the stamp has it). */
  show?: (absolute: string) => string;
}): string[] {
  const show = (name: string) => (options.show ? options.show(resolve(options.dir, name)) : name);
  const stamp = readStamp(options.stampFile);
  if (stamp === undefined) return ['never built (no stamp)'];
  const reasons: string[] = [];
  if (stamp.key !== options.key) reasons.push('settings, flags or tsbpf version changed');
  for (const [name, digest] of Object.entries(stamp.outputs)) {
    const now = options.hasher.hash(resolve(options.dir, name));
    if (now === undefined) reasons.push(`${show(name)} is missing`);
    else if (now !== digest) reasons.push(`${show(name)} was modified`);
  }
  for (const [name, digest] of Object.entries(stamp.inputs)) {
    // Outside the project: the machine's headers, which another machine need not have.
    if (isAbsolute(name)) continue;
    const now = options.hasher.hash(resolve(options.dir, name));
    if (now === undefined) reasons.push(`${show(name)} is gone`);
    else if (now !== digest) reasons.push(`${show(name)} changed`);
  }
  return reasons;
}
