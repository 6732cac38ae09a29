// Things named like tsbpf's temporaries that are not files it left (a folder, a symlink to a file
// elsewhere, a fifo, with the pid of a dead process in the name) are not its to remove: `tsbpf
// vmlinux` and `tsbpf gen` write their outputs beside them and leave them as they were.
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, tempProject, tsbpf, vmlinuxArgs } from '../fixtures/gen/helpers.js';
import { tempDir } from '../helpers/paths.js';

/** Plants a folder, a symlink to a file outside and a fifo, each named like a dead writer's temporary of `output`. */
function plant(dir: string, output: string) {
  const dead = spawnSync(process.execPath, ['-e', '']).pid;
  const outside = join(tempDir('tsbpf-sweep-outside-'), 'precious');
  writeFileSync(outside, 'keep');
  const names = {
    folder: `.${output}.tsbpf-tmp-${dead}-deadbeef`,
    link: `.${output}.tsbpf-tmp-${dead}-cafe`,
    fifo: `.${output}.tsbpf-tmp-${dead}-f1f0`,
  };
  mkdirSync(join(dir, names.folder));
  writeFileSync(join(dir, names.folder, 'inside'), 'x');
  symlinkSync(outside, join(dir, names.link));
  expect(spawnSync('mkfifo', [join(dir, names.fifo)]).status).toBe(0);
  return {
    untouched() {
      expect(readdirSync(join(dir, names.folder))).toEqual(['inside']);
      expect(lstatSync(join(dir, names.link)).isSymbolicLink()).toBe(true);
      expect(readFileSync(outside, 'utf8')).toBe('keep');
      expect(lstatSync(join(dir, names.fifo)).isFIFO()).toBe(true);
    },
  };
}

describe('temporary-named things that are not tsbpf temporaries', () => {
  it('are left alone by tsbpf vmlinux, which still writes vmlinux.h', async () => {
    const dir = tempDir('tsbpf-sweep-');
    const planted = plant(dir, 'vmlinux.h');
    const result = await tsbpf(['vmlinux', '--out', join(dir, 'vmlinux.h')], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('internal error');
    expect(readFileSync(join(dir, 'vmlinux.h'), 'utf8')).toContain('struct task_struct');
    planted.untouched();
  });

  it('are left alone by tsbpf gen, which still writes the loader and objects', async () => {
    const dir = tempProject('tsbpf-sweep-gen-');
    const out = join(dir, 'out');
    mkdirSync(out);
    const planted = [plant(out, 'ring.ts'), plant(out, 'ring_bpfel.o')];
    const result = await tsbpf(['gen', 'ring', fixture('ring.c'), '--out-dir', out, ...vmlinuxArgs()], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).not.toContain('internal error');
    for (const file of ['ring.ts', 'ring_bpfel.o', 'ring_bpfeb.o'])
      expect(existsSync(join(out, file)), file).toBe(true);
    for (const p of planted) p.untouched();
  });
});
