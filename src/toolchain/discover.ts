// Finds the programs tsbpf runs: clang (the newest on PATH that has the BPF target, unless
// one is named), the llvm-strip of the same LLVM release, and bpftool. Every miss is a
// ToolchainError whose hint names the package to install.

import { accessSync, constants, readdirSync, realpathSync } from 'node:fs';
import { basename, delimiter, dirname, join, resolve } from 'node:path';
import { execa } from 'execa';
import { ToolchainError } from '../errors.js';
import { debug } from '../output.js';

export interface Tool {
  /** Absolute path of the executable. */
  path: string;
  /** Its version, e.g. '14.0.6' for clang, '7.1.0' for bpftool. */
  version: string;
}

export interface Toolchain {
  clang: Tool;
  strip: Tool;
  /** Only needed for vmlinux.h; absent when not installed. */
  bpftool?: Tool;
}

export interface FindOptions {
  /** A clang to use instead of searching (name on PATH or path); also TSBPF_CLANG. */
  clang?: string;
  /** An llvm-strip to use; also TSBPF_LLVM_STRIP. */
  strip?: string;
  /** A bpftool to use; also TSBPF_BPFTOOL. */
  bpftool?: string;
  /** Environment to read PATH and the TSBPF_* overrides from (default: process.env). */
  env?: NodeJS.ProcessEnv;
}

export const installHints = {
  clang: 'install clang and llvm: apt-get install clang llvm (Fedora: dnf install clang llvm)',
  strip: 'install llvm, which provides llvm-strip: apt-get install llvm',
  bpftool:
    'install bpftool: apt-get install bpftool (Ubuntu: apt-get install linux-tools-common linux-tools-$(uname -r))',
  libbpfHeaders: 'install the libbpf headers: apt-get install libbpf-dev',
  libbpf: 'install libbpf: apt-get install libbpf1',
} as const;

/** Folders where distributions put bpftool that a non-root PATH often lacks. */
const sbinDirs = ['/usr/local/sbin', '/usr/sbin', '/sbin'];

/** The names findClang looks for on PATH: clang, clang-14, clang-16.0. */
const clangNames = /^clang(-\d+(\.\d+)*)?$/;

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function pathDirs(env: NodeJS.ProcessEnv): string[] {
  return (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
}

/** Resolves a program name on PATH (a name containing '/' is taken as a path). */
export function findOnPath(
  name: string,
  env: NodeJS.ProcessEnv = process.env,
  extraDirs: string[] = [],
): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? resolve(name) : undefined;
  for (const dir of [...pathDirs(env), ...extraDirs]) {
    const candidate = join(dir, name);
    if (isExecutable(candidate)) return candidate;
  }
  return undefined;
}

/** Every executable on PATH whose name matches, first occurrence of each name only. */
export function listOnPath(pattern: RegExp, env: NodeJS.ProcessEnv = process.env): string[] {
  const seen = new Set<string>();
  const found: string[] = [];
  for (const dir of pathDirs(env)) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names.sort()) {
      if (!pattern.test(name) || seen.has(name)) continue;
      const path = join(dir, name);
      if (isExecutable(path)) {
        seen.add(name);
        found.push(path);
      }
    }
  }
  return found;
}

/** Compares dotted versions numerically: '16.0.6' > '14.0.6', '9.0' < '10.0'. */
export function compareVersions(a: string, b: string): number {
  const pa = a.split('.').map((n) => Number.parseInt(n, 10) || 0);
  const pb = b.split('.').map((n) => Number.parseInt(n, 10) || 0);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

async function run(path: string, args: string[], env: NodeJS.ProcessEnv) {
  return execa(path, args, { reject: false, stdin: 'ignore', env, timeout: 20_000, all: true });
}

/** `clang --version` -> '14.0.6' (also for vendor builds: 'Ubuntu clang version 14.0.0-1ubuntu1'). */
export function parseClangVersion(text: string): string | undefined {
  return /clang version (\d+(?:\.\d+)*)/.exec(text)?.[1];
}

/** `llvm-strip --version` -> '14.0.6'. */
export function parseLlvmVersion(text: string): string | undefined {
  return /LLVM version (\d+(?:\.\d+)*)/.exec(text)?.[1];
}

/** `bpftool version` -> '7.1.0'. */
export function parseBpftoolVersion(text: string): string | undefined {
  return /v(\d+\.\d+(?:\.\d+)?)/.exec(text)?.[1];
}

async function clangVersion(path: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  const result = await run(path, ['--version'], env);
  return result.exitCode === 0 ? parseClangVersion(String(result.all)) : undefined;
}

/** Whether this clang was built with the BPF back end (Debian's is; some minimal builds are not). */
export async function hasBpfTarget(clang: string, env: NodeJS.ProcessEnv = process.env): Promise<boolean> {
  const targets = await run(clang, ['-print-targets'], env);
  if (targets.exitCode === 0) return /^\s*bpfel\b/m.test(String(targets.all));
  // Older clangs have no -print-targets: compile an empty unit for BPF instead.
  const probe = await execa(clang, ['-target', 'bpfel', '-x', 'c', '-c', '-', '-o', '/dev/null'], {
    reject: false,
    input: 'int tsbpf_probe;\n',
    env,
    timeout: 20_000,
  });
  return probe.exitCode === 0;
}

/**
 * Finds clang. A named one (option or TSBPF_CLANG) must exist and have the BPF target;
 * otherwise the newest `clang`/`clang-NN` on PATH with the BPF target wins.
 */
export async function findClang(options: FindOptions = {}): Promise<Tool> {
  const env = options.env ?? process.env;
  const named = options.clang ?? env.TSBPF_CLANG;
  if (named) {
    const path = findOnPath(named, env);
    if (!path) {
      throw new ToolchainError(`clang '${named}' was not found`, {
        hint: `check TSBPF_CLANG (it names the clang to run), or ${installHints.clang}`,
      });
    }
    const version = await clangVersion(path, env);
    if (!version)
      throw new ToolchainError(`${path} does not look like clang (--version failed)`, {
        hint: installHints.clang,
      });
    if (!(await hasBpfTarget(path, env))) {
      throw new ToolchainError(`${path} (clang ${version}) was built without the BPF target`, {
        hint: `use a clang with the BPF back end (clang -print-targets lists bpfel); ${installHints.clang}`,
      });
    }
    return { path, version };
  }

  // Versioned names first, so that of two paths to the same binary the one naming its release is kept.
  const candidates = listOnPath(clangNames, env).sort((a, b) => b.length - a.length);
  const unique = new Map<string, string>();
  for (const path of candidates) {
    let real = path;
    try {
      real = realpathSync(path);
    } catch {}
    if (!unique.has(real)) unique.set(real, path);
  }
  // Version and BPF target asked of every candidate at once (usually one or two): each is a
  // process start, and in sequence they were most of the time a cold build spent before clang ran.
  const versioned = await Promise.all(
    [...unique.values()].map(async (path) => {
      const [version, bpf] = await Promise.all([clangVersion(path, env), hasBpfTarget(path, env)]);
      return { path, version, bpf };
    }),
  );
  const usable = versioned
    .filter((c): c is Tool & { bpf: boolean } => c.version !== undefined)
    .sort((a, b) => compareVersions(b.version, a.version) || a.path.localeCompare(b.path));
  const rejected: string[] = [];
  for (const candidate of usable) {
    if (candidate.bpf) {
      debug(`clang: ${candidate.path} (${candidate.version})`);
      return { path: candidate.path, version: candidate.version };
    }
    rejected.push(`${candidate.path} (${candidate.version})`);
  }
  if (rejected.length > 0) {
    throw new ToolchainError(
      `no clang with the BPF target was found; these lack it: ${rejected.join(', ')}`,
      {
        hint: installHints.clang,
      },
    );
  }
  throw new ToolchainError('clang was not found on PATH', { hint: installHints.clang });
}

/**
 * Finds llvm-strip for a clang: llvm-strip-<major> first (clang-14 pairs with llvm-strip-14),
 * then the one installed beside clang's real binary (/usr/lib/llvm-14/bin), then plain
 * llvm-strip, then the newest llvm-strip-NN.
 */
export async function findStrip(clang: Tool | undefined, options: FindOptions = {}): Promise<Tool> {
  const env = options.env ?? process.env;
  const named = options.strip ?? env.TSBPF_LLVM_STRIP;
  if (named && !findOnPath(named, env)) {
    throw new ToolchainError(`llvm-strip '${named}' was not found`, { hint: installHints.strip });
  }
  const candidates = stripCandidates(clang, named, env);
  for (const path of candidates) {
    const result = await run(path, ['--version'], env);
    const version = result.exitCode === 0 ? parseLlvmVersion(String(result.all)) : undefined;
    if (version) {
      debug(`llvm-strip: ${path} (${version})`);
      return { path, version };
    }
  }
  throw new ToolchainError('llvm-strip was not found on PATH', { hint: installHints.strip });
}

/** The llvm-strip paths findStrip tries, in order (the named one alone when one is named). */
function stripCandidates(
  clang: Tool | undefined,
  named: string | undefined,
  env: NodeJS.ProcessEnv,
): string[] {
  if (named) {
    const path = findOnPath(named, env);
    return path ? [path] : [];
  }
  const candidates = preferredStrips(clang, env);
  const numbered = listOnPath(numberedStrip, env).sort(
    (a, b) => Number(b.replace(/.*-/, '')) - Number(a.replace(/.*-/, '')),
  );
  for (const path of numbered) if (!candidates.includes(path)) candidates.push(path);
  return candidates;
}

const numberedStrip = /^llvm-strip-\d+$/;

/** The llvm-strips tried before any other: clang's release, the one beside clang, plain llvm-strip. */
function preferredStrips(clang: Tool | undefined, env: NodeJS.ProcessEnv): string[] {
  const candidates: string[] = [];
  const add = (path: string | undefined) => {
    if (path && !candidates.includes(path)) candidates.push(path);
  };
  const major = clang?.version.split('.')[0];
  if (major) add(findOnPath(`llvm-strip-${major}`, env));
  if (clang) {
    try {
      add(findOnPath(join(dirname(realpathSync(clang.path)), 'llvm-strip'), env));
    } catch {}
  }
  add(findOnPath('llvm-strip', env));
  return candidates;
}

/**
 * Whether `path` is what PATH resolves its own name to: the entry listOnPath keeps for that name
 * (the first executable one), found without listing every folder on PATH.
 */
function isFirstOnPath(path: string, pattern: RegExp, env: NodeJS.ProcessEnv): boolean {
  const name = basename(path);
  return pattern.test(name) && findOnPath(name, env) === path;
}

/**
 * Whether discovery, asked now with `env` (PATH and the TSBPF_* overrides), could pick `path`
 * for the tool: the named one, else one of the candidates it considers. Without running
 * anything, so a remembered tool can be checked on every build (see build/toolcache.ts).
 */
export function isDiscoverable(
  kind: 'clang' | 'strip' | 'bpftool',
  path: string,
  clang: Tool | undefined,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  // Checked name by name, not by listing PATH (1000+ entries in /usr/bin): a no-op build does this.
  if (kind === 'clang') {
    return env.TSBPF_CLANG ? findOnPath(env.TSBPF_CLANG, env) === path : isFirstOnPath(path, clangNames, env);
  }
  if (kind === 'strip') {
    if (env.TSBPF_LLVM_STRIP) return findOnPath(env.TSBPF_LLVM_STRIP, env) === path;
    return preferredStrips(clang, env).includes(path) || isFirstOnPath(path, numberedStrip, env);
  }
  return findOnPath(env.TSBPF_BPFTOOL ?? 'bpftool', env, env.TSBPF_BPFTOOL ? [] : sbinDirs) === path;
}

/** Finds a working bpftool (PATH, then the sbin folders a non-root PATH may lack). */
export async function findBpftool(options: FindOptions = {}): Promise<Tool> {
  const env = options.env ?? process.env;
  const named = options.bpftool ?? env.TSBPF_BPFTOOL;
  const path = named ? findOnPath(named, env) : findOnPath('bpftool', env, sbinDirs);
  if (!path) {
    throw new ToolchainError(named ? `bpftool '${named}' was not found` : 'bpftool was not found', {
      hint: installHints.bpftool,
    });
  }
  const result = await run(path, ['version'], env);
  const version = result.exitCode === 0 ? parseBpftoolVersion(String(result.all)) : undefined;
  if (!version) {
    // Ubuntu's /usr/sbin/bpftool is a wrapper that fails without linux-tools for the running kernel.
    throw new ToolchainError(`${path} does not run: ${String(result.all).trim().split('\n')[0] ?? ''}`, {
      hint: installHints.bpftool,
    });
  }
  return { path, version };
}

const cache = new Map<string, Promise<Toolchain>>();

/**
 * clang, llvm-strip and (when installed) bpftool. The answer is cached per options and
 * environment for the life of the process, since builds ask for it once per program.
 */
export function findToolchain(options: FindOptions = {}): Promise<Toolchain> {
  const env = options.env ?? process.env;
  const key = JSON.stringify([
    options.clang,
    options.strip,
    options.bpftool,
    env.PATH,
    env.TSBPF_CLANG,
    env.TSBPF_LLVM_STRIP,
    env.TSBPF_BPFTOOL,
  ]);
  let found = cache.get(key);
  if (!found) {
    found = (async () => {
      // bpftool does not depend on clang: look for it while clang is found; llvm-strip pairs
      // with clang's release, so it follows clang.
      const bpftoolFound = findBpftool(options).catch(() => undefined);
      const clang = await findClang(options);
      const [strip, bpftool] = await Promise.all([findStrip(clang, options), bpftoolFound]);
      return bpftool ? { clang, strip, bpftool } : { clang, strip };
    })();
    found.catch(() => cache.delete(key));
    cache.set(key, found);
  }
  return found;
}
