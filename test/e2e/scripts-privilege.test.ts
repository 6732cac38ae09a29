// The README's commands (`bash scripts/demo`, `bash scripts/test`) and scripts/setup need root.
// Their first step (scripts/as-root) runs for real here: as root without sudo they go on; as
// another user without sudo they exit 1 with one line saying what to do; as another user with a
// sudo on PATH they run themselves again through it. TSBPF_PRIVILEGE_ONLY=1 stops each script
// right after that step, so nothing is installed or built. The sudo here is a stand-in that
// prints its arguments: the test checks what the script asks sudo to run.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot, tempDir } from '../helpers/paths.js';

const scripts = ['setup', 'demo', 'test'];
const isRoot = process.getuid?.() === 0;

/** A copy of scripts/ that another user can read (the checkout may sit in a private home). */
function copyScripts(): string {
  const root = tempDir('tsbpf-privilege-');
  chmodSync(root, 0o755);
  mkdirSync(join(root, 'scripts'), { mode: 0o755 });
  for (const name of [...scripts, 'as-root']) {
    copyFileSync(join(repoRoot, 'scripts', name), join(root, 'scripts', name));
    chmodSync(join(root, 'scripts', name), 0o755);
  }
  return root;
}

/** A PATH folder with the few tools the scripts run before the privilege step, and no sudo. */
function toolsWithoutSudo(root: string): string {
  const bin = join(root, 'bin');
  mkdirSync(bin, { mode: 0o755 });
  for (const tool of ['bash', 'env', 'id', 'dirname', 'basename']) {
    const found = spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    symlinkSync(found, join(bin, tool));
  }
  return bin;
}

function fakeSudo(root: string): string {
  const bin = join(root, 'sudo-bin');
  mkdirSync(bin, { mode: 0o755 });
  writeFileSync(join(bin, 'sudo'), '#!/bin/sh\nprintf "sudo-arg:%s\\n" "$@"\n', { mode: 0o755 });
  return bin;
}

function run(root: string, script: string, path: string, uid: number, args: string[] = []) {
  const result = spawnSync('/bin/bash', [join(root, 'scripts', script), ...args], {
    cwd: root,
    encoding: 'utf8',
    uid,
    gid: uid === 0 ? 0 : 65534,
    env: { PATH: path, HOME: '/', TSBPF_PRIVILEGE_ONLY: '1' },
    timeout: 30_000,
  });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.skipIf(!isRoot).each(scripts)('scripts/%s', (script) => {
  const root = copyScripts();
  const tools = toolsWithoutSudo(root);

  it('as root without sudo installed: goes on', () => {
    const result = run(root, script, tools, 0);
    expect(result, result.stderr).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toBe(`scripts/${script}: running as root\n`);
  });

  it('as another user without sudo: exits 1 with one line saying what to do', () => {
    const result = run(root, script, tools, 65534);
    expect(result.code, result.stderr).toBe(1);
    expect(result.stdout).toBe('');
    const path = join(root, 'scripts', script);
    expect(result.stderr).toBe(
      `scripts/${script}: needs root and sudo is not installed; run it as root: su -c 'bash ${path}'\n`,
    );
  });

  it('as another user with sudo: runs itself again through sudo, keeping PATH and arguments', () => {
    const path = `${fakeSudo(root)}:${tools}`;
    const result = run(root, script, path, 65534, ['one', 'two words']);
    expect(result.code, result.stderr).toBe(0);
    const sudoArgs = result.stdout
      .split('\n')
      .filter((line) => line.startsWith('sudo-arg:'))
      .map((line) => line.slice('sudo-arg:'.length));
    expect(sudoArgs).toEqual([
      '--',
      'env',
      `PATH=${path}`,
      'bash',
      join(root, 'scripts', script),
      'one',
      'two words',
    ]);
  });
});
