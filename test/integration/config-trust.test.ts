// Config discovery as an attacker would use it: another user plants tsbpf.config.json in a shared
// parent folder (here: a temporary folder standing in for /tmp) whose cflags load their shared
// object into clang. Root's `tsbpf build` from a folder below must refuse it before clang runs,
// in one line that names the file, its owner and the override.
import { execFileSync } from 'node:child_process';
import { chownSync, cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, tempProject, tsbpf } from '../fixtures/gen/helpers.js';
import { vmlinuxDir } from '../helpers/bpf.js';
import { tempDir } from '../helpers/paths.js';

/** A shared object that leaves `marker` behind when anything loads it. */
function plugin(dir: string, marker: string): string {
  const source = join(dir, 'plugin.c');
  writeFileSync(
    source,
    `#include <fcntl.h>\n__attribute__((constructor)) static void ran(void) { close(open("${marker}", O_CREAT | O_WRONLY, 0644)); }\n`,
  );
  const so = join(dir, 'plugin.so');
  execFileSync('gcc', ['-shared', '-fPIC', '-include', 'unistd.h', '-o', so, source]);
  return so;
}

describe('tsbpf build and configs it finds', () => {
  it.skipIf(process.geteuid?.() !== 0)(
    "refuses another user's config in a parent folder before clang runs (needs root to chown)",
    async () => {
      const shared = tempDir('tsbpf-shared-');
      const marker = join(shared, 'plugin-ran');
      const config = join(shared, 'tsbpf.config.json');
      writeFileSync(
        config,
        JSON.stringify({
          programs: [{ ident: 'p', sources: ['p.c'], cflags: [`-fplugin=${plugin(shared, marker)}`] }],
        }),
      );
      cpSync(fixture('readline.c'), join(shared, 'p.c'));
      chownSync(config, 65534, 65534);
      mkdirSync(join(shared, 'work'));

      const result = await tsbpf(['build'], join(shared, 'work'));
      expect(result.code).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        `error: ${config} is owned by nobody (uid 65534), not by you or root: not using it, since a build runs the compiler flags a config gives`,
        `  hint: if you trust it, name it: tsbpf build --config ${config}; otherwise remove it or build from your own copy`,
      ]);
      expect(existsSync(marker)).toBe(false);
    },
  );

  it('says which config it builds', async () => {
    const dir = tempProject('tsbpf-config-');
    cpSync(fixture('readline.c'), join(dir, 'probe.c'));
    writeFileSync(
      join(dir, 'tsbpf.config.json'),
      JSON.stringify({ programs: [{ ident: 'probe', sources: ['probe.c'], cflags: ['-I', vmlinuxDir()] }] }),
    );
    mkdirSync(join(dir, 'src'));
    const result = await tsbpf(['build', '--target', 'bpfel'], join(dir, 'src'));
    expect(result.stderr).toBe('');
    expect(result.stdout.split('\n')[0]).toBe(`config ${join(dir, 'tsbpf.config.json')}`);
    expect(result.code).toBe(0);
  });
});
