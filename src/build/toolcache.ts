// Remembers which clang, llvm-strip and bpftool a build used, so an up-to-date build need not run
// them (finding and versioning the tools takes a few hundred milliseconds, most of a no-op build).
// The same memory is kept per user (~/.cache/tsbpf/toolchain.json), so the cold build of a new
// project does not pay for discovery either.
// The memory is trusted only while nothing that could change the answer has changed: PATH and the
// TSBPF_* overrides, the folders on PATH (installing clang-16 changes /usr/bin's mtime), and
// the tool binaries themselves.

import { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { userCacheDir } from '../toolchain/cache-dir.js';
import type { Toolchain } from '../toolchain/discover.js';
import { settingsKey } from './stamp.js';

export interface CachedToolchain {
  fingerprint: string;
  tools: Toolchain;
}

function statKey(path: string): string {
  try {
    const s = statSync(path);
    return `${s.mtimeMs}:${s.size}:${s.ino}`;
  } catch {
    return 'missing';
  }
}

const sbinDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** A hash of everything tool discovery depends on, given the tools it found. */
export function toolFingerprint(tools: Toolchain, env: NodeJS.ProcessEnv = process.env): string {
  const dirs = [...(env.PATH ?? '').split(delimiter).filter((d) => d !== ''), ...sbinDirs];
  const paths = [tools.clang.path, tools.strip.path, ...(tools.bpftool ? [tools.bpftool.path] : [])];
  return settingsKey({
    env: [env.PATH, env.TSBPF_CLANG, env.TSBPF_LLVM_STRIP, env.TSBPF_BPFTOOL],
    dirs: dirs.map((d) => [d, statKey(d)]),
    tools: paths.map((p) => [p, statKey(p)]),
  });
}

/** The remembered tools when still valid, else undefined (and the caller runs discovery). */
export function reuseToolchain(
  cached: CachedToolchain | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Toolchain | undefined {
  if (!cached) return undefined;
  return toolFingerprint(cached.tools, env) === cached.fingerprint ? cached.tools : undefined;
}

/** The per-user copy: $XDG_CACHE_HOME/tsbpf/toolchain.json or ~/.cache/tsbpf/toolchain.json. */
export function userToolchainFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const dir = userCacheDir(env);
  return dir ? join(dir, 'toolchain.json') : undefined;
}

/** The per-user remembered tools, or undefined (missing, unreadable or malformed: rediscover). */
export function readUserToolchain(env: NodeJS.ProcessEnv = process.env): CachedToolchain | undefined {
  const file = userToolchainFile(env);
  if (!file) return undefined;
  try {
    const data = JSON.parse(readFileSync(file, 'utf8')) as Partial<CachedToolchain>;
    const tools = data.tools;
    if (typeof data.fingerprint !== 'string' || !tools?.clang?.path || !tools.strip?.path) return undefined;
    return { fingerprint: data.fingerprint, tools };
  } catch {
    return undefined;
  }
}

/** Saves the tools a discovery found for the user's next builds; a cache, so failures are ignored. */
export function writeUserToolchain(tools: Toolchain, env: NodeJS.ProcessEnv = process.env): void {
  const file = userToolchainFile(env);
  if (!file) return;
  try {
    mkdirSync(dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, `${JSON.stringify({ fingerprint: toolFingerprint(tools, env), tools })}\n`);
    renameSync(tmp, file);
  } catch {}
}
