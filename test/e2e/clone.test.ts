// The bpf2go workflow with a created project: build it, commit everything `tsbpf build` wrote,
// clone it elsewhere and, on a PATH with node and nothing else (no clang, bpftool, llvm-strip,
// as on a CI runner or a teammate's laptop), `tsbpf build --check` and `tsbpf build` find it up
// to date. A changed C source is then stale for --check, and a build without clang fails in one
// line naming clang and how to install it. Needs clang, bpftool and git for the first build.

import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cliPath, repoRoot, tempDir } from '../helpers/paths.js';

const createPath = join(repoRoot, 'dist', 'create.js');

/** tsbpf in a project as `npm install` of a local tsbpf would put it: a link, and its bin. */
function linkTsbpf(project: string): void {
  mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(repoRoot, join(project, 'node_modules', 'tsbpf'), 'dir');
  symlinkSync('../tsbpf/dist/cli.js', join(project, 'node_modules', '.bin', 'tsbpf'));
}

/** Runs the project's `tsbpf` (node_modules/.bin, as npx does) with only `path` on PATH. */
function tsbpf(cwd: string, args: string[], path: string) {
  const result = spawnSync(join(cwd, 'node_modules', '.bin', 'tsbpf'), args, {
    cwd,
    encoding: 'utf8',
    env: { PATH: path, HOME: process.env.HOME ?? '/root', NO_COLOR: '1' },
  });
  return {
    code: result.status,
    stdout: result.stdout,
    stderr: result.stderr,
    all: result.stdout + result.stderr,
  };
}

const git = (cwd: string, args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], {
    cwd,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'pipe'],
  });

describe('a clone of a built project', () => {
  it('checks and builds without clang while fresh; a changed source is stale and needs clang', () => {
    const work = tempDir('tsbpf-clone-');
    const project = join(work, 'probe');
    const created = spawnSync(process.execPath, [createPath, project, '--type', 'tracepoint'], {
      encoding: 'utf8',
      env: { ...process.env, npm_config_user_agent: '' },
    });
    expect(created.status, created.stderr).toBe(0);
    expect(readFileSync(join(project, '.github', 'workflows', 'ci.yml'), 'utf8')).toContain(
      'npx tsbpf build --check',
    );
    linkTsbpf(project);
    const built = spawnSync(process.execPath, [cliPath, 'build'], { cwd: project, encoding: 'utf8' });
    expect(built.status, built.stdout + built.stderr).toBe(0);

    // Commit what the template's .gitignore lets through, as a user would with `git add .`.
    git(project, ['init', '-q']);
    git(project, ['add', '.']);
    git(project, ['commit', '-q', '-m', 'probe']);
    const committed = git(project, ['ls-files']).split('\n');
    expect(committed).toEqual(
      expect.arrayContaining(['src/execsnoop.ts', 'src/.execsnoop.tsbpf.json', 'src/vmlinux.h']),
    );

    const clone = join(work, 'clone');
    git(work, ['clone', '-q', project, clone]);
    linkTsbpf(clone);
    // A PATH with node only.
    const bin = join(work, 'bin');
    mkdirSync(bin);
    symlinkSync(process.execPath, join(bin, 'node'));
    const path = `${join(clone, 'node_modules', '.bin')}:${bin}`;

    const check = tsbpf(clone, ['build', '--check'], path);
    expect(check.code, check.all).toBe(0);
    expect(check.stdout).toMatch(/up to date\s+execsnoop/);
    const build = tsbpf(clone, ['build'], path);
    expect(build.code, build.all).toBe(0);
    expect(build.stdout).toMatch(/up to date\s+execsnoop/);

    // Touched (a checkout, an editor's save): judged by content, still fresh.
    const source = join(clone, 'src', 'execsnoop.bpf.c');
    utimesSync(source, new Date(), new Date());
    expect(tsbpf(clone, ['build', '--check'], path).code).toBe(0);

    appendFileSync(source, '\n// changed\n');
    const stale = tsbpf(clone, ['build', '--check'], path);
    expect(stale.code, stale.all).toBe(1);
    expect(stale.stdout).toMatch(/stale\s+execsnoop: src\/execsnoop\.bpf\.c changed/);
    expect(stale.stderr).toContain('stale: execsnoop; run tsbpf build and commit the outputs');

    const noClang = tsbpf(clone, ['build'], path);
    expect(noClang.code, noClang.all).toBe(1);
    const errors = noClang.all.split('\n').filter((l) => /clang/.test(l));
    expect(errors[0]).toMatch(/clang was not found on PATH/);
    expect(noClang.all).toMatch(/hint: install clang and llvm: apt-get install clang llvm/);
    expect(noClang.all).not.toMatch(/\n\s+at /);
    // Nothing was written.
    expect(git(clone, ['status', '--porcelain'])).toBe(' M src/execsnoop.bpf.c\n');
    expect(existsSync(join(clone, 'dist'))).toBe(false);
  }, 300_000);
});
