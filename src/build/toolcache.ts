// Remembers which clang, llvm-strip and bpftool a build used, so an up-to-date build need not run
// them (finding and versioning the tools takes a few hundred milliseconds, most of a no-op build).
// The same memory is kept per user (~/.cache/tsbpf/toolchain.json), so the cold build of a new
// project does not pay for discovery either.
// The memory is trusted only while nothing that could change the answer has changed: PATH and the
// TSBPF_* overrides, the folders on PATH (installing clang-16 changes /usr/bin's mtime), and
// the tool binaries themselves.
// Neither memory is an authority: the per-user file is read only from a trusted cache (see
// cache-trust.ts), and a remembered tool, from there or from a (committed) stamp, is used only
// while it is still what discovery could pick from PATH and TSBPF_* now, and only root or this
// user can change it (revalidateToolchain). Anything else runs discovery again.

import { realpathSync, type Stats, statSync } from 'node:fs';
import { delimiter, dirname, join } from 'node:path';
import { writeFileAtomic } from '../atomic.js';
import { debug } from '../output.js';
import { readTrustedCacheFile, trustedCacheDir } from '../toolchain/cache-trust.js';
import { isDiscoverable, type Toolchain } from '../toolchain/discover.js';
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
  if (toolFingerprint(cached.tools, env) !== cached.fingerprint) return undefined;
  return revalidateToolchain(cached.tools, env);
}

/** Why nobody but root and this user could have changed an executable, or undefined when so. */
function untrustedBinary(path: string): string | undefined {
  const me = process.geteuid?.() ?? -1;
  const bad = (s: Stats) => (s.uid !== 0 && s.uid !== me) || (s.mode & 0o022) !== 0;
  try {
    const real = realpathSync(path);
    // The file itself, and the folders holding it and the name it was found by.
    for (const p of [real, dirname(real), dirname(path)]) if (bad(statSync(p))) return `${p} is not safe`;
    return undefined;
  } catch {
    return 'it is gone';
  }
}

/**
 * The remembered tools when each is still one discovery could pick now (named by TSBPF_*, or a
 * candidate on PATH) and only root or this user can change it; else undefined.
 */
export function revalidateToolchain(
  tools: Toolchain,
  env: NodeJS.ProcessEnv = process.env,
): Toolchain | undefined {
  const checks = [
    ['clang', tools.clang.path],
    ['strip', tools.strip.path],
    ...(tools.bpftool ? [['bpftool', tools.bpftool.path]] : []),
  ] as Array<['clang' | 'strip' | 'bpftool', string]>;
  for (const [kind, path] of checks) {
    const why = isDiscoverable(kind, path, tools.clang, env)
      ? untrustedBinary(path)
      : 'discovery would not pick it';
    if (why) {
      debug(`not reusing the remembered ${kind} ${path}: ${why}; looking for the tools again`);
      return undefined;
    }
  }
  return tools;
}

/** The per-user copy: $XDG_CACHE_HOME/tsbpf/toolchain.json or ~/.cache/tsbpf/toolchain.json, when trusted. */
export function userToolchainFile(
  options: { create?: boolean; env?: NodeJS.ProcessEnv } = {},
): string | undefined {
  const dir = trustedCacheDir(undefined, options);
  return dir ? join(dir, 'toolchain.json') : undefined;
}

/** The per-user remembered tools, or undefined (missing, untrusted or malformed: rediscover). */
export function readUserToolchain(env: NodeJS.ProcessEnv = process.env): CachedToolchain | undefined {
  const file = userToolchainFile({ env });
  const bytes = file ? readTrustedCacheFile(file) : undefined;
  if (!bytes) return undefined;
  try {
    const data = JSON.parse(bytes.toString('utf8')) as Partial<CachedToolchain>;
    const tools = data.tools;
    if (typeof data.fingerprint !== 'string' || !tools?.clang?.path || !tools.strip?.path) return undefined;
    return { fingerprint: data.fingerprint, tools };
  } catch {
    return undefined;
  }
}

/** Saves the tools a discovery found for the user's next builds; a cache, so failures are ignored. */
export function writeUserToolchain(tools: Toolchain, env: NodeJS.ProcessEnv = process.env): void {
  const file = userToolchainFile({ create: true, env });
  if (!file) return;
  try {
    writeFileAtomic(file, `${JSON.stringify({ fingerprint: toolFingerprint(tools, env), tools })}\n`, 0o600);
  } catch (error) {
    debug(`could not save ${file}: ${(error as Error).message}`);
  }
}
