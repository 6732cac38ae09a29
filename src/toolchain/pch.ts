// vmlinux.h is ~3 MB of declarations that clang parses again for every object: 80-90% of a
// compile. A source whose first directive includes it is compiled against a precompiled copy
// instead, made once per (header bytes and path, clang, target, flags) and kept in the user's
// cache (pch/ under userCacheDir()). The object is byte for byte the same (tested); the compile
// takes a fifth of the time. Anything unusual (a #define before the include, a flag that could
// change how includes resolve, no trusted cache) compiles the plain way.
// A precompiled header is code that goes into the objects, so it is used only from a trusted
// cache (cache-trust.ts) and only while its bytes hash to what was recorded beside it when it
// was made (<key>.pch.sha256); anything else is removed and the source compiled plainly.

import { createHash } from 'node:crypto';
import {
  chmodSync,
  closeSync,
  constants,
  fstatSync,
  futimesSync,
  lstatSync,
  openSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  type Stats,
  statSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { sweepTemporaries, temporaryPath, writeFileAtomic, writeFileExclusive } from '../atomic.js';
import { debug } from '../output.js';
import { distrust, isTrustedCacheFile, readTrustedCacheFile, trustedCacheDir } from './cache-trust.js';
import type { Toolchain } from './discover.js';
import { type LanguageOptions, precompiledHeaderArgs } from './flags.js';

/** The one header worth precompiling: every CO-RE program starts with it. */
const headerName = 'vmlinux.h';

/** Precompiled headers kept (each ~15 MB); the least recently used go first. */
const keep = 6;

/** User flags that cannot change where the header resolves or whether a precompiled one applies. */
const neutralFlag = /^-(?:[DUWOgm]|std=|f(?!syntax-only|modules))/;

/**
 * The header a C source includes before any other directive (comments and blank lines may come
 * first), or undefined. Only the first 64 KiB are looked at; one pass, no backtracking.
 */
export function leadingInclude(text: string): { name: string; quoted: boolean } | undefined {
  const head = text.slice(0, 65536);
  let i = head.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (;;) {
    if (/\s/.test(head[i] ?? '')) i++;
    else if (head.startsWith('//', i)) i = lineEnd(head, i);
    else if (head.startsWith('/*', i)) {
      const close = head.indexOf('*/', i + 2);
      if (close < 0) return undefined;
      i = close + 2;
    } else break;
  }
  const line = head.slice(i, lineEnd(head, i));
  const match = /^#[ \t]*include[ \t]*(?:"([^"]+)"|<([^>]+)>)[ \t\r]*(?:\/\/.*)?$/.exec(line);
  if (!match) return undefined;
  return match[1] !== undefined ? { name: match[1], quoted: true } : { name: match[2]!, quoted: false };
}

const lineEnd = (text: string, from: number): number => {
  const end = text.indexOf('\n', from);
  return end < 0 ? text.length : end;
};

/** The file `#include` resolves to among the source's folder (quoted form only) and the -I dirs. */
export function resolveInclude(
  include: { name: string; quoted: boolean },
  source: string,
  includeDirs: readonly string[],
): string | undefined {
  const dirs = include.quoted ? [dirname(source), ...includeDirs] : includeDirs;
  for (const dir of dirs) {
    const path = resolve(dir, include.name);
    try {
      if (statSync(path).isFile()) return path;
    } catch {}
  }
  return undefined;
}

export interface PrecompiledHeaderOptions extends LanguageOptions {
  toolchain: Toolchain;
  /** The C source. */
  source: string;
  /** Folder relative paths (source, include dirs) are relative to (default: process.cwd()). */
  cwd?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The precompiled vmlinux.h to compile `source` with, or undefined: the source does not start by
 * including it, it is not wanted often enough yet, or it cannot be made here.
 */
export async function precompiledHeaderFor(options: PrecompiledHeaderOptions): Promise<string | undefined> {
  const env = options.env ?? process.env;
  if (env.TSBPF_NO_PCH) return undefined;
  if (!(options.cflags ?? []).every((flag) => neutralFlag.test(flag))) return undefined;
  const cwd = resolve(options.cwd ?? process.cwd());
  const source = resolve(cwd, options.source);
  const includeDirs = (options.includeDirs ?? []).map((d) => resolve(cwd, d));
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch {
    return undefined; // clang reports the missing source
  }
  const include = leadingInclude(text);
  if (include?.name !== headerName) return undefined;
  const header = resolveInclude(include, source, includeDirs);
  if (!header) return undefined;
  const dir = trustedCacheDir('pch', { create: true, env });
  if (!dir) return undefined;

  const argsFor = (output: string) => precompiledHeaderArgs({ ...options, includeDirs, header, output });
  const key = createHash('sha256')
    .update(JSON.stringify([options.toolchain.clang.path, options.toolchain.clang.version, argsFor('')]))
    .update(contentDigest(header))
    .digest('hex')
    .slice(0, 32);
  const file = join(dir, `${key}.pch`);
  const pending = inFlight.get(file);
  if (pending) return pending;
  const existing = checkAndUse(file);
  if (existing === 'used') return file;
  if (existing === 'rejected') return undefined; // compiled plainly; the next request makes it anew
  // Precompiling costs about three plain compiles, so a header is made only once it is wanted
  // again: by a second compile in this process, or by a later build (a first one leaves a
  // mark). A one-off build, such as CI on a fresh machine, never pays for it.
  const mark = `${file}.wanted`;
  if (!asked.has(file) && !isTrustedCacheFile(mark)) {
    asked.add(file);
    try {
      rmSync(mark, { force: true }); // whatever else is there (a symlink) is not ours to follow
      writeFileExclusive(mark, '', 0o600);
    } catch {}
    return undefined;
  }
  const made = make(options.toolchain, file, argsFor);
  inFlight.set(file, made);
  // Once made, later requests check the file like any other (cheaply: it is known whole); a
  // failure stays remembered, so a header clang cannot precompile is not tried per compile.
  void made.then((result) => result && inFlight.delete(file));
  return made;
}

/** Headers being made, or that failed to be made, by this process, and those asked for once. */
const inFlight = new Map<string, Promise<string | undefined>>();
const asked = new Set<string>();

/** Makes the next request check the file again (clang could not use it: removed or corrupt). */
export function forgetPrecompiledHeader(file: string): void {
  debug(`clang could not use ${file}; removed it, compiling without`);
  inFlight.delete(file);
  removeHeader(file);
}

/** A header and the digest recorded for it. */
function removeHeader(file: string): void {
  verified.delete(file);
  rmSync(file, { force: true });
  rmSync(digestFile(file), { force: true });
}

const digestFile = (file: string) => `${file}.sha256`;

/** Which inode, at which size and times, a header was last seen whole at, per header path. */
const verified = new Map<string, string>();
const identity = (s: Stats) => `${s.dev}:${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;

/**
 * 'used' when the header is a file of this user whose bytes hash to the digest recorded when it
 * was made (hashed once per process and inode: ~15 MB); its mtime then says it was just used
 * (see prune). A header that fails is removed ('rejected'), so a later request makes it anew.
 */
function checkAndUse(file: string): 'used' | 'missing' | 'rejected' {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NOFOLLOW);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    debug(`not using ${file}: ${(error as Error).message}; compiling without`);
    rmSync(file, { force: true }); // a symlink (ELOOP), removed without following it
    return 'rejected';
  }
  try {
    const s = fstatSync(fd);
    const why = distrust(s, 'file');
    if (why === undefined && verified.get(file) !== identity(s)) {
      const t0 = performance.now();
      const actual = createHash('sha256').update(readFileSync(fd)).digest('hex');
      const expected = readTrustedCacheFile(digestFile(file))?.toString('utf8').trim();
      debug(`hashed ${file} in ${(performance.now() - t0).toFixed(1)} ms`);
      if (actual !== expected) {
        debug(`${file} does not match its recorded digest; removed it, compiling without`);
        removeHeader(file);
        return 'rejected';
      }
    } else if (why !== undefined) {
      debug(`not using ${file}: it ${why}; removed it, compiling without`);
      removeHeader(file);
      return 'rejected';
    }
    const now = new Date();
    futimesSync(fd, now, now);
    verified.set(file, identity(fstatSync(fd)));
    return 'used';
  } catch {
    return 'rejected';
  } finally {
    closeSync(fd);
  }
}

async function make(
  toolchain: Toolchain,
  file: string,
  argsFor: (output: string) => string[],
): Promise<string | undefined> {
  const dir = dirname(file);
  const temp = temporaryPath(file);
  try {
    const t0 = performance.now();
    const result = await execa(toolchain.clang.path, argsFor(temp), { reject: false, stdin: 'ignore' });
    if (result.failed) {
      debug(`could not precompile ${headerName}; compiling without: ${String(result.stderr).split('\n')[0]}`);
      return undefined;
    }
    // Recorded before the header is in place, so a header in place always has its digest.
    chmodSync(temp, 0o600);
    writeFileAtomic(
      digestFile(file),
      `${createHash('sha256').update(readFileSync(temp)).digest('hex')}\n`,
      0o600,
    );
    renameSync(temp, file);
    verified.set(file, identity(lstatSync(file)));
    rmSync(`${file}.wanted`, { force: true });
    debug(`precompiled ${headerName} in ${Math.round(performance.now() - t0)} ms: ${file}`);
    prune(dir);
    return file;
  } catch (error) {
    debug(`could not precompile ${headerName}; compiling without: ${(error as Error).message}`);
    return undefined;
  } finally {
    rmSync(temp, { force: true });
  }
}

/**
 * Keeps the `keep` most recently used headers (with their digests) and drops old marks, digests
 * whose header is gone, and killed builds' temporaries.
 */
function prune(dir: string): void {
  sweepTemporaries(dir);
  const entries = readdirSync(dir).flatMap((name) => {
    try {
      const s = lstatSync(join(dir, name));
      return s.isFile() ? [{ path: join(dir, name), name, mtime: s.mtimeMs }] : [];
    } catch {
      return [];
    }
  });
  const names = new Set(entries.map((e) => e.name));
  const dayAgo = Date.now() - 86_400_000;
  const monthAgo = Date.now() - 30 * 86_400_000;
  for (const e of entries) {
    const orphan = e.name.endsWith('.pch.sha256') && !names.has(e.name.slice(0, -'.sha256'.length));
    if ((e.name.endsWith('.wanted') && e.mtime < monthAgo) || (orphan && e.mtime < dayAgo)) {
      rmSync(e.path, { force: true });
    }
  }
  const headers = entries.filter((e) => e.name.endsWith('.pch')).sort((a, b) => b.mtime - a.mtime);
  for (const e of headers.slice(keep)) removeHeader(e.path);
}

/** sha256 of a file's bytes, remembered while its size, mtime and inode stay the same. */
function contentDigest(path: string): string {
  const s = statSync(path);
  const id = `${path}:${s.size}:${s.mtimeMs}:${s.ino}`;
  let digest = digests.get(id);
  if (!digest) {
    digest = createHash('sha256').update(readFileSync(path)).digest('hex');
    digests.set(id, digest);
  }
  return digest;
}

const digests = new Map<string, string>();
