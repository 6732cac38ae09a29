// The incremental-build stamp, atomic output sets and the job limiter.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { OutputSet, sweepTemporaries, writeFileAtomic, writeFileExclusive } from '../../src/atomic.js';
import { Limiter } from '../../src/build/pool.js';
import {
  FileHasher,
  formatStamp,
  readStamp,
  settingsKey,
  sha256,
  staleReasons,
  stampPath,
  stampRelative,
  stampVersion,
} from '../../src/build/stamp.js';
import { reuseToolchain, toolFingerprint } from '../../src/build/toolcache.js';
import { tempDir } from '../helpers/paths.js';

describe('stamps', () => {
  function built() {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.c'), 'int a;');
    writeFileSync(join(dir, 'a.h'), '#define A 1');
    writeFileSync(join(dir, 'a.ts'), 'export {}');
    const file = stampPath(dir, 'a');
    writeFileSync(
      file,
      formatStamp({
        version: stampVersion,
        key: 'k1',
        inputs: { 'a.c': sha256('int a;'), 'a.h': sha256('#define A 1') },
        outputs: { 'a.ts': sha256('export {}') },
      }),
    );
    return { dir, file };
  }

  it('is up to date while nothing changed', () => {
    const { dir, file } = built();
    expect(staleReasons({ dir, stampFile: file, key: 'k1', hasher: new FileHasher() })).toEqual([]);
    expect(file).toBe(join(dir, '.a.tsbpf.json'));
  });

  it('names every reason to rebuild', () => {
    const { dir, file } = built();
    writeFileSync(join(dir, 'a.h'), '#define A 2');
    writeFileSync(join(dir, 'a.ts'), 'edited');
    rmSync(join(dir, 'a.c'));
    expect(staleReasons({ dir, stampFile: file, key: 'k2', hasher: new FileHasher() })).toEqual([
      'settings, flags or tsbpf version changed',
      'a.ts was modified',
      'a.c is gone',
      'a.h changed',
    ]);
  });

  it('does not judge the machine: inputs outside the project may differ or be missing', () => {
    const { dir, file } = built();
    const system = join(tempDir(), 'bpf_helpers.h');
    writeFileSync(system, '/* libbpf 1.1 */');
    const stamp = readStamp(file)!;
    stamp.inputs[system] = sha256('/* libbpf 1.1 */');
    stamp.inputs['/nonexistent/usr/include/bpf/bpf_tracing.h'] = sha256('x');
    writeFileSync(file, formatStamp(stamp));
    writeFileSync(system, '/* libbpf 1.3 */');
    expect(staleReasons({ dir, stampFile: file, key: 'k1', hasher: new FileHasher() })).toEqual([]);
    // The project's own header still counts.
    writeFileSync(join(dir, 'a.h'), '#define A 2');
    expect(staleReasons({ dir, stampFile: file, key: 'k1', hasher: new FileHasher() })).toEqual([
      'a.h changed',
    ]);
  });

  it('judges by content, not by modification time', () => {
    const { dir, file } = built();
    writeFileSync(join(dir, 'a.h'), '#define A 1');
    expect(staleReasons({ dir, stampFile: file, key: 'k1', hasher: new FileHasher() })).toEqual([]);
  });

  it('treats a missing or foreign stamp as never built', () => {
    const dir = tempDir();
    expect(staleReasons({ dir, stampFile: join(dir, 'none'), key: 'k', hasher: new FileHasher() })).toEqual([
      'never built (no stamp)',
    ]);
    writeFileSync(join(dir, 'old'), JSON.stringify({ version: 0, key: 'k', inputs: {}, outputs: {} }));
    expect(readStamp(join(dir, 'old'))).toBeUndefined();
  });

  it('hashes settings independently of key order', () => {
    expect(settingsKey({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(settingsKey({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(settingsKey({ a: 1 })).not.toBe(settingsKey({ a: 2 }));
  });

  it('writes paths inside the project relative to the stamp, others absolute', () => {
    expect(stampRelative('/p/src/gen', '/p', '/p/src/bpf/a.h')).toBe('../bpf/a.h');
    expect(stampRelative('/p/src/gen', '/p', '/usr/include/bpf/bpf_helpers.h')).toBe(
      '/usr/include/bpf/bpf_helpers.h',
    );
  });

  /** A folder with executable `clang` and `llvm-strip`, and the tools as remembered from it. */
  function fakeTools() {
    const dir = tempDir();
    const clang = join(dir, 'clang');
    const strip = join(dir, 'llvm-strip');
    for (const path of [clang, strip]) writeFileSync(path, '#!/bin/sh\n', { mode: 0o755 });
    const tools = { clang: { path: clang, version: '14.0.6' }, strip: { path: strip, version: '14.0.6' } };
    const env = { PATH: dir };
    return { dir, tools, env, cached: { fingerprint: toolFingerprint(tools, env), tools } };
  }

  it('remembers the toolchain only while nothing it depends on changed', () => {
    const { dir, tools, env, cached } = fakeTools();
    expect(reuseToolchain(cached, env)).toBe(tools);
    expect(reuseToolchain(cached, { PATH: `${dir}:/usr/bin` })).toBeUndefined();
    writeFileSync(join(dir, 'clang-19'), '');
    expect(reuseToolchain(cached, env)).toBeUndefined();
  });

  it('does not reuse a remembered tool that discovery would not pick now (a planted stamp)', () => {
    const { tools, env } = fakeTools();
    // Fingerprints match, but the clang is not on PATH, or PATH names another with TSBPF_CLANG.
    const elsewhere = tempDir();
    const planted = join(elsewhere, 'clang');
    writeFileSync(planted, '#!/bin/sh\n', { mode: 0o755 });
    const foreign = { ...tools, clang: { path: planted, version: '14.0.6' } };
    expect(
      reuseToolchain({ fingerprint: toolFingerprint(foreign, env), tools: foreign }, env),
    ).toBeUndefined();
    const named = { ...env, TSBPF_CLANG: '/usr/bin/clang' };
    expect(reuseToolchain({ fingerprint: toolFingerprint(tools, named), tools }, named)).toBeUndefined();
  });

  it('does not reuse a remembered tool that another user could have changed', () => {
    const { dir, tools, env } = fakeTools();
    chmodSync(tools.clang.path, 0o777);
    expect(reuseToolchain({ fingerprint: toolFingerprint(tools, env), tools }, env)).toBeUndefined();
    chmodSync(tools.clang.path, 0o755);
    chmodSync(dir, 0o777);
    expect(reuseToolchain({ fingerprint: toolFingerprint(tools, env), tools }, env)).toBeUndefined();
    chmodSync(dir, 0o700);
    expect(reuseToolchain({ fingerprint: toolFingerprint(tools, env), tools }, env)).toBe(tools);
  });

  it('does not reuse a tool that an earlier folder on PATH shadows', () => {
    const { dir, tools } = fakeTools();
    const first = tempDir();
    for (const name of ['clang', 'llvm-strip-15'])
      writeFileSync(join(first, name), '#!/bin/sh\n', { mode: 0o755 });
    writeFileSync(join(dir, 'llvm-strip-15'), '#!/bin/sh\n', { mode: 0o755 });
    const env = { PATH: `${first}:${dir}` };
    expect(reuseToolchain({ fingerprint: toolFingerprint(tools, env), tools }, env)).toBeUndefined();
    // A numbered llvm-strip is a candidate only where PATH finds that name first.
    const strips = (path: string) => ({
      ...tools,
      clang: { path: join(first, 'clang'), version: '14.0.6' },
      strip: { path, version: '15.0.7' },
    });
    const shadowed = strips(join(dir, 'llvm-strip-15'));
    expect(
      reuseToolchain({ fingerprint: toolFingerprint(shadowed, env), tools: shadowed }, env),
    ).toBeUndefined();
    const found = strips(join(first, 'llvm-strip-15'));
    expect(reuseToolchain({ fingerprint: toolFingerprint(found, env), tools: found }, env)).toBe(found);
  });

  it.skipIf(process.geteuid?.() !== 0)(
    'does not reuse a tool owned by another user (needs root: chown)',
    () => {
      const { tools, env } = fakeTools();
      chownSync(tools.clang.path, 65534, 65534);
      expect(reuseToolchain({ fingerprint: toolFingerprint(tools, env), tools }, env)).toBeUndefined();
    },
  );
});

describe('atomic outputs', () => {
  it('replaces all files of a set at commit, and none before', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.ts'), 'old a');
    const set = new OutputSet();
    set.stage(join(dir, 'a.ts'), 'new a');
    set.stage(join(dir, 'sub', 'b.o'), new Uint8Array([1, 2]));
    expect(readFileSync(join(dir, 'a.ts'), 'utf8')).toBe('old a');
    expect(existsSync(join(dir, 'sub', 'b.o'))).toBe(false);
    set.commit();
    expect(readFileSync(join(dir, 'a.ts'), 'utf8')).toBe('new a');
    expect([...readFileSync(join(dir, 'sub', 'b.o'))]).toEqual([1, 2]);
    expect(readdirSync(dir).sort()).toEqual(['a.ts', 'sub']);
  });

  it('leaves the old files and no temporaries when aborted', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.ts'), 'old');
    const set = new OutputSet();
    set.stage(join(dir, 'a.ts'), 'new');
    set.abort();
    expect(readFileSync(join(dir, 'a.ts'), 'utf8')).toBe('old');
    expect(readdirSync(dir)).toEqual(['a.ts']);
  });

  it('writes single files atomically and sweeps what killed writers left, not what live ones write', () => {
    const dir = tempDir();
    writeFileAtomic(join(dir, 'x.ts'), 'x');
    expect(readdirSync(dir)).toEqual(['x.ts']);
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const left = [
      `.probe.ts.tsbpf-tmp-${dead}-abcd`,
      `.other_bpfel.o.tsbpf-tmp-${dead}-0123`,
      `..probe.tsbpf.json.tsbpf-tmp-${dead}-ff`,
    ];
    const writing = [`.probe.ts.tsbpf-tmp-${process.pid}-abcd`, '.probe.ts.tsbpf-tmp-1-abcd'];
    const unrelated = ['.probe.ts.tsbpf-tmp-notapid-ab', 'probe.ts.tsbpf-tmp-99999999-ab'];
    for (const name of [...left, ...writing, ...unrelated]) writeFileSync(join(dir, name), 'partial');
    sweepTemporaries(dir);
    expect(readdirSync(dir).sort()).toEqual([...writing, ...unrelated, 'x.ts'].sort());
  });

  it('sweeps only regular files of this user: not folders, symlinks or fifos named like temporaries', () => {
    const dir = tempDir();
    const outside = join(tempDir(), 'precious');
    writeFileSync(outside, 'keep');
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const folder = `.probe.ts.tsbpf-tmp-${dead}-deadbeef`;
    const link = `.probe.ts.tsbpf-tmp-${dead}-cafe`;
    const dangling = `.probe.ts.tsbpf-tmp-${dead}-cafe01`;
    const fifo = `.probe.ts.tsbpf-tmp-${dead}-f1f0`;
    const garbage = `.probe.ts.tsbpf-tmp-${dead}-0000`;
    mkdirSync(join(dir, folder));
    writeFileSync(join(dir, folder, 'inside'), 'x');
    symlinkSync(outside, join(dir, link));
    symlinkSync(join(dir, 'nowhere'), join(dir, dangling));
    expect(spawnSync('mkfifo', [join(dir, fifo)]).status).toBe(0);
    writeFileSync(join(dir, garbage), 'partial');
    expect(() => sweepTemporaries(dir)).not.toThrow();
    expect(readdirSync(dir).sort()).toEqual([folder, link, dangling, fifo].sort());
    expect(readdirSync(join(dir, folder))).toEqual(['inside']);
    expect(lstatSync(join(dir, link)).isSymbolicLink()).toBe(true);
    expect(lstatSync(join(dir, fifo)).isFIFO()).toBe(true);
    expect(readFileSync(outside, 'utf8')).toBe('keep');
  });

  it.skipIf(process.geteuid?.() !== 0)("leaves another user's file alone (needs root: chown)", () => {
    const dir = tempDir();
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    const theirs = join(dir, `.probe.ts.tsbpf-tmp-${dead}-abab`);
    writeFileSync(theirs, 'theirs');
    chownSync(theirs, 65534, 65534);
    sweepTemporaries(dir);
    expect(readFileSync(theirs, 'utf8')).toBe('theirs');
  });

  it('never writes through a symlink where a new file goes', () => {
    const dir = tempDir();
    const outside = join(tempDir(), 'precious');
    writeFileSync(outside, 'keep');
    symlinkSync(outside, join(dir, 'planted'));
    expect(() => writeFileExclusive(join(dir, 'planted'), 'evil')).toThrow(/EEXIST/);
    symlinkSync(join(dir, 'nowhere'), join(dir, 'dangling'));
    expect(() => writeFileExclusive(join(dir, 'dangling'), 'evil')).toThrow(/EEXIST/);
    expect(existsSync(join(dir, 'nowhere'))).toBe(false);
    expect(readFileSync(outside, 'utf8')).toBe('keep');
    writeFileExclusive(join(dir, 'fresh'), 'ok', 0o600);
    expect(lstatSync(join(dir, 'fresh')).mode & 0o777).toBe(0o600);
  });
});

describe('job limits', () => {
  it('never runs more than the limit at once', async () => {
    const limiter = new Limiter(2);
    let running = 0;
    let most = 0;
    const task = () =>
      limiter.run(async () => {
        running++;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
        return most;
      });
    await Promise.all(Array.from({ length: 8 }, task));
    expect(most).toBe(2);
  });
});
