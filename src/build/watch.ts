// `tsbpf build --watch` as a library: build, then rebuild whenever a file the build read changes
// (the config, every C source, and the headers each program's stamp recorded from clang's
// depfile), through runBuild, so unchanged programs stay cached. Changes are debounced (an editor's
// save is several events) and never overlap a build: one arriving mid-build queues one more.
// Folders are watched rather than files, since editors often save by renaming a new file over
// the old one, which a watch on the old file would miss.

import { type FSWatcher, watch } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import type { BuildOptions, BuildResult } from './build.js';
import { runBuild } from './build.js';
import { type BuildConfig, loadConfig } from './config.js';
import { readStamp, stampPath } from './stamp.js';

export interface WatchOptions extends Omit<BuildOptions, 'config' | 'check'> {
  /** The config file (default: found from the working directory, as `tsbpf build` does). */
  configFile?: string | undefined;
  /** Quiet time after the last change before rebuilding (default 100 ms). */
  debounceMs?: number;
  /** Stops watching; the promise of watchBuild then resolves. */
  signal: AbortSignal;
  /** After each build: its result, or the error that kept it from starting (a bad config). */
  onBuild: (event: WatchEvent) => void;
}

export interface WatchEvent {
  /** The files whose change started this build (empty for the first). */
  changed: string[];
  result?: BuildResult;
  error?: unknown;
}

/** The files a config's builds depend on, as far as its stamps know (absolute paths). */
export function watchedFiles(config: BuildConfig): Set<string> {
  const files = new Set<string>([config.file]);
  if (config.vmlinux) files.add(join(config.vmlinux.dir, 'vmlinux.h'));
  for (const program of config.programs) {
    for (const source of program.sources) files.add(source);
    const stamp = readStamp(stampPath(program.outDir, program.ident));
    // Relative names are the project's own headers; absolute ones the machine's, not judged.
    for (const input of Object.keys(stamp?.inputs ?? {})) {
      if (!isAbsolute(input)) files.add(resolve(program.outDir, input));
    }
  }
  return files;
}

/** Builds, then rebuilds on every change until `signal` aborts. Never rejects for a failed build. */
export async function watchBuild(options: WatchOptions): Promise<void> {
  const { signal, onBuild } = options;
  const debounceMs = options.debounceMs ?? 100;
  const watchers = new Map<string, FSWatcher>();
  let files = new Set<string>();
  let configFile = options.configFile === undefined ? undefined : resolve(options.configFile);
  const changed = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  let building: Promise<void> | undefined;
  let again = false;

  const rewatch = () => {
    const dirs = new Set([...files].map((f) => dirname(f)));
    for (const [dir, watcher] of watchers) {
      if (dirs.has(dir)) continue;
      watcher.close();
      watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, (_event, name) => {
          // No name (rare, some filesystems): any watched file of the folder may have changed.
          const hit =
            name === null ? [...files].filter((f) => dirname(f) === dir) : [join(dir, String(name))];
          for (const file of hit) if (files.has(file)) changed.add(file);
          if (changed.size > 0) schedule();
        });
        watcher.on('error', () => watchers.delete(dir));
        watchers.set(dir, watcher);
      } catch {
        // A folder that does not exist yet (vmlinux.h's before its first build): nothing to see.
      }
    }
  };

  const build = async (trigger: string[]) => {
    let config: BuildConfig;
    try {
      config = loadConfig(configFile === undefined ? {} : { file: configFile });
      configFile = config.file;
    } catch (error) {
      // A config being edited may be invalid for a while: report it, keep watching it.
      if (configFile !== undefined) files = new Set([...files, configFile]);
      rewatch();
      onBuild({ changed: trigger, error });
      return;
    }
    const result = await runBuild({ ...options, config });
    files = watchedFiles(config);
    rewatch();
    onBuild({ changed: trigger, result });
  };

  // The changes seen so far start the next build; those seen during it start one more.
  const run = (first = false) => {
    if (building) {
      again = true;
      return;
    }
    const trigger = first ? [] : [...changed].sort();
    changed.clear();
    building = build(trigger).finally(() => {
      building = undefined;
      if (again && !signal.aborted) {
        again = false;
        run();
      }
    });
  };

  function schedule() {
    if (signal.aborted) return;
    clearTimeout(timer);
    timer = setTimeout(() => run(), debounceMs);
  }

  const stopped = new Promise<void>((done) => {
    if (signal.aborted) done();
    signal.addEventListener('abort', () => done(), { once: true });
  });
  run(true);
  await stopped;
  clearTimeout(timer);
  for (const watcher of watchers.values()) watcher.close();
  watchers.clear();
  // A build in progress finishes writing (its outputs are replaced atomically) before we return.
  await building;
}
