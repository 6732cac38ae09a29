// `tsbpf build` as a library: every program of the config, in parallel, each skipped when its
// stamp says nothing it was built from has changed. `check` writes nothing and reports what is
// stale instead. Modules that run the toolchain are imported only when something must be built,
// so a no-op build stays a matter of reading and hashing files.

import { existsSync } from 'node:fs';
import { isAbsolute, join, relative } from 'node:path';
import { sweepTemporaries } from '../atomic.js';
import { ConfigError } from '../errors.js';
import type { Toolchain } from '../toolchain/discover.js';
import { resolveTargets } from '../toolchain/targets.js';
import { packageVersion } from '../version.js';
import type { BuildConfig, ProgramConfig } from './config.js';
import { defaultJobs, Limiter } from './pool.js';
import {
  FileHasher,
  formatStamp,
  readStamp,
  type Stamp,
  settingsKey,
  sha256,
  staleReasons,
  stampPath,
  stampRelative,
  stampVersion,
} from './stamp.js';
import { readUserToolchain, reuseToolchain, toolFingerprint, writeUserToolchain } from './toolcache.js';

export interface BuildOptions {
  config: BuildConfig;
  /** Write nothing; report stale or missing outputs. */
  check?: boolean;
  /** Rebuild even when up to date. */
  force?: boolean;
  /** Concurrent clang processes (default: the CPU count). */
  jobs?: number;
  /** Targets for every program, replacing the config's. */
  targets?: readonly string[];
  /** Tools to use (default: found on PATH, or remembered from the last build). */
  toolchain?: Toolchain;
  /** Called as each program starts and finishes (progress output). */
  onProgress?: (event: { ident: string; phase: 'start' | 'done'; result?: EntryResult }) => void;
}

export type EntryStatus = 'built' | 'up-to-date' | 'stale' | 'failed';

export interface EntryResult {
  ident: string;
  /** `programs[0]` of the config. */
  where: string;
  status: EntryStatus;
  /** Milliseconds spent on this entry. */
  ms: number;
  /** Why it is stale (check) or was rebuilt. */
  reasons: string[];
  /** Files written (built). */
  outputs: string[];
  /** clang runs. */
  compiled: number;
  /** Advice about what was built (a target left out, an event map without a type). */
  notes?: string[];
  error?: unknown;
}

export interface BuildResult {
  entries: EntryResult[];
  /** False when an entry failed, or (check) is stale. */
  ok: boolean;
  ms: number;
}

/** Builds (or checks) every program of the config. Never throws for one program's failure. */
export async function runBuild(options: BuildOptions): Promise<BuildResult> {
  const started = performance.now();
  const { config } = options;
  const hasher = new FileHasher();
  const limiter = new Limiter(options.jobs ?? defaultJobs());

  // The tools, looked for only when something must be built: given, remembered by a stamp and
  // unchanged since, remembered per user (a new project on a machine that has built before), or
  // found (slow: runs them; throws naming what to install when clang is missing).
  let toolchain = options.toolchain;
  let toolchainFound: Promise<Toolchain> | undefined;
  const tools = async (): Promise<Toolchain> => {
    for (const program of config.programs) {
      if (toolchain) break;
      toolchain = reuseToolchain(readStamp(stampPath(program.outDir, program.ident))?.toolchain);
    }
    toolchain ??= reuseToolchain(readUserToolchain());
    if (toolchain) return toolchain;
    toolchainFound ??= import('../toolchain/discover.js')
      .then((m) => m.findToolchain())
      .then((found) => {
        writeUserToolchain(found);
        return found;
      });
    toolchain = await toolchainFound;
    return toolchain;
  };

  const vmlinuxHeader = config.vmlinux ? join(config.vmlinux.dir, 'vmlinux.h') : undefined;
  if (config.vmlinux && vmlinuxHeader && !existsSync(vmlinuxHeader) && !options.check) {
    if (!config.vmlinux.generate) {
      throw new ConfigError(
        `${config.file}: vmlinux: ${vmlinuxHeader} does not exist and "generate" is false`,
        {
          hint: `run tsbpf vmlinux --out ${vmlinuxHeader}, or set "vmlinux": { "generate": true }`,
        },
      );
    }
    const { generateVmlinux } = await import('../toolchain/vmlinux.js');
    const found = await tools();
    await generateVmlinux({
      out: vmlinuxHeader,
      ...(config.vmlinux.btf ? { btf: config.vmlinux.btf } : {}),
      ...(found.bpftool ? { bpftool: found.bpftool } : {}),
    });
    hasher.forget(vmlinuxHeader);
  }

  const entries = await Promise.all(
    config.programs.map(async (program): Promise<EntryResult> => {
      const t0 = performance.now();
      options.onProgress?.({ ident: program.ident, phase: 'start' });
      const result = await buildOne(program, { ...options, hasher, limiter, tools, vmlinuxHeader });
      result.ms = performance.now() - t0;
      options.onProgress?.({ ident: program.ident, phase: 'done', result });
      return result;
    }),
  );
  const ok = entries.every((e) => e.status === 'built' || e.status === 'up-to-date');
  return { entries, ok, ms: performance.now() - started };
}

interface Shared extends BuildOptions {
  hasher: FileHasher;
  limiter: Limiter;
  tools: () => Promise<Toolchain>;
  vmlinuxHeader: string | undefined;
}

/**
 * What, besides file contents, decides a program's outputs; hashed into the stamp's key. No tool
 * versions: they are the machine's (see stamp.ts), and leaving them out lets an up-to-date
 * program be judged before, and without, looking for clang.
 */
function buildKey(program: ProgramConfig, config: BuildConfig, targets: readonly string[]): string {
  const rel = (path: string) => stampRelative(program.outDir, config.root, path);
  return settingsKey({
    tsbpf: packageVersion(),
    ident: program.ident,
    sources: program.sources.map(rel),
    types: program.types,
    events: program.events,
    // Only when given, so that keys (and committed stamps) of programs without it stay the same.
    ...(Object.keys(program.fieldAs).length > 0 ? { fieldAs: program.fieldAs } : {}),
    cflags: program.cflags,
    targets: resolveTargets(targets).map((t) => t.suffix),
    includeDirs: program.includeDirs.map(rel),
    vmlinux: config.vmlinux ? rel(config.vmlinux.dir) : null,
    embed: program.embed,
    strip: program.strip,
  });
}

async function buildOne(program: ProgramConfig, shared: Shared): Promise<EntryResult> {
  const { config, hasher } = shared;
  const result: EntryResult = {
    ident: program.ident,
    where: program.where,
    status: 'failed',
    ms: 0,
    reasons: [],
    outputs: [],
    compiled: 0,
  };
  try {
    const targets = shared.targets && shared.targets.length > 0 ? shared.targets : program.targets;
    const key = buildKey(program, config, targets);
    const stampFile = stampPath(program.outDir, program.ident);
    const show = (path: string) => {
      const rel = relative(config.root, path);
      return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
    };
    const reasons = staleReasons({ dir: program.outDir, stampFile, key, hasher, show });
    if (shared.vmlinuxHeader && !existsSync(shared.vmlinuxHeader))
      reasons.push(`${shared.vmlinuxHeader} is missing`);
    result.reasons = reasons;
    if (reasons.length === 0 && !shared.force) {
      result.status = 'up-to-date';
      return result;
    }
    if (shared.check) {
      result.status = 'stale';
      return result;
    }

    // Only now are the tools needed: a missing clang fails a stale program, never a fresh one.
    const tools = await shared.tools();
    const { prepare, writeOutputs } = await import('./generate.js');
    sweepTemporaries(program.outDir);
    const prepared = await prepare({
      ident: program.ident,
      outDir: program.outDir,
      sources: program.sources,
      targets,
      cflags: program.cflags,
      includeDirs: program.includeDirs,
      ...(config.vmlinux ? { vmlinuxDir: config.vmlinux.dir } : {}),
      types: program.types,
      events: program.events,
      fieldAs: program.fieldAs,
      embed: program.embed,
      strip: program.strip,
      toolchain: tools,
      cwd: config.root,
      limiter: shared.limiter,
    });
    const rel = (path: string) => stampRelative(program.outDir, config.root, path);
    const stamp: Stamp = { version: stampVersion, key, inputs: {}, outputs: {} };
    for (const input of prepared.inputs) {
      const digest = hasher.hash(input);
      if (digest !== undefined) stamp.inputs[rel(input)] = digest;
    }
    for (const file of prepared.files) stamp.outputs[rel(file.path)] = sha256(file.data);
    stamp.toolchain = { fingerprint: toolFingerprint(tools), tools };
    // The stamp goes last: if anything before it fails, the next build sees a mismatch and rebuilds.
    writeOutputs([...prepared.files, { path: stampFile, data: formatStamp(stamp) }]);
    result.status = 'built';
    result.outputs = prepared.files.map((f) => f.path);
    result.compiled = prepared.compiled;
    if (prepared.notes.length > 0) result.notes = prepared.notes;
    return result;
  } catch (error) {
    result.status = 'failed';
    result.error = error;
    return result;
  }
}
