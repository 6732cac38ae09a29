// The per-user cache folder tsbpf keeps what it can recompute (the tools it found, precompiled
// headers): $XDG_CACHE_HOME/tsbpf, else ~/.cache/tsbpf; undefined when neither is set.
// Where it would be, not whether to use it: readers and writers go through cache-trust.ts.

import { join } from 'node:path';

export function userCacheDir(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const base = env.XDG_CACHE_HOME || (env.HOME ? join(env.HOME, '.cache') : undefined);
  return base ? join(base, 'tsbpf') : undefined;
}
