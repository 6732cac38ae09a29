// Node's module compile cache (module.enableCompileCache, Node 22.1+) for the CLI: the bundle's
// compiled code is kept between runs, so every start after the first skips compiling it. The cache
// lives in tsbpf's per-user cache folder (only a folder this user owns and alone can write, see
// cache-trust.ts): code cache from a folder another user could write would run as whoever starts
// tsbpf. dist/cli.js calls this before it imports the CLI (scripts/bundle.mjs).
import module from 'node:module';
import { trustedCacheDir } from './toolchain/cache-trust.js';

/** Turns the compile cache on where Node has it and the user has not turned it off; the folder or undefined. */
export function enableCompileCache(env: NodeJS.ProcessEnv = process.env): string | undefined {
  // Absent before Node 22.1 (and @types/node 20 does not declare it).
  const enable = (module as { enableCompileCache?: (dir?: string) => unknown }).enableCompileCache;
  if (!enable || env.NODE_DISABLE_COMPILE_CACHE) return undefined;
  const dir = trustedCacheDir('node-compile-cache', { create: true, env });
  if (dir) enable(dir);
  return dir;
}
