// A program of two C files with the default targets (bpfel, bpfeb), built by the real CLI on this
// machine, whose bpftool (Debian 12's 7.1, libbpf 1.1) cannot link big-endian objects: the build
// succeeds for bpfel with one note saying why, the loader loads both files' programs, and doctor
// says what the bpftool can do.
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import koffi from 'koffi';
import { beforeAll, describe, expect, it } from 'vitest';
import { bpftoolLinksBigEndian } from '../../src/toolchain/bpftool-link.js';
import { findToolchain } from '../../src/toolchain/discover.js';
import { fixture, importLoader, tempProject, tsbpf } from '../fixtures/gen/helpers.js';
import { vmlinuxDir } from '../helpers/bpf.js';

const libc = koffi.load('libc.so.6');
const getppid = libc.func('int getppid(void)') as () => number;
const getpgid = libc.func('int getpgid(int)') as (pid: number) => number;

interface Linked {
  loadLinkedSpec(): Promise<{
    variables: { targetPid: { set(value: number): void } };
    load(): Promise<
      AsyncDisposable & {
        programs: { onGetppid: { attach(): unknown }; onGetpgid: { attach(): unknown } };
        maps: { hits: { get(i: number): bigint } };
      }
    >;
  }>;
}

let linksBigEndian: boolean;
let bpftoolVersion: string;

beforeAll(async () => {
  const tools = await findToolchain();
  if (!tools.bpftool) throw new Error('this test needs bpftool');
  bpftoolVersion = tools.bpftool.version;
  linksBigEndian = await bpftoolLinksBigEndian(tools.clang, tools.bpftool);
});

describe('several C files with the default targets', () => {
  it('builds, notes a bpfeb it cannot link, and loads both files’ programs', async () => {
    const dir = tempProject('tsbpf-multi-');
    copyFileSync(fixture('link_main.c'), join(dir, 'link_main.c'));
    copyFileSync(fixture('link_util.c'), join(dir, 'link_util.c'));
    writeFileSync(
      join(dir, 'tsbpf.config.json'),
      JSON.stringify({
        includeDirs: [vmlinuxDir()],
        programs: [{ ident: 'linked', sources: ['link_main.c', 'link_util.c'] }],
      }),
    );
    const result = await tsbpf(['build'], dir);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(existsSync(join(dir, 'linked_bpfel.o'))).toBe(true);
    if (linksBigEndian) {
      expect(existsSync(join(dir, 'linked_bpfeb.o'))).toBe(true);
      expect(result.stdout).not.toContain('note:');
    } else {
      // Debian 12: one note naming the bpftool, the object left out, and how to get it.
      expect(existsSync(join(dir, 'linked_bpfeb.o'))).toBe(false);
      const notes = result.stdout.split('\n').filter((l) => l.startsWith('note:'));
      expect(notes).toEqual([
        `note: linked: built for bpfel only: bpftool ${bpftoolVersion} cannot link big-endian objects, so linked_bpfeb.o (for big-endian hosts) was not made; to make it, use a newer bpftool (Debian 13's 7.5 cannot link them either; 7.8 with libbpf 1.8, as in Debian unstable, can)`,
      ]);
      // On a big-endian host the loader says which object is missing and how to make it.
      const loaderText = readFileSync(join(dir, 'linked.ts'), 'utf8');
      expect(loaderText).toContain(
        "throw new NotSupportedError('linked has no linked_bpfeb.o for this big-endian host: it was not built'",
      );
      expect(loaderText).toContain('use a newer bpftool');
      // A second build is up to date: the missing bpfeb object is not a reason to rebuild.
      const again = await tsbpf(['build', '--check'], dir);
      expect(again.code, again.stdout + again.stderr).toBe(0);
    }

    const loader = await importLoader<Linked>(join(dir, 'linked.ts'));
    const spec = await loader.loadLinkedSpec();
    spec.variables.targetPid.set(process.pid);
    await using objs = await spec.load();
    objs.programs.onGetppid.attach();
    objs.programs.onGetpgid.attach();
    for (let i = 0; i < 3; i++) getppid();
    for (let i = 0; i < 2; i++) getpgid(0);
    expect([objs.maps.hits.get(0), objs.maps.hits.get(1)]).toEqual([3n, 2n]);
  });

  it('a target the user chose is kept: bpfeb alone still fails with the bpftool hint', async (ctx) => {
    if (linksBigEndian) ctx.skip('this bpftool links big-endian objects, so nothing fails');
    const dir = tempProject('tsbpf-multi-');
    const result = await tsbpf(
      [
        'gen',
        'linked',
        fixture('link_main.c'),
        fixture('link_util.c'),
        '--target',
        'bpfeb',
        '-I',
        vmlinuxDir(),
      ],
      dir,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('unsupported byte order');
    expect(result.stderr).toContain('7.8 with libbpf 1.8');
  });

  it('doctor says the bpftool version and whether it links big-endian objects', async () => {
    const result = await tsbpf(['doctor', '--json'], process.cwd());
    const report = JSON.parse(result.stdout) as { checks: { id: string; status: string; detail: string }[] };
    const bpftool = report.checks.find((c) => c.id === 'bpftool');
    expect(bpftool?.detail).toMatch(
      new RegExp(
        `^bpftool ${bpftoolVersion.replaceAll('.', '\\.')} \\(libbpf \\d+\\.\\d+\\) at /\\S+; ${linksBigEndian ? 'links' : 'cannot link'} big-endian \\(bpfeb\\) objects`,
      ),
    );
    // Not a warning: single-file programs build for both byte orders, multi-file ones for bpfel.
    expect(bpftool?.status).toBe('ok');
    if (!linksBigEndian) {
      expect(bpftool?.detail).toContain(
        'programs of several C files build for bpfel only (bpftool 7.8 with libbpf 1.8 links both)',
      );
    }
  });
});
