// `tsbpf build` through the real CLI on a temporary project: a first build, a no-op build,
// --check before and after an included header changes, a failed build that keeps the previous
// outputs, package.json config, and config errors.
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { fixture, tempProject, tsbpf } from '../fixtures/gen/helpers.js';
import { vmlinuxDir } from '../helpers/bpf.js';

/** A project with two programs; ring.c includes a local header, common.h. */
function project(): string {
  const dir = tempProject('tsbpf-build-');
  mkdirSync(join(dir, 'src', 'bpf', 'include'), { recursive: true });
  writeFileSync(join(dir, 'src', 'bpf', 'common.h'), '#define RING_EXTRA 0\n');
  const ring = readFileSync(fixture('ring.c'), 'utf8').replace(
    '#include <bpf/bpf_helpers.h>',
    '#include <bpf/bpf_helpers.h>\n#include "common.h"',
  );
  writeFileSync(join(dir, 'src', 'bpf', 'ring.c'), ring);
  cpSync(fixture('readline.c'), join(dir, 'src', 'bpf', 'probe.c'));
  cpSync(join(vmlinuxDir(), 'vmlinux.h'), join(dir, 'src', 'bpf', 'include', 'vmlinux.h'));
  writeFileSync(
    join(dir, 'tsbpf.config.json'),
    `${JSON.stringify(
      {
        vmlinux: { dir: 'src/bpf/include', generate: false },
        programs: [
          {
            ident: 'ring',
            sources: ['src/bpf/ring.c'],
            outDir: 'src/generated',
            events: { events: 'event' },
          },
          { ident: 'probe', source: 'src/bpf/probe.c', outDir: 'src/generated', events: { events: 'event' } },
        ],
      },
      null,
      2,
    )}\n`,
  );
  return dir;
}

interface BuildJson {
  ok: boolean;
  ms: number;
  programs: Array<{
    ident: string;
    status: string;
    ms: number;
    reasons: string[];
    outputs: string[];
    error?: string;
  }>;
}

/** The pids of a live process's children (from /proc; none once it has exited). */
function childrenOf(pid: number): number[] {
  try {
    const text = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    return text === '' ? [] : text.split(' ').map(Number);
  } catch {
    return [];
  }
}

const outputs = ['ring.ts', 'ring_bpfel.o', 'ring_bpfeb.o', 'probe.ts', 'probe_bpfel.o', 'probe_bpfeb.o'];
const snapshot = (dir: string) => outputs.map((f) => readFileSync(join(dir, 'src', 'generated', f)));

describe('tsbpf build', () => {
  let dir: string;

  beforeAll(async () => {
    dir = project();
    const t0 = performance.now();
    const first = await tsbpf(['build', '--json'], dir);
    const wall = Math.round(performance.now() - t0);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    const json = JSON.parse(first.stdout) as BuildJson;
    expect(json.programs.map((p) => [p.ident, p.status])).toEqual([
      ['ring', 'built'],
      ['probe', 'built'],
    ]);
    console.log(`cold build of 2 programs x 2 targets: ${json.ms} ms in the build, ${wall} ms for the CLI`);
  });

  it('writes every output and a stamp beside them', () => {
    for (const file of outputs) expect(existsSync(join(dir, 'src', 'generated', file)), file).toBe(true);
    const stamp = JSON.parse(readFileSync(join(dir, 'src', 'generated', '.ring.tsbpf.json'), 'utf8'));
    expect(Object.keys(stamp.inputs)).toContain('../bpf/common.h');
    expect(Object.keys(stamp.inputs)).toContain('../bpf/ring.c');
    expect(Object.keys(stamp.outputs).sort()).toEqual(['ring.ts', 'ring_bpfeb.o', 'ring_bpfel.o']);
  });

  it('compiles nothing when nothing changed', async () => {
    const before = snapshot(dir);
    const t0 = performance.now();
    const again = await tsbpf(['build', '--json'], dir);
    const wall = Math.round(performance.now() - t0);
    const json = JSON.parse(again.stdout) as BuildJson;
    expect(json.programs.map((p) => p.status)).toEqual(['up-to-date', 'up-to-date']);
    expect(snapshot(dir)).toEqual(before);
    console.log(`no-op build: ${json.ms} ms in the build, ${wall} ms for the whole CLI process`);
  });

  it('--check passes when up to date, and fails naming a changed header', async () => {
    const clean = await tsbpf(['build', '--check'], dir);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/up to date\s+ring/);

    appendFileSync(join(dir, 'src', 'bpf', 'common.h'), '#define RING_MORE 1\n');
    const before = snapshot(dir);
    const stale = await tsbpf(['build', '--check'], dir);
    expect(stale.code).toBe(1);
    expect(stale.stdout).toMatch(/stale\s+ring: src\/bpf\/common\.h changed/);
    expect(stale.stdout).toMatch(/up to date\s+probe/);
    expect(stale.stderr).toContain('stale: ring');
    expect(snapshot(dir)).toEqual(before);

    const rebuilt = JSON.parse((await tsbpf(['build', '--json'], dir)).stdout) as BuildJson;
    expect(rebuilt.programs.map((p) => p.status)).toEqual(['built', 'up-to-date']);
    expect((await tsbpf(['build', '--check'], dir)).code).toBe(0);
  });

  it('--check reports missing and hand-edited outputs', async () => {
    const generated = join(dir, 'src', 'generated', 'probe.ts');
    const text = readFileSync(generated, 'utf8');
    writeFileSync(generated, `${text}// edited\n`);
    const edited = await tsbpf(['build', '--check'], dir);
    expect(edited.code).toBe(1);
    expect(edited.stdout).toContain('src/generated/probe.ts was modified');
    expect((await tsbpf(['build'], dir)).code).toBe(0);
    expect(readFileSync(generated, 'utf8')).toBe(text);
  });

  it('keeps the previous outputs when a build fails', async () => {
    const before = snapshot(dir);
    const source = join(dir, 'src', 'bpf', 'ring.c');
    const good = readFileSync(source, 'utf8');
    writeFileSync(source, `${good}\nint broken( {\n`);
    const failed = await tsbpf(['build', '-j', '1'], dir);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toMatch(/failed\s+ring/);
    expect(failed.stdout).toContain('ring.c');
    expect(snapshot(dir)).toEqual(before);
    const check = await tsbpf(['build', '--check'], dir);
    expect(check.code).toBe(1);
    writeFileSync(source, good);
    // Back to the source the outputs were built from: up to date again without compiling.
    const back = JSON.parse((await tsbpf(['build', '--json'], dir)).stdout) as BuildJson;
    expect(back.programs.map((p) => p.status)).toEqual(['up-to-date', 'up-to-date']);
  });

  it('leaves whole files behind when a build is killed, and the next build completes it', async () => {
    const { spawn } = await import('node:child_process');
    const { cliPath } = await import('../helpers/paths.js');
    const { readObject } = await import('../../src/btf/object.js');
    appendFileSync(join(dir, 'src', 'bpf', 'common.h'), '#define RING_KILLED 1\n');
    const child = spawn(process.execPath, [cliPath, 'build'], { cwd: dir, stdio: 'ignore' });
    const exited = new Promise((r) => child.once('exit', r));
    // Kill it mid-build: as soon as it has started a compiler (or after 5 s, or when it is done).
    const started = Date.now();
    while (child.exitCode === null && child.signalCode === null && Date.now() - started < 5000) {
      if (childrenOf(child.pid!).length > 0) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    child.kill('SIGKILL');
    await exited;
    // Whatever the moment of the kill, every output is a whole file: old or new, never cut short.
    for (const file of outputs.filter((f) => f.endsWith('.o'))) {
      expect(() =>
        readObject(new Uint8Array(readFileSync(join(dir, 'src', 'generated', file)))),
      ).not.toThrow();
    }
    for (const file of outputs.filter((f) => f.endsWith('.ts'))) {
      expect(readFileSync(join(dir, 'src', 'generated', file), 'utf8')).toMatch(/\n}\n$/);
    }
    const next = JSON.parse((await tsbpf(['build', '--json'], dir)).stdout) as BuildJson;
    expect(next.ok).toBe(true);
    expect((await tsbpf(['build', '--check'], dir)).code).toBe(0);
    const { readdirSync } = await import('node:fs');
    expect(readdirSync(join(dir, 'src', 'generated')).filter((f) => f.includes('tsbpf-tmp'))).toEqual([]);
  });

  it('rebuilds when the targets change', async () => {
    const result = JSON.parse(
      (await tsbpf(['build', '--json', '--target', 'bpfel'], dir)).stdout,
    ) as BuildJson;
    expect(result.programs.map((p) => p.error ?? p.status)).toEqual(['built', 'built']);
    expect(result.programs[0]!.reasons).toContain('settings, flags or tsbpf version changed');
  });
});

describe('tsbpf build config', () => {
  it('reads the "tsbpf" key of package.json', async () => {
    const dir = project();
    const config = JSON.parse(readFileSync(join(dir, 'tsbpf.config.json'), 'utf8'));
    config.programs = config.programs.slice(0, 1);
    config.targets = ['bpfel'];
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'x', type: 'module', tsbpf: config }));
    writeFileSync(join(dir, 'tsbpf.config.json'), '');
    const result = await tsbpf(['build', '--config', 'package.json'], dir);
    expect(result.stderr).toBe('');
    expect(result.stdout).toMatch(/built\s+ring/);
    expect(existsSync(join(dir, 'src', 'generated', 'ring_bpfeb.o'))).toBe(false);
  });

  it('names the file and the key of a config error', async () => {
    const dir = tempProject();
    writeFileSync(
      join(dir, 'tsbpf.config.json'),
      JSON.stringify({ programs: [{ ident: 'x', sources: ['a.c'], cflag: [] }] }),
    );
    const result = await tsbpf(['build'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('tsbpf.config.json: programs[0].cflag: unknown key');
    expect(result.stderr).toContain('did you mean "cflags"?');
  });

  it('says how to start when there is no config', async () => {
    const dir = tempProject();
    const result = await tsbpf(['build'], dir);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('no tsbpf.config.json');
    expect(result.stderr).toContain('hint:');
  });

  it('generates vmlinux.h first when the config asks for it', async () => {
    const dir = project();
    const config = JSON.parse(readFileSync(join(dir, 'tsbpf.config.json'), 'utf8'));
    config.vmlinux = { dir: 'gen-include', generate: true };
    config.programs = config.programs.slice(1);
    config.targets = ['bpfel'];
    writeFileSync(join(dir, 'tsbpf.config.json'), JSON.stringify(config));
    const result = await tsbpf(['build'], dir);
    expect(result.stderr).toBe('');
    expect(readFileSync(join(dir, 'gen-include', 'vmlinux.h'), 'utf8')).toContain('struct task_struct {');
    expect(result.stdout).toMatch(/built\s+probe/);
  });
});
