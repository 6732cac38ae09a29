// A verifier rejection points at something a user can open: the hint names the error's `.log`
// and TSBPF_VERBOSE=1, and a created project's main.ts prints the whole log when that is set.
// Drives a real project (tracepoint template, its C swapped for one the verifier refuses) as a
// user runs it. Needs root, clang and bpftool.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { transformSync } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { cliPath, repoRoot, tempDir } from '../helpers/paths.js';

// Dereferences a map lookup without the NULL check: "invalid mem access 'map_value_or_null'".
const rejected = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(max_entries, 1);
  __type(key, u32);
  __type(value, u64);
} counts SEC(".maps");
// The template's config binds this ring buffer to struct event.
struct event {
  u32 pid;
};
struct {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 4096);
} events SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_execve")
int tracepoint_execve(void *ctx) {
  u32 key = 0;
  u64 *value = bpf_map_lookup_elem(&counts, &key);
  *value += 1;
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

let project = '';
const run = (env: NodeJS.ProcessEnv = {}) =>
  spawnSync(process.execPath, ['dist/src/main.js'], {
    cwd: project,
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', TSBPF_VERBOSE: '', ...env },
  });

describe.skipIf(process.getuid?.() !== 0)('a verifier rejection in a created project', () => {
  beforeAll(() => {
    const dir = tempDir('tsbpf-verifier-');
    project = join(dir, 'probe');
    const created = spawnSync(
      process.execPath,
      [join(repoRoot, 'dist', 'create.js'), project, '--type', 'tracepoint'],
      { encoding: 'utf8' },
    );
    expect(created.status, created.stderr).toBe(0);
    mkdirSync(join(project, 'node_modules'));
    symlinkSync(repoRoot, join(project, 'node_modules', 'tsbpf'), 'dir');
    writeFileSync(join(project, 'src', 'execsnoop.bpf.c'), rejected);
    const built = spawnSync(process.execPath, [cliPath, 'build'], { cwd: project, encoding: 'utf8' });
    expect(built.status, built.stdout + built.stderr).toBe(0);
    // What `tsc -b` makes of src/, without the type check (the loader no longer fits main.ts).
    mkdirSync(join(project, 'dist', 'src'), { recursive: true });
    for (const name of readdirSync(join(project, 'src')).filter((n) => n.endsWith('.ts'))) {
      const { code } = transformSync(readFileSync(join(project, 'src', name), 'utf8'), {
        loader: 'ts',
        format: 'esm',
        target: 'node20',
      });
      writeFileSync(join(project, 'dist', 'src', name.replace(/\.ts$/, '.js')), code);
    }
  }, 120_000);

  it('says where the whole log is, and main.ts prints it with TSBPF_VERBOSE=1', () => {
    const quiet = run();
    expect(quiet.status).toBe(1);
    expect(quiet.stderr).toMatch(/^error: .*tracepoint_execve/m);
    expect(quiet.stderr).toMatch(/^hint: .*\.log .*TSBPF_VERBOSE=1/m);
    expect(quiet.stderr).toContain('Run with TSBPF_VERBOSE=1 to print the whole verifier log.');
    expect(quiet.stderr).not.toMatch(/processed \d+ insns/);

    const verbose = run({ TSBPF_VERBOSE: '1' });
    expect(verbose.status).toBe(1);
    expect(verbose.stderr).toMatch(/invalid mem access 'map_value_or_null'/);
    expect(verbose.stderr).toMatch(/processed \d+ insns/);
  });
});
