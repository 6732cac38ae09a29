// The precompiled vmlinux.h, with the machine's clang: made on the second compile that wants it,
// the same object bytes as a plain compile (stripped or not, both byte orders), the header still
// tracked as a dependency, and a plain compile whenever the cached copy cannot be used.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { setVerbose } from '../../src/output.js';
import {
  ClangError,
  type CompileOptions,
  compile,
  defaultIncludeDirs,
  findToolchain,
  generateVmlinux,
  resolveTargets,
  type Toolchain,
} from '../../src/toolchain/index.js';
import { type PrecompiledHeaderOptions, precompiledHeaderFor } from '../../src/toolchain/pch.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const fixtures = join(repoRoot, 'test', 'fixtures', 'toolchain');
const [bpfel, bpfeb] = resolveTargets(['bpfel', 'bpfeb']);

let toolchain: Toolchain;
let vmlinuxDir: string;
let cache: string;
const savedCacheHome = process.env.XDG_CACHE_HOME;

beforeAll(async () => {
  toolchain = await findToolchain();
  vmlinuxDir = tempDir('tsbpf-pch-vmlinux-');
  await generateVmlinux({ out: join(vmlinuxDir, 'vmlinux.h') });
  cache = tempDir('tsbpf-pch-cache-');
  process.env.XDG_CACHE_HOME = cache;
});

afterAll(() => {
  if (savedCacheHome === undefined) delete process.env.XDG_CACHE_HOME;
  else process.env.XDG_CACHE_HOME = savedCacheHome;
});

const pchDir = () => join(cache, 'tsbpf', 'pch');
const cached = (suffix: string) =>
  existsSync(pchDir()) ? readdirSync(pchDir()).filter((f) => f.endsWith(suffix)) : [];

/** A project folder holding one of the toolchain fixtures as probe.c. */
function project(fixture: string): string {
  const dir = tempDir('tsbpf-pch-');
  copyFileSync(join(fixtures, fixture), join(dir, 'probe.c'));
  return dir;
}

/** The precompiled header for `source` in `dir`, as compile() would ask for it. */
function headerFor(dir: string | undefined, source: string, extra: Partial<PrecompiledHeaderOptions> = {}) {
  return precompiledHeaderFor({
    toolchain,
    source,
    ...(dir ? { cwd: dir } : {}),
    target: bpfel!,
    includeDirs: defaultIncludeDirs({ vmlinuxDir }),
    ...extra,
  });
}

function options(dir: string, extra: Partial<CompileOptions> = {}): CompileOptions {
  return {
    toolchain,
    source: 'probe.c',
    output: 'probe.o',
    target: bpfel!,
    cwd: dir,
    includeDirs: defaultIncludeDirs({ vmlinuxDir }),
    color: false,
    ...extra,
  };
}

describe('precompiled vmlinux.h', () => {
  it('is made when a second compile wants it, and gives the same objects as plain compiles', async () => {
    const dir = project('compat.c');
    const plain = async (target = bpfel!, strip = true) => {
      const out = `plain-${target.suffix}-${strip}.o`;
      await compile(options(dir, { target, strip, output: out, precompiledHeader: false }));
      return readFileSync(join(dir, out));
    };

    // The first compile that could use it leaves a mark and compiles plainly.
    await compile(options(dir, { output: 'first.o' }));
    expect(cached('.pch')).toEqual([]);
    expect(cached('.wanted')).toHaveLength(1);

    for (const target of [bpfel!, bpfeb!]) {
      for (const strip of [true, false]) {
        const out = `pch-${target.suffix}-${strip}.o`;
        const result = await compile(options(dir, { target, strip, output: out, depfile: `${out}.d` }));
        expect(readFileSync(join(dir, out)).equals(await plain(target, strip))).toBe(true);
        // The header is still a dependency of the object, so a new vmlinux.h rebuilds it.
        expect(result.dependencies).toContain(join(vmlinuxDir, 'vmlinux.h'));
      }
    }
    // One per byte order (bpfeb's first compile was the second request in this process).
    expect(cached('.pch')).toHaveLength(2);
    expect(cached('.wanted')).toEqual([]);
    expect(readFileSync(join(dir, 'first.o')).equals(await plain())).toBe(true);
  });

  it('is used for a later compile from another folder without being made again', async () => {
    const before = readdirSync(pchDir()).sort();
    const dir = project('compat.c');
    const pch = await headerFor(dir, 'probe.c');
    expect(pch).toBeDefined();
    expect(before.map((f) => join(pchDir(), f))).toContain(pch);
    expect(readdirSync(pchDir()).sort()).toEqual(before);
  });

  it('is not used when the source does not start with the include, or flags could change it', async () => {
    const dir = project('compat.c');
    const text = readFileSync(join(dir, 'probe.c'), 'utf8');
    writeFileSync(join(dir, 'late.c'), `#define BPF_NO_PRESERVE_ACCESS_INDEX\n${text}`);
    const ask = (source: string, cflags: string[] = []) => headerFor(dir, source, { cflags });
    expect(await ask('probe.c')).toBeDefined();
    // Other macros or warnings make another header (its first request only leaves a mark).
    expect(await ask('probe.c', ['-DDEBUG=1', '-Wall'])).toBeUndefined();
    expect(await ask('probe.c', ['-DDEBUG=1', '-Wall'])).toBeDefined();
    expect(await ask('late.c')).toBeUndefined();
    expect(await ask('probe.c', ['-include', 'other.h'])).toBeUndefined();
    expect(await ask('probe.c', ['-I', '/elsewhere'])).toBeUndefined();
    expect(await headerFor(dir, 'probe.c', { env: { ...process.env, TSBPF_NO_PCH: '1' } })).toBeUndefined();
    // minimal.c starts with <linux/bpf.h>: a plain compile, and no mark left for it.
    const marks = cached('.wanted');
    expect(await ask(join(fixtures, 'minimal.c'))).toBeUndefined();
    expect(cached('.wanted')).toEqual(marks);
  });

  it('is made anew for a changed vmlinux.h', async () => {
    const changedDir = tempDir('tsbpf-pch-vmlinux2-');
    writeFileSync(
      join(changedDir, 'vmlinux.h'),
      `${readFileSync(join(vmlinuxDir, 'vmlinux.h'), 'utf8')}\nstruct tsbpf_added { int x; };\n`,
    );
    const ask = (dir: string) =>
      headerFor(undefined, join(fixtures, 'compat.c'), {
        includeDirs: defaultIncludeDirs({ vmlinuxDir: dir }),
      });
    const old = await ask(vmlinuxDir);
    expect(await ask(changedDir)).toBeUndefined(); // first request: a mark
    // Making one also sweeps what a killed build left, and not what a running one is writing.
    const killed = `.${basename(old!)}.tsbpf-tmp-${spawnSync(process.execPath, ['-e', '']).pid}-ab`;
    const running = `.${basename(old!)}.tsbpf-tmp-${process.pid}-cd`;
    for (const name of [killed, running]) writeFileSync(join(pchDir(), name), 'partial');
    const made = await ask(changedDir);
    expect(made).toBeDefined();
    expect(made).not.toBe(old);
    expect(existsSync(join(pchDir(), killed))).toBe(false);
    expect(existsSync(join(pchDir(), running))).toBe(true);
    rmSync(join(pchDir(), running));
  });

  it('falls back to a plain compile when the cached copy is damaged, and removes it', async () => {
    const dir = project('compat.c');
    const pch = await headerFor(dir, 'probe.c', { target: bpfeb! });
    expect(pch).toBeDefined();
    truncateSync(pch!, 4096);
    await compile(options(dir, { target: bpfeb!, output: 'after.o' }));
    await compile(options(dir, { target: bpfeb!, output: 'plain.o', precompiledHeader: false }));
    expect(readFileSync(join(dir, 'after.o')).equals(readFileSync(join(dir, 'plain.o')))).toBe(true);
    expect(existsSync(pch!)).toBe(false);
  });

  it('reports errors in the source as a plain compile does', async () => {
    const dir = project('compat.c');
    writeFileSync(join(dir, 'probe.c'), '#include "vmlinux.h"\nint broken( {\n');
    const errors: ClangError[] = [];
    for (const precompiledHeader of [true, true, false]) {
      errors.push(
        await compile(options(dir, { precompiledHeader })).then(
          () => {
            throw new Error('compiled');
          },
          (e: ClangError) => e,
        ),
      );
    }
    expect(errors[0]).toBeInstanceOf(ClangError);
    expect(errors[1]?.diagnostics).toMatch(/probe\.c:2:\d+: error/);
    expect(errors[1]?.diagnostics).toBe(errors[2]?.diagnostics);
  });
});

describe('precompiled vmlinux.h from an untrusted cache', () => {
  /** The debug lines written while `run` runs. */
  async function debugLines<T>(run: () => Promise<T>): Promise<{ value: T; lines: string }> {
    setVerbose(true);
    let lines = '';
    const spy = vi.spyOn(process.stderr, 'write').mockImplementation((chunk) => {
      lines += String(chunk);
      return true;
    });
    try {
      return { value: await run(), lines };
    } finally {
      spy.mockRestore();
    }
  }

  /** The precompiled header for the fixture with these flags, made now if need be. */
  async function made(dir: string, cflags: string[] = []) {
    const pch =
      (await headerFor(dir, 'probe.c', { cflags })) ?? (await headerFor(dir, 'probe.c', { cflags }));
    expect(pch).toBeDefined();
    return pch!;
  }

  it('does not use a header whose bytes were swapped (same name), and compiles plainly', async () => {
    const dir = project('compat.c');
    const pch = await made(dir);
    const other = await made(dir, ['-DSWAPPED=1']);
    copyFileSync(other, pch);
    const swapped = readFileSync(pch);
    const { value, lines } = await debugLines(() => headerFor(dir, 'probe.c'));
    expect(lines).toContain(`${pch} does not match its recorded digest; removed it, compiling without`);
    // Made anew (it was wanted before in this process), never the swapped bytes.
    if (value) expect(readFileSync(value).equals(swapped)).toBe(false);
    copyFileSync(other, pch);
    const { lines: compiled } = await debugLines(() => compile(options(dir, { output: 'after.o' })));
    expect(compiled).not.toMatch(new RegExp(`-include-pch ${pch}(?!\\S)[^\\n]*probe\\.c`));
    await compile(options(dir, { output: 'plain.o', precompiledHeader: false }));
    expect(readFileSync(join(dir, 'after.o')).equals(readFileSync(join(dir, 'plain.o')))).toBe(true);
  });

  it('still uses a header that matches its digest, hashing it once per process', async () => {
    const dir = project('compat.c');
    const pch = await made(dir);
    const { value, lines } = await debugLines(() => headerFor(dir, 'probe.c'));
    expect(value).toBe(pch);
    expect(lines).not.toContain('hashed');
  });

  it('does not follow a symlinked header', async () => {
    const dir = project('compat.c');
    const pch = await made(dir, ['-DLINKED=1']);
    const outside = join(tempDir(), 'precious');
    copyFileSync(pch, outside);
    const before = statSync(outside);
    rmSync(pch);
    symlinkSync(outside, pch);
    expect(await headerFor(dir, 'probe.c', { cflags: ['-DLINKED=1'] })).toBeUndefined();
    expect(statSync(outside).mtimeMs).toBe(before.mtimeMs);
    expect(existsSync(pch)).toBe(false); // the link, removed without following it
  });

  it('does not create the .wanted mark through a symlink', async () => {
    const dir = project('compat.c');
    const flags = ['-DMARKED=1'];
    const marks = cached('.wanted');
    expect(await headerFor(dir, 'probe.c', { cflags: flags })).toBeUndefined();
    const mark = cached('.wanted').find((m) => !marks.includes(m))!;
    expect(mark).toBeDefined();
    // The same request in another cache (another process's view): the mark's name is predictable.
    const home = tempDir('tsbpf-pch-home-');
    mkdirSync(join(home, 'tsbpf', 'pch'), { recursive: true, mode: 0o700 });
    const target = join(tempDir(), 'created-through-link');
    symlinkSync(target, join(home, 'tsbpf', 'pch', mark));
    const env = { ...process.env, XDG_CACHE_HOME: home };
    expect(await headerFor(dir, 'probe.c', { cflags: flags, env })).toBeUndefined();
    expect(existsSync(target)).toBe(false);
    expect(lstatSync(join(home, 'tsbpf', 'pch', mark)).isFile()).toBe(true);
  });

  it('neither reads nor writes a cache folder others can write', async () => {
    const dir = project('compat.c');
    const home = tempDir('tsbpf-pch-home-');
    mkdirSync(join(home, 'tsbpf', 'pch'), { recursive: true, mode: 0o700 });
    chmodSync(join(home, 'tsbpf', 'pch'), 0o777);
    const env = { ...process.env, XDG_CACHE_HOME: home };
    const { lines } = await debugLines(async () => {
      for (let i = 0; i < 3; i++) expect(await headerFor(dir, 'probe.c', { env })).toBeUndefined();
    });
    expect(readdirSync(join(home, 'tsbpf', 'pch'))).toEqual([]);
    // Said once (a debug line, beside the one warning of the process), not once per compile.
    const said = lines.split('\n').filter((l) => l.endsWith('is writable by others; the cache is disabled'));
    expect(said.filter((l) => !l.includes('warning:'))).toHaveLength(1);
  });

  it.skipIf(process.geteuid?.() !== 0)(
    'does not use a header another user owns (needs root: chown to uid 65534)',
    async () => {
      const dir = project('compat.c');
      const pch = await made(dir, ['-DFOREIGN=1']);
      chownSync(pch, 65534, 65534);
      expect(await headerFor(dir, 'probe.c', { cflags: ['-DFOREIGN=1'] })).toBeUndefined();
      expect(existsSync(pch)).toBe(false);
    },
  );
});
