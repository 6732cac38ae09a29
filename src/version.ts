import { readFileSync } from 'node:fs';

interface OwnPackage {
  version: string;
  peerDependencies?: Record<string, string>;
}

let cached: OwnPackage | undefined;

/** tsbpf's own package.json (one level above src/ and dist/), read once. */
function ownPackage(): OwnPackage {
  cached ??= JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as OwnPackage;
  return cached;
}

/** tsbpf's own version, read from its package.json. */
export function packageVersion(): string {
  return ownPackage().version;
}

/** The version range tsbpf declares for an optional peer (e.g. prom-client for tsbpf/metrics). */
export function peerRange(name: string): string {
  const range = ownPackage().peerDependencies?.[name];
  if (range === undefined) throw new Error(`tsbpf's package.json declares no peer dependency ${name}`);
  return range;
}
