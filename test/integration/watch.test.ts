// `tsbpf build --watch` and Ctrl-C: the watcher as a library (watchBuild) on a real project,
// rebuilding for a changed source, an included header and the config, reporting a compile error
// and going on; the CLI stopped by SIGINT (exit 0); and a plain build interrupted by SIGINT while
// clang runs (exit 130, one line, no scratch folder or temporary left).
import { spawn } from 'node:child_process';
import { appendFileSync, cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { WatchEvent } from '../../src/build/watch.js';
import { watchBuild } from '../../src/build/watch.js';
import { fixture, tempProject } from '../fixtures/gen/helpers.js';
import { vmlinuxDir } from '../helpers/bpf.js';
import { cliPath, tempDir } from '../helpers/paths.js';

/** A one-program project: src/ring.c includes src/common.h; bpfel only, to keep builds short. */
function project(): string {
  const dir = tempProject('tsbpf-watch-');
  mkdirSync(join(dir, 'src', 'include'), { recursive: true });
  writeFileSync(join(dir, 'src', 'common.h'), '#define RING_EXTRA 0\n');
  const ring = readFileSync(fixture('ring.c'), 'utf8').replace(
    '#include <bpf/bpf_helpers.h>',
    '#include <bpf/bpf_helpers.h>\n#include "common.h"',
  );
  writeFileSync(join(dir, 'src', 'ring.c'), ring);
  cpSync(join(vmlinuxDir(), 'vmlinux.h'), join(dir, 'src', 'include', 'vmlinux.h'));
  writeConfig(dir, ['bpfel']);
  return dir;
}

function writeConfig(dir: string, targets: string[]): void {
  const config = {
    vmlinux: { dir: 'src/include', generate: false },
    targets,
    programs: [{ ident: 'ring', sources: ['src/ring.c'], outDir: 'src/gen', events: { events: 'event' } }],
  };
  writeFileSync(join(dir, 'tsbpf.config.json'), `${JSON.stringify(config, null, 2)}\n`);
}

/** Events of a running watcher, and a way to wait for the next one. */
function recorder() {
  const events: WatchEvent[] = [];
  let wake: (() => void) | undefined;
  return {
    events,
    onBuild: (event: WatchEvent) => {
      events.push(event);
      wake?.();
    },
    async next(count: number, timeout = 30_000): Promise<WatchEvent> {
      const until = Date.now() + timeout;
      while (events.length < count) {
        if (Date.now() > until) throw new Error(`no build ${count} after ${timeout} ms`);
        await new Promise<void>((r) => {
          wake = r;
          setTimeout(r, 200);
        });
      }
      return events[count - 1]!;
    },
  };
}

const statuses = (event: WatchEvent) => event.result?.entries.map((e) => e.status);

describe('watchBuild', () => {
  it('rebuilds on a source, a header and the config; reports errors and keeps watching', async () => {
    const dir = project();
    const out = join(dir, 'src', 'gen');
    const stop = new AbortController();
    const seen = recorder();
    const cwd = process.cwd();
    const watching = watchBuild({
      configFile: join(dir, 'tsbpf.config.json'),
      debounceMs: 50,
      signal: stop.signal,
      onBuild: seen.onBuild,
    });
    try {
      const first = await seen.next(1, 60_000);
      expect(statuses(first)).toEqual(['built']);
      expect(first.changed).toEqual([]);
      const before = readFileSync(join(out, 'ring.ts'), 'utf8');

      // A source: a new constant, so the loader changes.
      const source = join(dir, 'src', 'ring.c');
      appendFileSync(source, '\nvolatile const int watched_source = 1;\n');
      const second = await seen.next(2);
      expect(statuses(second)).toEqual(['built']);
      expect(second.changed).toEqual([source]);
      expect(readFileSync(join(out, 'ring.ts'), 'utf8')).not.toBe(before);
      expect(readFileSync(join(out, 'ring.ts'), 'utf8')).toMatch(/watchedSource/);

      // An included header (known from the depfile the first build recorded).
      const header = join(dir, 'src', 'common.h');
      appendFileSync(header, '#define RING_MORE 1\n');
      const third = await seen.next(3);
      expect(third.changed).toEqual([header]);
      expect(statuses(third)).toEqual(['built']);

      // The config: a second target means a second object.
      writeConfig(dir, ['bpfel', 'bpfeb']);
      const fourth = await seen.next(4);
      expect(fourth.changed).toEqual([join(dir, 'tsbpf.config.json')]);
      expect(statuses(fourth)).toEqual(['built']);
      expect(readdirSync(out)).toContain('ring_bpfeb.o');

      // A compile error is reported as a failed entry; the watcher goes on and recovers.
      const good = readFileSync(source, 'utf8');
      writeFileSync(source, `${good}\nint broken( {\n`);
      const fifth = await seen.next(5);
      expect(statuses(fifth)).toEqual(['failed']);
      expect(String((fifth.result!.entries[0]!.error as Error).message)).toMatch(/expected/);
      writeFileSync(source, `${good}\nvolatile const int watched_again = 2;\n`);
      const sixth = await seen.next(6);
      expect(statuses(sixth)).toEqual(['built']);
      expect(readFileSync(join(out, 'ring.ts'), 'utf8')).toMatch(/watchedAgain/);

      // A broken config is an error event, not the end of the watch.
      writeFileSync(join(dir, 'tsbpf.config.json'), '{ "programs": [ }');
      const seventh = await seen.next(7);
      expect(seventh.error).toBeDefined();
      writeConfig(dir, ['bpfel']);
      const eighth = await seen.next(8);
      expect(statuses(eighth)).toEqual(['built']);
    } finally {
      stop.abort();
      await watching;
    }
    expect(process.cwd()).toBe(cwd);
  }, 180_000);
});

/** Runs the CLI in `dir`; resolves with its exit code and output once it has exited. */
function start(args: string[], dir: string, env: NodeJS.ProcessEnv = {}) {
  const child = spawn(process.execPath, [cliPath, ...args], {
    cwd: dir,
    env: { ...process.env, NO_COLOR: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return { child, exited, output: () => ({ stdout, stderr }) };
}

async function waitFor(test: () => boolean, timeout = 60_000): Promise<void> {
  const until = Date.now() + timeout;
  while (!test()) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** The pids of a live process's children (from /proc). */
function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(' ').map(Number);
  } catch {
    return [];
  }
}

describe('tsbpf build --watch (CLI)', () => {
  it('prints a line per rebuild and exits 0 on SIGINT', async () => {
    const dir = project();
    const run = start(['build', '--watch'], dir);
    await waitFor(() => run.output().stdout.includes('watching for changes'));
    expect(run.output().stdout).toMatch(/built\s+ring/);
    appendFileSync(join(dir, 'src', 'common.h'), '#define RING_CLI 1\n');
    await waitFor(() => /built\s+ring .*\(src\/common\.h changed\)/.test(run.output().stdout));
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(0);
    expect(run.output().stdout).toContain('stopped watching');
    expect(run.output().stderr).toBe('');
  }, 120_000);
});

describe('Ctrl-C during tsbpf build', () => {
  it('stops clang, removes its scratch folder and temporaries, says so in one line, exits 130', async () => {
    const dir = project();
    writeConfig(dir, ['bpfel', 'bpfeb']);
    const tmp = tempDir('tsbpf-tmpdir-');
    const run = start(['build', '-j', '1'], dir, { TMPDIR: tmp });
    // SIGINT once a compiler runs (the scratch folder exists by then).
    const scratch = () => readdirSync(tmp).filter((n) => n.startsWith('tsbpf-gen-'));
    await waitFor(
      () => (childrenOf(run.child.pid!).length > 0 && scratch().length > 0) || run.child.exitCode !== null,
    );
    expect(run.child.exitCode).toBeNull();
    expect(scratch()).toHaveLength(1);
    const compilers = childrenOf(run.child.pid!);
    run.child.kill('SIGINT');
    expect(await run.exited).toBe(130);
    const { stderr } = run.output();
    expect(stderr.trim().split('\n')).toEqual(['interrupted: build stopped; outputs left as they were']);
    expect(readdirSync(tmp)).toEqual([]);
    const left = readdirSync(join(dir, 'src'), { recursive: true }).map(String);
    expect(left.filter((n) => n.includes('tsbpf-tmp') || n.endsWith('.tmp'))).toEqual([]);
    // No compiler outlives the build.
    for (const pid of compilers) expect(existsPid(pid), `pid ${pid}`).toBe(false);
  }, 120_000);
});

function existsPid(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}
