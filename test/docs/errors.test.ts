// docs/errors.md's command-line table stays true: each row is run as written (its Command column,
// in a folder holding the files the rows name) and what it prints must match the row's
// `error:`, `hint:` and `note:` lines (`...` in one stands for what varies).
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeAll, describe, expect, it } from 'vitest';
import { vmlinuxDir } from '../helpers/bpf.js';
import { cliPath, repoRoot, tempDir } from '../helpers/paths.js';
import { reliabilityFixture } from '../reliability/helpers.js';

const createPath = join(repoRoot, 'dist', 'create.js');
const isRoot = process.getuid?.() === 0;

interface Row {
  name: string;
  command: string;
  expected: string[];
}

/** The rows of the "Command line" table. */
function rows(): Row[] {
  const page = readFileSync(join(repoRoot, 'docs', 'errors.md'), 'utf8');
  const start = page.indexOf('## Command line');
  const section = page.slice(start, page.indexOf('\n## ', start + 1));
  return section
    .split('\n')
    .filter((line) => line.startsWith('| ') && !line.startsWith('| Case') && !line.startsWith('| ---'))
    .map((line) => {
      const [name = '', command = '', printed = ''] = line.slice(2, -2).split(' | ');
      const code = (text: string) => [...text.matchAll(/`([^`]+)`/g)].map((m) => m[1] ?? '');
      return {
        name,
        command: code(command)[0] ?? '',
        expected: code(printed)
          .map((text) => text.trim())
          .filter((text) => /^(error|hint|note):/.test(text)),
      };
    });
}

/** How a row runs, where its Command column cannot say it all. */
interface Setup {
  env?: NodeJS.ProcessEnv;
  /** A folder of the test's folder to run in. */
  cwd?: string;
  /** Run as this user (uid = gid) from /. */
  user?: number;
  /** Expected on stdout with exit 0 (a note), not on stderr with exit 1. */
  note?: boolean;
  /** Start this command first and keep it running. */
  alongside?: string[];
  /** The folder the row writes for the one the test made (a config's parent, printed absolute). */
  shownAs?: { folder: string; as: string };
  /** Needs root (to chown a file to another user). */
  root?: boolean;
}

const setups: Record<string, Setup> = {
  'Missing clang': { env: { PATH: '/nonexistent' } },
  'Bad config': { cwd: 'bad-config' },
  'No clang processes': { cwd: 'project' },
  'A ring buffer without an event type': { note: true },
  'A folder you cannot write': { user: 65534 },
  'A second `tsbpf trace`': { alongside: ['trace'] },
  'A config someone else could have written': {
    cwd: 'foreign/work',
    shownAs: { folder: 'foreign', as: '/tmp/x' },
    root: true,
  },
};

const ring = `#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
struct event { u32 pid; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); __type(value, struct event); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, 4096); } other SEC(".maps");
SEC("tracepoint/syscalls/sys_enter_getppid") int on_getppid(void *ctx) {
  struct event *e = bpf_ringbuf_reserve(&other, sizeof(*e), 0);
  if (e) bpf_ringbuf_submit(e, 0);
  return 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

let dir = '';
beforeAll(() => {
  dir = tempDir('tsbpf-errors-');
  const good = reliabilityFixture('kinds');
  writeFileSync(
    join(dir, 'garbage.o'),
    Uint8Array.from({ length: 4096 }, (_, i) => (i * 2654435761) >>> 24),
  );
  writeFileSync(join(dir, 'trunc.o'), good.slice(0, 200));
  copyFileSync('/bin/true', join(dir, 'x86.o'));
  writeFileSync(join(dir, 'bad.c'), 'int f( {\n');
  copyFileSync(join(vmlinuxDir(), 'vmlinux.h'), join(dir, 'vmlinux.h'));
  writeFileSync(
    join(dir, 'mixed.c'),
    '#include "vmlinux.h"\n#include <linux/bpf.h>\n#include <bpf/bpf_helpers.h>\nchar LICENSE[] SEC("license") = "GPL";\n',
  );
  copyFileSync(join(repoRoot, 'test/fixtures/toolchain/minimal.c'), join(dir, 'probe.c'));
  writeFileSync(join(dir, 'ring.c'), ring);
  for (const [folder, config] of [
    ['bad-config', { programs: [{ ident: 'p', sources: ['p.c'], targets: 'x' }] }],
    ['project', { programs: [{ ident: 'p', sources: ['p.c'] }] }],
    ['ring-project', { programs: [{ ident: 'ring', sources: ['../ring.c'] }] }],
  ] as const) {
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'tsbpf.config.json'), JSON.stringify(config));
  }
  // Another user's config in a parent folder of where the build starts.
  mkdirSync(join(dir, 'foreign', 'work'), { recursive: true });
  writeFileSync(join(dir, 'foreign', 'tsbpf.config.json'), JSON.stringify({ programs: [] }));
  if (isRoot) chownSync(join(dir, 'foreign', 'tsbpf.config.json'), 65534, 65534);
});

/** `TSBPF_CLANG=x tsbpf gen ...` -> the bin, its arguments and the environment. */
function parse(command: string): { bin: string; args: string[]; env: NodeJS.ProcessEnv } {
  const words = command.split(' ');
  const env: NodeJS.ProcessEnv = {};
  while (/^[A-Z_]+=/.test(words[0] ?? '')) {
    const [key = '', value = ''] = (words.shift() ?? '').split('=');
    env[key] = value;
  }
  const bin = words.shift() === 'create-tsbpf' ? createPath : cliPath;
  return { bin, args: words, env };
}

/** A row's line as a pattern: literal, but `...` stands for what varies (an offset, the rest of a line). */
function pattern(line: string): RegExp {
  const parts = line.split(/ ?\.\.\.(?: |$)/).map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  return new RegExp(`^\\s*${parts.join(' ?.* ?')}${line.endsWith('...') ? '' : '$'}`, 'm');
}

describe('docs/errors.md: the command-line table', () => {
  const table = rows();
  it('has the rows this test knows how to run', () => {
    expect(table.length).toBeGreaterThan(20);
    const names = new Set(table.map((r) => r.name));
    for (const name of Object.keys(setups)) expect(names).toContain(name);
  });

  it('a reader that stops early ends create-tsbpf quietly with status 0 (the note under the table)', async () => {
    const child = spawn(process.execPath, [createPath, join(dir, 'piped'), '--type', 'xdp'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout.destroy(); // the reader is gone before the first line
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(stderr).toBe('');
    expect(code).toBe(0);
  });

  it('tsbpf build prints the same note as tsbpf gen for a ring buffer without an event type', () => {
    const row = table.find((r) => r.name === 'A ring buffer without an event type');
    const result = spawnSync(process.execPath, [cliPath, 'build'], {
      cwd: join(dir, 'ring-project'),
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    });
    expect(result.status, result.stderr).toBe(0);
    expect(row?.expected.length).toBe(1);
    for (const line of row?.expected ?? []) expect(result.stdout).toMatch(pattern(line));
  });

  for (const row of table) {
    const setup = setups[row.name] ?? {};
    // Rows that act as another user need root (to chown, or to run as uid 65534).
    it.skipIf((setup.user !== undefined || setup.root === true) && !isRoot)(
      `${row.name}: ${row.command}`,
      async () => {
        expect(row.expected.length, 'a row says what is printed').toBeGreaterThan(0);
        const { bin, args, env } = parse(row.command);
        const cwd = setup.user !== undefined ? '/' : join(dir, setup.cwd ?? '');
        const other = setup.alongside
          ? spawn(process.execPath, [cliPath, ...setup.alongside], { stdio: 'ignore' })
          : undefined;
        if (other) await sleep(1000);
        try {
          const result = spawnSync(process.execPath, [bin, ...args], {
            cwd,
            encoding: 'utf8',
            timeout: 60_000,
            env: { ...process.env, NO_COLOR: '1', ...env, ...setup.env },
            ...(setup.user === undefined ? {} : { uid: setup.user, gid: setup.user }),
          });
          // Paths print absolute; the rows show them as passed.
          let printed = (setup.note ? result.stdout : result.stderr).replaceAll(`${cwd}/`, '');
          if (setup.shownAs) printed = printed.replaceAll(join(dir, setup.shownAs.folder), setup.shownAs.as);
          expect(result.status, printed).toBe(setup.note ? 0 : 1);
          for (const line of row.expected) expect(printed).toMatch(pattern(line));
          expect(result.stderr).not.toMatch(/^\s+at /m);
        } finally {
          other?.kill();
        }
      },
    );
  }
});
