// What `tsbpf gen` and `tsbpf build` do with parsed arguments: validate them, run the library,
// and report. A line per program (built / up to date / stale / failed, with its time); on a
// terminal a progress line shows what is still running.

import { relative } from 'node:path';
import { describeError, UsageError } from '../errors.js';
import { bold, dim, green, isInteractive, red, yellow } from '../output.js';
import { resolveTargets } from '../toolchain/targets.js';
import { type EntryResult, runBuild } from './build.js';
import { loadConfig } from './config.js';
import { parseFieldAs } from './field-as.js';
import { interruptible } from './interrupt.js';

export interface GenCommandOptions {
  ident: string;
  sources: string[];
  objfiles: string[];
  outDir?: string | undefined;
  types: string[];
  /** MAP=TYPE */
  events: string[];
  /** TYPE.FIELD=string|strings|bytes|number */
  fieldAs?: string[];
  targets: string[];
  includeDirs: string[];
  embed: boolean;
  strip: boolean;
  cflags: string[];
}

/** Parses `--event MAP=TYPE` flags. */
export function parseEvents(flags: readonly string[]): Record<string, string> {
  const events: Record<string, string> = {};
  for (const flag of flags) {
    const match =
      /^\s*([A-Za-z_][A-Za-z0-9_]*)\s*=\s*((?:(?:struct|union)\s+)?[A-Za-z_][A-Za-z0-9_]*)\s*$/.exec(flag);
    if (!match) {
      throw new UsageError(`--event ${flag}: expected MAP=TYPE`, {
        hint: 'for example --event events=event',
      });
    }
    events[match[1]!] = match[2]!;
  }
  return events;
}

const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel.startsWith('..') ? path : rel;
};

export async function runGen(options: GenCommandOptions): Promise<void> {
  const events = parseEvents(options.events);
  const fieldAs = parseFieldAs(options.fieldAs ?? []);
  const targets = options.targets.flatMap((t) => t.split(',')).filter((t) => t.trim() !== '');
  const t0 = performance.now();
  const { generate } = await import('./generate.js');
  const result = await generate({
    ident: options.ident,
    sources: options.sources,
    objfiles: options.objfiles,
    ...(options.outDir === undefined ? {} : { outDir: options.outDir }),
    types: options.types,
    events,
    fieldAs,
    targets,
    includeDirs: options.includeDirs,
    embed: options.embed,
    strip: options.strip,
    cflags: options.cflags,
  });
  const ms = Math.round(performance.now() - t0);
  for (const file of result.files) process.stdout.write(`${green('wrote')} ${shown(file.path)}\n`);
  for (const note of result.notes) process.stdout.write(`${yellow('note:')} ${note}\n`);
  process.stdout.write(dim(`${result.ident}: ${result.files.length} files in ${ms} ms\n`));
}

export interface BuildCommandOptions {
  check: boolean;
  config?: string | undefined;
  targets: string[];
  jobs?: number | undefined;
  force: boolean;
  json: boolean;
}

function line(entry: EntryResult): string {
  const ms = `${Math.round(entry.ms)} ms`;
  switch (entry.status) {
    case 'built':
      return `${green('built')}      ${bold(entry.ident)} ${dim(`(${ms})`)}`;
    case 'up-to-date':
      return `${dim('up to date')} ${entry.ident} ${dim(`(${ms})`)}`;
    case 'stale':
      return `${yellow('stale')}      ${bold(entry.ident)}: ${entry.reasons.join('; ')}`;
    case 'failed':
      return `${red('failed')}     ${bold(entry.ident)} ${dim(`(${ms})`)}\n${indent(describeError(entry.error))}`;
  }
}

const indent = (text: string) =>
  text
    .split('\n')
    .map((l) => `  ${l}`)
    .join('\n');

/** Runs `tsbpf build`; false when something failed or (with --check) is stale. */
export async function runBuildCommand(options: BuildCommandOptions): Promise<boolean> {
  const config = loadConfig(options.config === undefined ? {} : { file: options.config });
  if (options.jobs !== undefined && (!Number.isInteger(options.jobs) || options.jobs < 1)) {
    throw new UsageError(`--jobs ${options.jobs}: expected a whole number of 1 or more`);
  }
  const targets = options.targets.flatMap((t) => t.split(',')).filter((t) => t.trim() !== '');
  // A bad --target is one usage error, not a failure of every program.
  if (targets.length > 0) resolveTargets(targets);
  // Which config ran: a build runs the compiler flags it gives, so the user should see whose.
  if (!options.json) process.stdout.write(`${dim(`config ${shown(config.file)}`)}\n`);
  const progress = !options.json && isInteractive();
  const running = new Set<string>();
  const status = () => {
    if (!progress) return;
    process.stdout.write(`\r\u001b[2K${running.size > 0 ? dim(`building ${[...running].join(', ')}…`) : ''}`);
  };
  const stopped = `${progress ? '\r\u001b[2K' : ''}${red('interrupted:', process.stderr)} build stopped; outputs left as they were`;
  const result = await interruptible(stopped, () =>
    runBuild({
      config,
      check: options.check,
      force: options.force,
      targets,
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
      onProgress: ({ ident, phase, result: entry }) => {
        if (phase === 'start') running.add(ident);
        else running.delete(ident);
        if (options.json) return;
        if (entry) {
          if (progress) process.stdout.write('\r\u001b[2K');
          process.stdout.write(`${line(entry)}\n`);
          for (const note of entry.notes ?? []) process.stdout.write(`${yellow('note:')} ${note}\n`);
        }
        status();
      },
    }),
  );
  if (options.json) {
    const json = {
      ok: result.ok,
      ms: Math.round(result.ms),
      config: config.file,
      programs: result.entries.map((e) => ({
        ident: e.ident,
        status: e.status,
        ms: Math.round(e.ms),
        reasons: e.reasons,
        outputs: e.outputs,
        ...(e.notes === undefined ? {} : { notes: e.notes }),
        ...(e.error === undefined ? {} : { error: describeError(e.error) }),
      })),
    };
    process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
    return result.ok;
  }
  if (options.check && !result.ok) {
    const stale = result.entries.filter((e) => e.status === 'stale').map((e) => e.ident);
    if (stale.length > 0) {
      process.stderr.write(
        `${red('stale:', process.stderr)} ${stale.join(', ')}; run tsbpf build and commit the outputs\n`,
      );
    }
  }
  return result.ok;
}

export interface WatchCommandOptions {
  config?: string | undefined;
  targets: string[];
  jobs?: number | undefined;
}

/**
 * Runs `tsbpf build --watch` until SIGINT or SIGTERM: a line per program built or failed (with
 * the error) on every rebuild, and the build goes on watching. Resolves true when stopped.
 */
export async function runWatchCommand(options: WatchCommandOptions): Promise<boolean> {
  if (options.jobs !== undefined && (!Number.isInteger(options.jobs) || options.jobs < 1)) {
    throw new UsageError(`--jobs ${options.jobs}: expected a whole number of 1 or more`);
  }
  const targets = options.targets.flatMap((t) => t.split(',')).filter((t) => t.trim() !== '');
  if (targets.length > 0) resolveTargets(targets);
  // A bad config at the start is the user's error now, as for a plain build; later ones are
  // reported by the watcher, which keeps going.
  const config = loadConfig(options.config === undefined ? {} : { file: options.config });
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const { watchBuild } = await import('./watch.js');
  process.stdout.write(`${dim(`config ${shown(config.file)}`)}\n`);
  let first = true;
  try {
    await watchBuild({
      configFile: config.file,
      targets,
      ...(options.jobs === undefined ? {} : { jobs: options.jobs }),
      signal: stop.signal,
      onBuild: ({ changed, result, error }) => {
        if (stop.signal.aborted) return;
        const why = changed.length > 0 ? dim(` (${changed.map(shown).join(', ')} changed)`) : '';
        if (error !== undefined) {
          process.stdout.write(`${red('error')}      ${describeError(error)}${why}\n`);
        } else if (result) {
          const done = result.entries.filter((e) => e.status !== 'up-to-date');
          if (done.length === 0) process.stdout.write(`${dim(`up to date${why}`)}\n`);
          for (const entry of done)
            process.stdout.write(`${line(entry)}${entry.status === 'built' ? why : ''}\n`);
        }
        if (first) process.stdout.write(`${dim('watching for changes (Ctrl-C to stop)')}\n`);
        first = false;
      },
    });
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.stdout.write(`${dim('stopped watching')}\n`);
  return true;
}
