// The per-user cache is used only when nobody else could have written it: folders and files of
// this user, writable by nobody else, never through a symlink. A planted toolchain.json (another
// user's, or one naming a clang that discovery would not pick) never makes a build run that clang,
// and never reaches the stamp committed with the outputs.
import {
  chmodSync,
  chownSync,
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { readUserToolchain, toolFingerprint, writeUserToolchain } from '../../src/build/toolcache.js';
import { readTrustedCacheFile, trustedCacheDir } from '../../src/toolchain/cache-trust.js';
import { findToolchain, type Toolchain } from '../../src/toolchain/discover.js';
import { tsbpf } from '../fixtures/gen/helpers.js';
import { repoRoot, tempDir } from '../helpers/paths.js';

const isRoot = process.geteuid?.() === 0;
const needsRoot = 'needs root: chown to uid 65534';

/** A fresh cache home (as XDG_CACHE_HOME) with its tsbpf/ folder, and an env naming it. */
function cacheHome() {
  const home = tempDir('tsbpf-cache-home-');
  const cache = join(home, 'tsbpf');
  mkdirSync(cache, { mode: 0o700 });
  return { home, cache, env: { ...process.env, XDG_CACHE_HOME: home } };
}

const someTools = (): Toolchain => ({
  clang: { path: '/usr/bin/clang', version: '14.0.6' },
  strip: { path: '/usr/bin/llvm-strip', version: '14.0.6' },
});

describe('trustedCacheDir', () => {
  it("trusts this user's own folder, and creates missing ones with mode 0700", () => {
    const { cache, env } = cacheHome();
    expect(trustedCacheDir(undefined, { env })).toBe(cache);
    expect(trustedCacheDir('pch', { env })).toBeUndefined(); // missing, not asked to create
    expect(trustedCacheDir('pch', { env, create: true })).toBe(join(cache, 'pch'));
    expect(statSync(join(cache, 'pch')).mode & 0o777).toBe(0o700);
    const fresh = { ...process.env, XDG_CACHE_HOME: join(tempDir(), 'new', 'home') };
    expect(trustedCacheDir(undefined, { env: fresh, create: true })).toBe(
      join(fresh.XDG_CACHE_HOME, 'tsbpf'),
    );
    expect(statSync(join(fresh.XDG_CACHE_HOME, 'tsbpf')).mode & 0o777).toBe(0o700);
  });

  it('ignores a cache folder writable by others, or by its group', () => {
    const { cache, env } = cacheHome();
    chmodSync(cache, 0o777);
    expect(trustedCacheDir(undefined, { env })).toBeUndefined();
    chmodSync(cache, 0o770);
    expect(trustedCacheDir(undefined, { env, create: true })).toBeUndefined();
    chmodSync(cache, 0o700);
    mkdirSync(join(cache, 'pch'), { mode: 0o700 });
    chmodSync(join(cache, 'pch'), 0o757);
    expect(trustedCacheDir('pch', { env, create: true })).toBeUndefined();
  });

  it('ignores a cache whose parent others could rename it in, but not a sticky one like /tmp', () => {
    const { home, env } = cacheHome();
    chmodSync(home, 0o777);
    expect(trustedCacheDir(undefined, { env })).toBeUndefined();
    chmodSync(home, 0o1777);
    expect(trustedCacheDir(undefined, { env })).toBe(join(home, 'tsbpf'));
  });

  it('does not follow a symlinked cache folder', () => {
    const home = tempDir('tsbpf-cache-home-');
    const real = tempDir('tsbpf-cache-real-');
    symlinkSync(real, join(home, 'tsbpf'));
    const env = { ...process.env, XDG_CACHE_HOME: home };
    expect(trustedCacheDir(undefined, { env, create: true })).toBeUndefined();
  });

  it.skipIf(!isRoot)(`ignores a cache folder owned by another user (${needsRoot})`, () => {
    const { cache, env } = cacheHome();
    chownSync(cache, 65534, 65534);
    expect(trustedCacheDir(undefined, { env })).toBeUndefined();
  });
});

describe('the per-user toolchain.json', () => {
  it('is read back when this user wrote it, with mode 0600', () => {
    const { cache, env } = cacheHome();
    writeUserToolchain(someTools(), env);
    expect(readUserToolchain(env)?.tools).toEqual(someTools());
    expect(statSync(join(cache, 'toolchain.json')).mode & 0o777).toBe(0o600);
  });

  it.skipIf(!isRoot)(`is ignored when another user owns it (${needsRoot})`, () => {
    const { cache, env } = cacheHome();
    writeUserToolchain(someTools(), env);
    chownSync(join(cache, 'toolchain.json'), 65534, 65534);
    expect(readUserToolchain(env)).toBeUndefined();
  });

  it('is ignored when writable by others', () => {
    const { cache, env } = cacheHome();
    writeUserToolchain(someTools(), env);
    chmodSync(join(cache, 'toolchain.json'), 0o666);
    expect(readUserToolchain(env)).toBeUndefined();
  });

  it('is not read or written through a symlink, nor through a predictable temporary', () => {
    const { cache, env } = cacheHome();
    const outside = join(tempDir(), 'precious');
    const planted = JSON.stringify({ fingerprint: 'x', tools: someTools() });
    writeFileSync(outside, planted);
    symlinkSync(outside, join(cache, 'toolchain.json'));
    expect(readUserToolchain(env)).toBeUndefined();
    expect(readTrustedCacheFile(join(cache, 'toolchain.json'))).toBeUndefined();
    // The writer used to create `toolchain.json.<pid>.tmp`, which anyone could link elsewhere first.
    symlinkSync(outside, join(cache, `toolchain.json.${process.pid}.tmp`));
    writeUserToolchain(someTools(), env);
    expect(readFileSync(outside, 'utf8')).toBe(planted);
    expect(lstatSync(join(cache, 'toolchain.json')).isFile()).toBe(true);
  });

  it('is neither read nor written in an untrusted cache', () => {
    const { cache, env } = cacheHome();
    writeUserToolchain(someTools(), env);
    chmodSync(cache, 0o777);
    expect(readUserToolchain(env)).toBeUndefined();
    rmSync(join(cache, 'toolchain.json'));
    writeUserToolchain(someTools(), env);
    expect(existsSync(join(cache, 'toolchain.json'))).toBe(false);
  });
});

describe('a build with a planted clang', () => {
  /** A project with one program, and a "clang" that records being run before running the real one. */
  async function setUp() {
    const project = tempDir('tsbpf-cache-trust-');
    cpSync(join(repoRoot, 'test', 'fixtures', 'toolchain', 'minimal.c'), join(project, 'probe.c'));
    writeFileSync(
      join(project, 'tsbpf.config.json'),
      JSON.stringify({ programs: [{ ident: 'probe', source: 'probe.c', outDir: 'gen' }] }),
    );
    const real = await findToolchain();
    const bin = tempDir('tsbpf-evil-bin-');
    const ran = join(tempDir(), 'ran');
    const evil = join(bin, 'clang');
    writeFileSync(evil, `#!/bin/sh\necho ran >> ${ran}\nexec ${real.clang.path} "$@"\n`, { mode: 0o755 });
    const tools: Toolchain = { ...real, clang: { path: evil, version: real.clang.version } };
    // What an attacker would write: the fingerprint is computed as tsbpf does, for the same env.
    const planted = `${JSON.stringify({ fingerprint: toolFingerprint(tools), tools })}\n`;
    return { project, bin, ran, evil, real, planted };
  }

  it.skipIf(!isRoot)(`uses the real clang when toolchain.json is another user's (${needsRoot})`, async () => {
    const { project, bin, ran, evil, real, planted } = await setUp();
    const { home, cache } = cacheHome();
    writeFileSync(join(cache, 'toolchain.json'), planted);
    for (const path of [join(cache, 'toolchain.json'), cache, bin, evil]) chownSync(path, 65534, 65534);
    const result = await tsbpf(['build'], project, { XDG_CACHE_HOME: home });
    expect(result.code, result.stderr).toBe(0);
    expect(existsSync(ran)).toBe(false);
    const stamp = readFileSync(join(project, 'gen', '.probe.tsbpf.json'), 'utf8');
    expect(stamp).not.toContain(evil);
    expect(JSON.parse(stamp).toolchain.tools.clang.path).toBe(real.clang.path);
    expect(result.stderr).toMatch(/cache folder .*tsbpf is owned by nobody \(uid 65534\).*cache is disabled/);
    expect(readFileSync(join(cache, 'toolchain.json'), 'utf8')).toBe(planted); // not rewritten either
  });

  it('uses the real clang when a (committed) stamp names one discovery would not pick', async () => {
    const { project, ran, evil, real, planted } = await setUp();
    const { home } = cacheHome();
    const first = await tsbpf(['build'], project, { XDG_CACHE_HOME: home });
    expect(first.code, first.stderr).toBe(0);
    const stampFile = join(project, 'gen', '.probe.tsbpf.json');
    const stamp = JSON.parse(readFileSync(stampFile, 'utf8'));
    stamp.toolchain = JSON.parse(planted);
    writeFileSync(stampFile, JSON.stringify(stamp));
    writeFileSync(join(project, 'probe.c'), `${readFileSync(join(project, 'probe.c'), 'utf8')}\n`);
    const check = await tsbpf(['build', '--check'], project, { XDG_CACHE_HOME: home });
    expect(check.code).toBe(1);
    const again = await tsbpf(['build'], project, { XDG_CACHE_HOME: home });
    expect(again.code, again.stderr).toBe(0);
    expect(existsSync(ran)).toBe(false);
    expect(JSON.parse(readFileSync(stampFile, 'utf8')).toolchain.tools.clang.path).toBe(real.clang.path);
    expect(readFileSync(stampFile, 'utf8')).not.toContain(evil);
  });
});
